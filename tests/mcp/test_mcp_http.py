"""The streamable-HTTP MCP endpoint of a real ``memhub serve``, driven by the ``mcp`` package's client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from tests.support.api import assert_envelope
from tests.support.mcp_client import TOOLS, call, call_error
from tests.support.server import ServerHandle


@asynccontextmanager
async def mcp_client(server: ServerHandle, key: str) -> AsyncIterator[Client]:
    """The SDK's client on the server's /mcp, sending ``key`` (a client we pass in is ours to close)."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http:
        transport = streamable_http_client(f"{server.base_url}/mcp", http_client=http)
        async with Client(transport, read_timeout_seconds=60) as client:
            yield client


async def test_tools_act_as_the_tenant_of_the_key(server: ServerHandle) -> None:
    acme, globex = server.create_key("mcp-acme"), server.create_key("mcp-globex")
    async with mcp_client(server, acme) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        added = await call(
            client, "add_memory", content="Our office plant is a fern", user_id="cy", wait=True
        )
        assert added["status"] == "succeeded"
        hits = (await call(client, "search_memories", query="office plant", user_id="cy"))["results"]
        assert hits and "fern" in hits[0]["text"]

    async with mcp_client(server, globex) as client:
        assert (await call(client, "search_memories", query="office plant", user_id="cy"))["results"] == []
        assert "not found" in await call_error(client, "delete_memory", memory_id=hits[0]["id"])
        assert "user cy not found" in await call_error(client, "forget_user", user_id="cy")

    # what MCP wrote is what /v1 reads: one service behind both doors
    with server.client(acme) as v1:
        listed = v1.get("/v1/memories", params={"user_id": "cy"}).json()
        assert hits[0]["id"] in {m["id"] for m in listed["items"]}
    async with mcp_client(server, acme) as client:
        forgotten = await call(client, "forget_user", user_id="cy")
        assert forgotten["memories_deleted"] >= 1
    for secret in (acme, globex, "office plant is a fern"):
        assert secret not in server.log(), "keys and memory contents never reach the log"


async def test_requests_without_a_valid_key_get_the_native_401(server: ServerHandle) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        missing = http.post("/mcp", json=body, headers=headers)
        assert "Authorization: Bearer" in assert_envelope(missing, 401, "unauthenticated")["message"]
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        wrong = http.post("/mcp", json=body, headers={**headers, "Authorization": "Bearer mh_not_a_key"})
        assert_envelope(wrong, 401, "unauthenticated")
    with pytest.RaisesGroup(MCPError, flatten_subgroups=True):  # the SDK's own client is refused too
        async with mcp_client(server, "mh_not_a_key"):
            pass

"""``memhub mcp`` as an MCP client runs it: a subprocess on a data folder, spoken to over stdio."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from tests.support.mcp_client import TOOLS, call, call_error
from tests.support.server import hermetic_env

pytestmark = pytest.mark.e2e  # every test runs `memhub mcp` as a process


def memhub_mcp(data: Path, *args: str) -> Client:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "memhub", "mcp", "--data", str(data), "--log-level", "warning", *args],
        env=hermetic_env(),
    )
    return Client(params, read_timeout_seconds=60)


async def test_tools_remember_recall_and_forget_over_stdio(tmp_path: Path) -> None:
    async with memhub_mcp(tmp_path) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        added = await call(
            client,
            "add_memory",
            content="I am allergic to peanuts",
            user_id="ana",
            session_id="s1",
            wait=True,
        )
        assert added["status"] == "succeeded"

        hits = (await call(client, "search_memories", query="food allergy", user_id="ana"))["results"]
        assert hits and "peanuts" in hits[0]["text"]
        assert 0.0 <= hits[0]["score"] <= 1.0
        listed = await call(client, "list_memories", user_id="ana")
        assert {m["id"] for m in listed["memories"]} >= {hit["id"] for hit in hits}
        assert listed["next_cursor"] is None

        await call(client, "delete_memory", memory_id=hits[0]["id"])
        remaining = await call(client, "list_memories", user_id="ana")
        assert hits[0]["id"] not in {m["id"] for m in remaining["memories"]}
        forgotten = await call(client, "forget_user", user_id="ana")
        assert forgotten == {"user_id": "ana", "memories_deleted": len(remaining["memories"])}
        assert (await call(client, "list_memories", user_id="ana"))["memories"] == []


async def test_bad_input_is_a_tool_error_that_says_what_to_fix(tmp_path: Path) -> None:
    async with memhub_mcp(tmp_path, "--no-worker") as client:
        assert "not found" in await call_error(client, "delete_memory", memory_id="no-such-memory")
        assert "query must not be empty" in await call_error(
            client, "search_memories", query="  ", user_id="ana"
        )
        assert "limit" in await call_error(client, "list_memories", limit=0)
        assert "user_id" in await call_error(client, "add_memory", content="hello")  # required argument
        assert "user nobody not found" in await call_error(client, "forget_user", user_id="nobody")


async def test_search_without_a_user_is_refused_so_an_agent_never_recalls_other_users(tmp_path: Path) -> None:
    async with memhub_mcp(tmp_path) as client:
        await call(client, "add_memory", content="I keep bees on my roof", user_id="dora", wait=True)
        assert "user_id" in await call_error(client, "search_memories", query="bees")
        assert (await call(client, "search_memories", query="bees", user_id="eli"))["results"] == []
        hits = (await call(client, "search_memories", query="bees", user_id="dora"))["results"]
        assert hits and "bees" in hits[0]["text"]
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert "user_id" in tools["search_memories"].input_schema["required"]


async def test_each_process_sees_only_its_own_tenant(tmp_path: Path) -> None:
    async with memhub_mcp(tmp_path, "--tenant", "acme") as client:
        await call(client, "add_memory", content="Acme's launch is on Friday", user_id="bo", wait=True)
        assert (await call(client, "search_memories", query="launch day", user_id="bo"))["results"]
    async with memhub_mcp(tmp_path, "--tenant", "globex", "--no-worker") as client:
        assert (await call(client, "search_memories", query="launch day", user_id="bo"))["results"] == []
        assert (await call(client, "list_memories"))["memories"] == []

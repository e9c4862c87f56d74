"""Helpers for driving memhub's MCP server with the ``mcp`` package's own client."""

from __future__ import annotations

import json
from typing import Any

from mcp import Client

TOOLS = {"add_memory", "search_memories", "list_memories", "delete_memory", "forget_user"}


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; its structured result (which equals its JSON text content)."""
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert not result.is_error, f"{tool} failed: {text}"
    assert result.structured_content == json.loads(text)
    return result.structured_content  # type: ignore[return-value]


async def call_error(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; the error text the model would read."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    return result.content[0].text  # type: ignore[union-attr]

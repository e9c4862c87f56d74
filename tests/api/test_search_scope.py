"""What a search without ``user_id`` returns, and that the API description says so (and what
``rank_score`` is): an unscoped search is the admin's whole-tenant view, a scoped one is one person's."""

from __future__ import annotations

import uuid

import httpx

from support.api import add_messages
from support.server import ServerHandle


def test_a_search_without_user_id_returns_every_users_memories_of_the_tenant(server: ServerHandle) -> None:
    key = server.create_key(f"scope-{uuid.uuid4().hex[:8]}")
    with server.client(key) as client:
        add_messages(client, "ines", "I grow tomatoes on my balcony")
        add_messages(client, "joao", "I grow chillies on my balcony")
        body = {"query": "what grows on the balcony?", "kinds": ["episode"]}
        everyone = client.post("/v1/memories/search", json=body).json()["results"]
        ines = client.post("/v1/memories/search", json={**body, "user_id": "ines"}).json()["results"]
    assert {hit["memory"]["user_id"] for hit in everyone} == {"ines", "joao"}
    assert {hit["memory"]["user_id"] for hit in ines} == {"ines"}


def test_the_api_description_says_what_an_unscoped_search_returns_and_what_rank_score_is(
    server: ServerHandle,
) -> None:
    schemas = httpx.get(f"{server.base_url}/openapi.json").json()["components"]["schemas"]
    request = next(s for name, s in schemas.items() if name.startswith("SearchRequest"))
    assert "whole tenant" in request["properties"]["user_id"]["description"]
    result = next(s for name, s in schemas.items() if name.startswith("SearchResult"))
    assert "below 0 or above 1" in result["properties"]["rank_score"]["description"]
    assert "[0, 1]" in result["properties"]["score"]["description"]

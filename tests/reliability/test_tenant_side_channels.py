"""One tenant's writes change nothing another tenant can observe: keyword scores and the vector cache
(issue 20, item 4). A real ``memhub serve`` per backend, driven over loopback."""

from __future__ import annotations

import re
import uuid

import httpx

from support.api import add_messages
from support.server import ServerHandle


def _tenant(server: ServerHandle, prefix: str) -> httpx.Client:
    return server.client(server.create_key(f"{prefix}-{uuid.uuid4().hex[:8]}"))


def _keyword_hits(client: httpx.Client, user: str, query: str) -> list[tuple[str, float, float]]:
    body = {"query": query, "user_id": user, "mode": "keyword", "limit": 10}
    response = client.post("/v1/memories/search", json=body)
    assert response.status_code == 200, response.text
    return [(r["memory"]["id"], r["score"], r["rank_score"]) for r in response.json()["results"]]


def _embedded_texts(server: ServerHandle) -> float:
    """``memhub_embed_batch_size_sum``: texts the worker has embedded so far (cache misses)."""
    with server.client() as admin:
        text = admin.get("/metrics").text
    match = re.search(r"^memhub_embed_batch_size_sum (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_another_tenants_writes_move_no_keyword_score(backend_server: ServerHandle) -> None:
    server = backend_server
    with _tenant(server, "b") as b, _tenant(server, "a") as a:
        add_messages(b, "bee", "note zanzibarquix", "note florptangle")
        before = {word: _keyword_hits(b, "bee", word) for word in ("zanzibarquix", "florptangle", "note")}
        assert all(before.values()), before

        add_messages(a, "ay", *[f"Zanzibarquix sighting number {i} noted" for i in range(5)])
        add_messages(a, "ay", "note note note florptangle elsewhere", "a very long note " * 30)
        assert _keyword_hits(a, "ay", "zanzibarquix"), "A's memories must be searchable before comparing"

        after = {word: _keyword_hits(b, "bee", word) for word in before}
        assert after == before


def test_a_tenant_re_adding_another_tenants_text_is_embedded_like_any_new_text(
    backend_server: ServerHandle,
) -> None:
    server = backend_server
    secret = f"my locker code is {uuid.uuid4().int % 10**6:06d}"
    with _tenant(server, "a") as a, _tenant(server, "b") as b:
        start = _embedded_texts(server)
        add_messages(a, "holder", secret)
        original = _embedded_texts(server) - start
        assert original >= 1
        assert a.delete("/v1/users/holder").status_code == 200

        start = _embedded_texts(server)
        add_messages(b, "guesser", secret)
        assert _embedded_texts(server) - start == original, "a cache shared across tenants answered B"

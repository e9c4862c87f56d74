# ruff: noqa: E501 -- a table: one row per line reads (and reviews) best
"""The reviewed table of how tenant A calls every route of every door with tenant B's ids.

One :class:`Row` per way of aiming a route at B's data: the route (``METHOD`` + path template as the app
declares it), what A should get (:class:`Expect`) and how to build the request from B's :class:`Ids`
(``b``) and the caller's own (``a``: A's, or C's for ``OWN`` rows — for the parts of a request that must be
the caller's to get past validation, such as its own GoodMem embedder or Memsy org). A route
may have several rows (a memory id of each protocol, a space in the body and in the query…).
``tests/reliability/test_isolation_protocols.py`` checks that the rows cover every route the app serves.

Writes that succeed inside the caller's own namespace (``OWN``: a tenant may reuse a name or caller-chosen
id B also uses — tenants do not share a namespace) are sent by a third tenant, C, so that objects created
under B's names cannot turn A's reads into answers about C's data; and they come last, because the GoMemory
mount writes into tenant A whoever calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from memhub.api.compat.goodmem.unsupported import UNSUPPORTED
from memhub.api.compat.mem0.errors import UNSUPPORTED as MEM0_UNSUPPORTED

from .isolation import Ids


class Expect(Enum):
    """What tenant A must get back."""

    MISSING = "404: B's thing does not exist for A"
    LISTED = "200 and A's own items only: a list, search, stats or status answer"
    REJECTED = "a 4xx other than 403: a write naming B's thing is refused as if it did not exist"
    OWN = "2xx, acting on A's namespace only (B's same-named thing is untouched)"
    REFUSED = "501: a GoodMem feature memhub refuses whatever the ids"
    ORG_MISMATCH = "403 org_mismatch: Memsy's protocol answer to any org_id but the caller's own"
    TOOL_ERROR = "MCP: the tool call fails (isError) as for an unknown id"
    NOTHING_DONE = "200 reporting that nothing was found to change (Memsy's clear: {'deleted': 0})"

    def allows(self, status: int) -> bool:
        if self is Expect.MISSING:
            return status == 404
        if self in (Expect.LISTED, Expect.TOOL_ERROR, Expect.NOTHING_DONE):
            return status == 200
        if self is Expect.REJECTED:
            return 400 <= status < 500 and status != 403
        if self is Expect.OWN:
            return 200 <= status < 300
        if self is Expect.REFUSED:
            return status == 501
        return status == 403


@dataclass(frozen=True)
class Call:
    """One request: through which door, and what is sent."""

    door: str
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    form: dict[str, str] | None = None
    stream: bool = False  # an event stream that stays open: only its status and headers are read


@dataclass(frozen=True)
class Row:
    route: tuple[str, str]  # (method, path template) exactly as the app's route table has it
    expect: Expect
    build: Callable[[Ids, Ids], Call]
    same_body: bool = True  # B's id and a made-up one get the same body (ids aside); off for fresh objects
    note: str = field(default="", compare=False)
    known_oracle: str = ""  # a known, not yet fixed existence oracle: the row is a strict xfail until it is

    @property
    def name(self) -> str:
        return f"{self.route[0]} {self.route[1]}" + (f" [{self.note}]" if self.note else "")


M, L, R, OWN = Expect.MISSING, Expect.LISTED, Expect.REJECTED, Expect.OWN


def _row(method: str, path: str, expect: Expect, build: Callable[[Ids, Ids], Call], **kw: Any) -> Row:
    return Row((method, path), expect, build, **kw)


def _say(b: Ids) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"what about {b.marker}?"}]


OWN_WORDS = [{"role": "user", "content": "a message of the caller's own"}]


MODEL = {"providerType": "TEI", "endpointUrl": "http://localhost:1", "modelIdentifier": "local"}


def native_rows() -> list[Row]:
    n = "native"
    memory_ids = ("memory_id", "gum_memory_id", "memsy_memory_id", "mcp_memory_id")
    job_ids = ("job_id", "document_job_id", "event_job_id", "memsy_event_id")
    rows = [
        _row("GET", "/health", L, lambda b, a: Call(n, "GET", "/health")),
        _row("GET", "/ready", L, lambda b, a: Call(n, "GET", "/ready")),
        _row("GET", "/metrics", L, lambda b, a: Call(n, "GET", "/metrics"), same_body=False),
        _row("GET", "/v1/info", L, lambda b, a: Call(n, "GET", "/v1/info")),
        _row("POST", "/v1/memories/search", L, lambda b, a: Call(n, "POST", "/v1/memories/search", json={"query": b.marker}), same_body=False),
        _row("POST", "/v1/memories/search", L, lambda b, a: Call(n, "POST", "/v1/memories/search", json={"query": b.marker, "user_id": b.user_id, "session_id": b.session_id}), same_body=False, note="user+session"),
        _row("POST", "/v1/memories/search", M, lambda b, a: Call(n, "POST", "/v1/memories/search", json={"query": b.marker, "spaces": [b.space_id]}), note="space"),
        _row("GET", "/v1/memories", L, lambda b, a: Call(n, "GET", "/v1/memories", params={"user_id": b.user_id})),
        _row("GET", "/v1/memories", L, lambda b, a: Call(n, "GET", "/v1/memories", params={"session_id": b.session_id}), note="session"),
        _row("GET", "/v1/memories", M, lambda b, a: Call(n, "GET", "/v1/memories", params={"space": b.space_id}), note="space"),
        *[_row("GET", "/v1/memories/{memory_id}", M, lambda b, a, f=f: Call(n, "GET", f"/v1/memories/{getattr(b, f)}"), note=f) for f in memory_ids],
        *[_row("GET", "/v1/jobs/{job_id}", M, lambda b, a, f=f: Call(n, "GET", f"/v1/jobs/{getattr(b, f)}"), note=f) for f in job_ids],
        _row("GET", "/v1/spaces", L, lambda b, a: Call(n, "GET", "/v1/spaces")),
        _row("GET", "/v1/spaces/{space_id}", M, lambda b, a: Call(n, "GET", f"/v1/spaces/{b.space_id}")),
        _row("GET", "/v1/spaces/{space_id}", M, lambda b, a: Call(n, "GET", f"/v1/spaces/{b.gm_space_id}"), note="goodmem space"),
        _row("GET", "/v1/events", L, lambda b, a: Call(n, "GET", "/v1/events")),
        _row("GET", "/v1/events", L, lambda b, a: Call(n, "GET", "/v1/events", params={"user_id": b.user_id}), note="user"),
        _row("GET", "/v1/events", L, lambda b, a: Call(n, "GET", "/v1/events", params={"session_id": b.session_id}), note="session"),
        _row("GET", "/v1/users", L, lambda b, a: Call(n, "GET", "/v1/users")),
        _row("GET", "/v1/users/{user_id}", M, lambda b, a: Call(n, "GET", f"/v1/users/{b.user_id}")),
        _row("GET", "/v1/sessions", L, lambda b, a: Call(n, "GET", "/v1/sessions", params={"user_id": b.user_id})),
        *[_row("GET", "/v1/sessions/{session_id}", M, lambda b, a, f=f: Call(n, "GET", f"/v1/sessions/{getattr(b, f)}"), note=f) for f in ("session_id", "gum_session_id", "memsy_container")],
        _row("GET", "/v1/sessions/{session_id}/messages", M, lambda b, a: Call(n, "GET", f"/v1/sessions/{b.session_id}/messages")),
        # writes that name B's things
        _row("POST", "/v1/memories", M, lambda b, a: Call(n, "POST", "/v1/memories", json={"messages": _say(b), "user_id": a.user_id, "space": b.space_id})),
        _row("POST", "/v1/documents", M, lambda b, a: Call(n, "POST", "/v1/documents", json={"content": b.marker, "space": b.space_id})),
        _row("POST", "/v1/events", M, lambda b, a: Call(n, "POST", "/v1/events", json={"action": "x", "user_id": a.user_id, "space": b.space_id})),
        _row("POST", "/v1/sessions", M, lambda b, a: Call(n, "POST", "/v1/sessions", json={"user_id": a.user_id, "space": b.space_id})),
        _row("PATCH", "/v1/memories/{memory_id}", M, lambda b, a: Call(n, "PATCH", f"/v1/memories/{b.memory_id}", json={"metadata": {"owned": "A"}})),
        _row("DELETE", "/v1/memories/{memory_id}", M, lambda b, a: Call(n, "DELETE", f"/v1/memories/{b.memory_id}")),
        _row("DELETE", "/v1/spaces/{space_id}", M, lambda b, a: Call(n, "DELETE", f"/v1/spaces/{b.space_id}")),
        _row("DELETE", "/v1/users/{user_id}", M, lambda b, a: Call(n, "DELETE", f"/v1/users/{b.user_id}")),
        # A's own namespace: B's names and ids are free for A
        _row("POST", "/v1/spaces", OWN, lambda b, a: Call(n, "POST", "/v1/spaces", json={"name": b.space_name}), same_body=False),
        _row("POST", "/v1/sessions", OWN, lambda b, a: Call(n, "POST", "/v1/sessions", json={"user_id": b.user_id, "session_id": b.session_id}), same_body=False, note="B's session id"),
        _row("POST", "/v1/memories", OWN, lambda b, a: Call(n, "POST", "/v1/memories", json={"messages": OWN_WORDS, "user_id": b.user_id, "session_id": b.gum_session_id}), same_body=False, note="B's user"),
    ]  # fmt: skip
    return rows


def gumem_rows() -> list[Row]:
    g = "gumem"
    at = "2024-05-02T10:00:00Z"
    return [
        _row("GET", "/gumem/healthz", L, lambda b, a: Call(g, "GET", "/gumem/healthz")),
        _row("GET", "/gumem/api/sessions/{session_id}/context", M, lambda b, a: Call(g, "GET", f"/gumem/api/sessions/{b.gum_session_id}/context", params={"query": b.marker})),
        _row("POST", "/gumem/api/sessions/{session_id}/context", M, lambda b, a: Call(g, "POST", f"/gumem/api/sessions/{b.gum_session_id}/context", json={})),
        _row("POST", "/gumem/api/sessions/{session_id}/messages", M, lambda b, a: Call(g, "POST", f"/gumem/api/sessions/{b.gum_session_id}/messages", json={"messages": _say(b)})),
        _row("POST", "/gumem/api/sessions", OWN, lambda b, a: Call(g, "POST", "/gumem/api/sessions", json={"user_id": b.user_id, "session_id": b.gum_session_id}), same_body=False),
        # an action naming a session the caller does not have is kept without one (GUMem: only noted)
        _row("POST", "/gumem/api/user/actions", OWN, lambda b, a: Call(g, "POST", "/gumem/api/user/actions", json={"user_id": b.user_id, "timestamp": at, "content": "y", "session_id": b.gum_session_id}), same_body=False, note="B's user and session"),
    ]  # fmt: skip


def _registry_rows(kind: str, field_name: str) -> list[Row]:
    g, base = "goodmem", f"/goodmem/v1/{kind}"
    item = f"{base}/{{{'embedder_id' if kind == 'embedders' else 'item_id'}}}"
    rows = [
        _row("GET", base, L, lambda b, a: Call(g, "GET", base)),
        _row("GET", item, M, lambda b, a: Call(g, "GET", f"{base}/{getattr(b, field_name)}")),
        _row("DELETE", item, M, lambda b, a: Call(g, "DELETE", f"{base}/{getattr(b, field_name)}")),
        _row(
            "PUT",
            f"{base}/{{item_id}}",
            M,
            lambda b, a: Call(
                g, "PUT", f"{base}/{getattr(b, field_name)}", json={"displayName": "A was here"}
            ),
        ),
    ]
    id_key = {"embedders": "embedderId", "rerankers": "rerankerId", "llms": "llmId"}[kind]
    body = {**MODEL, "displayName": "A's", "dimensionality": 384}
    rows.append(
        _row(
            "POST",
            base,
            OWN,
            lambda b, a: Call(g, "POST", base, json={**body, id_key: getattr(b, field_name)}),
            same_body=False,
        )
    )
    return rows


def goodmem_rows() -> list[Row]:
    g, v1 = "goodmem", "/goodmem/v1"

    def text(space: str, **extra: Any) -> dict[str, Any]:
        return {"spaceId": space, "contentType": "text/plain", "originalContent": "from A", **extra}

    return [
        _row("GET", f"{v1}/system/info", L, lambda b, a: Call(g, "GET", f"{v1}/system/info")),
        _row("POST", f"{v1}/system/init", L, lambda b, a: Call(g, "POST", f"{v1}/system/init", json={})),
        *_registry_rows("embedders", "gm_embedder_id"),
        *_registry_rows("rerankers", "gm_reranker_id"),
        *_registry_rows("llms", "gm_llm_id"),
        _row("GET", f"{v1}/spaces", L, lambda b, a: Call(g, "GET", f"{v1}/spaces")),
        _row("GET", f"{v1}/spaces", L, lambda b, a: Call(g, "GET", f"{v1}/spaces", params={"owner_id": b.tenant_id, "name_filter": f"*{b.marker}*"}), note="B's owner and name"),
        *[_row("GET", f"{v1}/spaces/{{space_id}}", M, lambda b, a, f=f: Call(g, "GET", f"{v1}/spaces/{getattr(b, f)}"), note=f) for f in ("gm_space_id", "space_id")],
        _row("PUT", f"{v1}/spaces/{{space_id}}", M, lambda b, a: Call(g, "PUT", f"{v1}/spaces/{b.gm_space_id}", json={"name": "A was here"})),
        _row("DELETE", f"{v1}/spaces/{{space_id}}", M, lambda b, a: Call(g, "DELETE", f"{v1}/spaces/{b.gm_space_id}")),
        _row("GET", f"{v1}/spaces/{{space_id}}/memories", M, lambda b, a: Call(g, "GET", f"{v1}/spaces/{b.gm_space_id}/memories")),
        _row("POST", f"{v1}/spaces", M, lambda b, a: Call(g, "POST", f"{v1}/spaces", json={"name": "A's", "spaceEmbedders": [{"embedderId": b.gm_embedder_id}]}), note="B's embedder"),
        _row("POST", f"{v1}/memories:retrieve", M, lambda b, a: Call(g, "POST", f"{v1}/memories:retrieve", json={"message": b.marker, "spaceKeys": [{"spaceId": b.gm_space_id}]})),
        _row("POST", f"{v1}/memories:retrieve", L, lambda b, a: Call(g, "POST", f"{v1}/memories:retrieve", json={"message": b.marker, "spaceKeys": [{"spaceId": a.gm_space_id}]}), same_body=False, note="A's space"),
        *[_row("GET", f"{v1}/memories/{{memory_id}}{tail}", M, lambda b, a, t=tail: Call(g, "GET", f"{v1}/memories/{b.gm_memory_id}{t}")) for tail in ("", "/content", "/pages")],
        _row("GET", f"{v1}/memories/{{memory_id}}/pages/{{page_index}}/image", M, lambda b, a: Call(g, "GET", f"{v1}/memories/{b.gm_memory_id}/pages/1/image")),
        _row("POST", f"{v1}/memories:batchGet", L, lambda b, a: Call(g, "POST", f"{v1}/memories:batchGet", json={"memoryIds": [b.gm_memory_id], "includeContent": True})),
        _row("POST", f"{v1}/memories", M, lambda b, a: Call(g, "POST", f"{v1}/memories", json=text(b.gm_space_id)), note="B's space"),
        _row("POST", f"{v1}/memories:batchCreate", L, lambda b, a: Call(g, "POST", f"{v1}/memories:batchCreate", json={"requests": [text(b.gm_space_id)]}), note="B's space"),
        _row("POST", f"{v1}/memories:batchDelete", L, lambda b, a: Call(g, "POST", f"{v1}/memories:batchDelete", json={"requests": [{"memoryId": b.gm_memory_id}, {"filterSelector": {"spaceId": b.gm_space_id}}]})),
        _row("DELETE", f"{v1}/memories/{{memory_id}}", M, lambda b, a: Call(g, "DELETE", f"{v1}/memories/{b.gm_memory_id}")),
        _row("GET", f"{v1}/apikeys", L, lambda b, a: Call(g, "GET", f"{v1}/apikeys")),
        _row("GET", f"{v1}/apikeys/{{key_id}}", M, lambda b, a: Call(g, "GET", f"{v1}/apikeys/{b.gm_key_id}")),
        _row("PUT", f"{v1}/apikeys/{{key_id}}", M, lambda b, a: Call(g, "PUT", f"{v1}/apikeys/{b.gm_key_id}", json={"status": "INACTIVE"})),
        _row("DELETE", f"{v1}/apikeys/{{key_id}}", M, lambda b, a: Call(g, "DELETE", f"{v1}/apikeys/{b.gm_key_id}")),
        _row("POST", f"{v1}/apikeys", Expect.REFUSED, lambda b, a: Call(g, "POST", f"{v1}/apikeys", json={"subjectPrincipalId": b.tenant_id}), note="key for B"),
        _row("GET", f"{v1}/users/me", L, lambda b, a: Call(g, "GET", f"{v1}/users/me")),
        _row("GET", f"{v1}/users", L, lambda b, a: Call(g, "GET", f"{v1}/users")),
        _row("GET", f"{v1}/users/{{user_id}}", M, lambda b, a: Call(g, "GET", f"{v1}/users/{b.tenant_id}")),
        _row("POST", f"{v1}/spaces", OWN, lambda b, a: Call(g, "POST", f"{v1}/spaces", json={"name": f"gm-{b.marker}", "spaceEmbedders": [{"embedderId": a.gm_embedder_id}]}), same_body=False, note="B's space name"),
        _row("POST", f"{v1}/memories", OWN, lambda b, a: Call(g, "POST", f"{v1}/memories", json=text(a.gm_space_id, memoryId=b.gm_memory_id)), same_body=False, note="B's memory id"),
        _row("POST", f"{v1}/spaces", Expect.REFUSED, lambda b, a: Call(g, "POST", f"{v1}/spaces", json={"name": f"own-{b.gm_space_id}", "spaceId": b.gm_space_id, "spaceEmbedders": [{"embedderId": a.gm_embedder_id}]}), note="B's space id"),
        *_refused_rows(),
    ]  # fmt: skip


def _refused_rows() -> list[Row]:
    """Every route of ``goodmem_unsupported`` (reviewed there, and listed in the README): B's ids in it."""

    def build(method: str, path: str) -> Callable[[Ids, Ids], Call]:
        def call(b: Ids, a: Ids) -> Call:
            filled = path.replace("{item_id}", b.gm_space_id).replace("{sub_id}", b.gm_key_id)
            return Call(
                "goodmem", method, "/goodmem" + filled, json={} if method in ("POST", "PUT") else None
            )

        return call

    return [
        _row(method, "/goodmem" + path, Expect.REFUSED, build(method, path))
        for method, path, _ in UNSUPPORTED
    ]


def memsy_rows() -> list[Row]:
    m, v1 = "memsy", "/memsy/v1"
    record = {"name": "A's", "focus": "A's"}
    rows = [
        _row("GET", f"{v1}/health", L, lambda b, a: Call(m, "GET", f"{v1}/health"), same_body=False),
        _row("POST", f"{v1}/status", L, lambda b, a: Call(m, "POST", f"{v1}/status", json={"event_ids": [b.memsy_event_id, b.job_id]})),
        _row("POST", f"{v1}/search", L, lambda b, a: Call(m, "POST", f"{v1}/search", json={"query": b.marker, "include_source_events": True}), same_body=False),
        _row("POST", f"{v1}/search", L, lambda b, a: Call(m, "POST", f"{v1}/search", json={"query": b.marker, "actor_id": b.user_id, "session_id": b.memsy_container}), same_body=False, note="B's actor"),
        _row("POST", f"{v1}/search", L, lambda b, a: Call(m, "POST", f"{v1}/search", json={"query": b.marker, "role_ids": [b.memsy_role_id], "team_ids": [b.memsy_team_id]}), same_body=False, note="B's role and team"),
        _row("GET", f"{v1}/console/memories", L, lambda b, a: Call(m, "GET", f"{v1}/console/memories", params={"actor_id": b.user_id})),
        _row("GET", f"{v1}/console/memories", L, lambda b, a: Call(m, "GET", f"{v1}/console/memories", params={"search": b.marker}), note="search"),
        _row("GET", f"{v1}/console/memories/stats", L, lambda b, a: Call(m, "GET", f"{v1}/console/memories/stats")),
        _row("GET", f"{v1}/console/memories/{{memory_id}}", M, lambda b, a: Call(m, "GET", f"{v1}/console/memories/{b.memsy_memory_id}")),
        _row("GET", f"{v1}/actors", L, lambda b, a: Call(m, "GET", f"{v1}/actors", params={"q": b.user_id})),
        _row("GET", f"{v1}/actors/{{actor_id}}", M, lambda b, a: Call(m, "GET", f"{v1}/actors/{b.user_id}")),
        _row("GET", f"{v1}/actors", Expect.ORG_MISMATCH, lambda b, a: Call(m, "GET", f"{v1}/actors", params={"org_id": b.tenant_name}), note="B's org"),
        _row("GET", f"{v1}/orgs", L, lambda b, a: Call(m, "GET", f"{v1}/orgs")),
        _row("POST", f"{v1}/orgs", OWN, lambda b, a: Call(m, "POST", f"{v1}/orgs", json={"org_id": b.tenant_name, **record}), same_body=False, note="an org named like B's: the caller's own"),
        _row("GET", f"{v1}/orgs/{{org_id}}", Expect.ORG_MISMATCH, lambda b, a: Call(m, "GET", f"{v1}/orgs/{b.tenant_name}")),
        _row("PATCH", f"{v1}/orgs/{{org_id}}", Expect.ORG_MISMATCH, lambda b, a: Call(m, "PATCH", f"{v1}/orgs/{b.tenant_name}", json={"focus": "A"})),
        _row("POST", f"{v1}/orgs/{{org_id}}/regenerate-prompt", Expect.ORG_MISMATCH, lambda b, a: Call(m, "POST", f"{v1}/orgs/{b.tenant_name}/regenerate-prompt")),
        _row("DELETE", f"{v1}/orgs/{{org_id}}", Expect.ORG_MISMATCH, lambda b, a: Call(m, "DELETE", f"{v1}/orgs/{b.tenant_name}")),
        _row("DELETE", f"{v1}/clear/{{container_tag}}", Expect.NOTHING_DONE, lambda b, a: Call(m, "DELETE", f"{v1}/clear/{b.memsy_container}")),
    ]  # fmt: skip
    for level in ("role", "team"):
        base, rid = f"{v1}/{level}s", f"memsy_{level}_id"
        item = f"{base}/{{record_id}}"
        rows += [
            _row("GET", base, L, lambda b, a, base=base: Call(m, "GET", base, params={"org_id": a.tenant_name})),
            _row("GET", base, Expect.ORG_MISMATCH, lambda b, a, base=base: Call(m, "GET", base, params={"org_id": b.tenant_name}), note="B's org"),
            _row("POST", base, Expect.ORG_MISMATCH, lambda b, a, base=base: Call(m, "POST", base, json={"org_id": b.tenant_name, **record}), note="B's org"),
            _row("GET", item, M, lambda b, a, base=base, rid=rid: Call(m, "GET", f"{base}/{getattr(b, rid)}")),
            _row("PATCH", item, M, lambda b, a, base=base, rid=rid: Call(m, "PATCH", f"{base}/{getattr(b, rid)}", json={"focus": "A"})),
            _row("POST", f"{item}/regenerate-prompt", M, lambda b, a, base=base, rid=rid: Call(m, "POST", f"{base}/{getattr(b, rid)}/regenerate-prompt")),
            _row("DELETE", item, M, lambda b, a, base=base, rid=rid: Call(m, "DELETE", f"{base}/{getattr(b, rid)}")),
            _row("POST", base, OWN, lambda b, a, base=base: Call(m, "POST", base, json={"org_id": a.tenant_name, **record}), same_body=False),
        ]  # fmt: skip
    event = {"kind": "user_message", "content": "A speaking"}
    rows.append(_row("POST", f"{v1}/ingest", OWN, lambda b, a: Call(m, "POST", f"{v1}/ingest", json={"events": [{**event, "actor_id": b.user_id, "session_id": b.memsy_container}]}), same_body=False))  # fmt: skip
    rows.append(_row("POST", f"{v1}/ingest", OWN, lambda b, a: Call(m, "POST", f"{v1}/ingest", json={"events": [{**event, "actor_id": a.user_id, "session_id": "s", "role_id": b.memsy_role_id, "team_id": b.memsy_team_id}]}), same_body=False, note="B's role and team"))  # fmt: skip
    return rows


def gomemory_rows() -> list[Row]:
    """The mount serves tenant A only: B's users, jobs and content must not be reachable through it."""
    d = "gomemory"
    return [
        _row("GET", "/gomemory/health", L, lambda b, a: Call(d, "GET", "/gomemory/health")),
        _row("POST", "/gomemory/create/user", L, lambda b, a: Call(d, "POST", "/gomemory/create/user"), same_body=False),
        _row("POST", "/gomemory/get_memory", L, lambda b, a: Call(d, "POST", "/gomemory/get_memory", json={"userId": b.user_id, "query": b.marker, "core": True, "threshold": 0.0}), same_body=False),
        *[_row("GET", "/gomemory/get_status/{req_id}", M, lambda b, a, f=f: Call(d, "GET", f"/gomemory/get_status/{getattr(b, f)}"), note=f) for f in ("job_id", "memsy_event_id")],
        _row("POST", "/gomemory/add_memory", OWN, lambda b, a: Call(d, "POST", "/gomemory/add_memory", json={"userId": b.user_id, "messages": OWN_WORDS}), same_body=False),
    ]  # fmt: skip


def _tool(name: str, **arguments: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


def mcp_rows() -> list[Row]:
    c, t = "mcp", Expect.TOOL_ERROR

    def tool(expect: Expect, name: str, args: Callable[[Ids, Ids], dict[str, Any]], **kw: Any) -> Row:
        return _row(
            "POST", "/mcp", expect, lambda b, a: Call(c, "POST", "/mcp", json=_tool(name, **args(b, a))), **kw
        )

    return [
        tool(L, "search_memories", lambda b, a: {"query": b.marker, "user_id": b.user_id}, same_body=False, note="search_memories"),
        tool(L, "search_memories", lambda b, a: {"query": b.marker, "user_id": b.user_id, "session_id": b.session_id}, same_body=False, note="search_memories B's user"),
        tool(t, "search_memories", lambda b, a: {"query": b.marker, "user_id": a.user_id, "space": b.space_id}, note="search_memories B's space"),
        tool(L, "list_memories", lambda b, a: {"user_id": b.user_id}, note="list_memories B's user"),
        tool(t, "list_memories", lambda b, a: {"space": b.space_id}, note="list_memories B's space"),
        tool(t, "delete_memory", lambda b, a: {"memory_id": b.mcp_memory_id}, note="delete_memory"),
        tool(t, "add_memory", lambda b, a: {"content": "A", "user_id": a.user_id, "space": b.space_id}, note="add_memory B's space"),
        tool(t, "forget_user", lambda b, a: {"user_id": b.user_id}, note="forget_user"),
        # stateless MCP: GET opens an (empty) server-to-client event stream that only ends when the client goes
        _row("GET", "/mcp", L, lambda b, a: Call(c, "GET", "/mcp", stream=True), same_body=False, note="GET"),
        _row("DELETE", "/mcp", R, lambda b, a: Call(c, "DELETE", "/mcp"), note="DELETE"),
        tool(OWN, "add_memory", lambda b, a: {"content": "A", "user_id": b.user_id, "session_id": b.session_id}, same_body=False, note="add_memory B's user"),
    ]  # fmt: skip


def console_rows() -> list[Row]:
    c, p = "console", "/console"
    return [
        _row("GET", p, L, lambda b, a: Call(c, "GET", p), same_body=False),
        *[_row("GET", f"{p}/{page}", L, lambda b, a, page=page: Call(c, "GET", f"{p}/{page}"), same_body=False) for page in ("memories", "spaces", "users")],
        _row("GET", f"{p}/sessions", L, lambda b, a: Call(c, "GET", f"{p}/sessions", params={"user_id": b.user_id}), same_body=False),
        _row("GET", f"{p}/search", L, lambda b, a: Call(c, "GET", f"{p}/search", params={"q": b.marker, "user_id": b.user_id}), same_body=False),
        _row("GET", f"{p}/search", M, lambda b, a: Call(c, "GET", f"{p}/search", params={"q": b.marker, "space": b.space_id}), same_body=False, note="B's space"),
        _row("GET", f"{p}/memories/{{memory_id}}", M, lambda b, a: Call(c, "GET", f"{p}/memories/{b.memory_id}"), same_body=False),
        _row("GET", f"{p}/jobs/{{job_id}}", M, lambda b, a: Call(c, "GET", f"{p}/jobs/{b.job_id}"), same_body=False),
        _row("GET", f"{p}/spaces/{{space_id}}", M, lambda b, a: Call(c, "GET", f"{p}/spaces/{b.space_id}"), same_body=False),
        _row("GET", f"{p}/users/{{user_id}}", M, lambda b, a: Call(c, "GET", f"{p}/users/{b.user_id}"), same_body=False),
        _row("GET", f"{p}/sessions/{{session_id}}", M, lambda b, a: Call(c, "GET", f"{p}/sessions/{b.session_id}"), same_body=False),
        _row("GET", f"{p}/forget-user", M, lambda b, a: Call(c, "GET", f"{p}/forget-user", params={"user_id": b.user_id}), same_body=False),
        _row("POST", f"{p}/memories/{{memory_id}}/delete", M, lambda b, a: Call(c, "POST", f"{p}/memories/{b.memory_id}/delete", form={}), same_body=False),
        _row("POST", f"{p}/forget-user", M, lambda b, a: Call(c, "POST", f"{p}/forget-user", form={"user_id": b.user_id}), same_body=False),
    ]  # fmt: skip


def mem0_rows() -> list[Row]:
    m, p = "mem0", "/mem0"
    memory_ids = ("mem0_memory_id", "memory_id", "gum_memory_id")
    nothing = Expect.NOTHING_DONE

    def search(path: str) -> Row:
        return _row(
            "POST",
            p + path,
            L,
            lambda b, a: Call(
                m,
                "POST",
                p + path,
                json={
                    "query": b.marker,
                    "filters": {
                        "OR": [
                            {"user_id": b.user_id},
                            {"agent_id": b.mem0_agent_id},
                            {"run_id": b.mem0_run_id},
                        ]
                    },
                    "threshold": 0,
                },
            ),
        )

    def listing(path: str) -> Row:
        return _row(
            "POST",
            p + path,
            L,
            lambda b, a: Call(
                m,
                "POST",
                p + path,
                json={"filters": {"OR": [{"user_id": b.user_id}, {"agent_id": b.mem0_agent_id}]}},
            ),
        )

    def add(path: str) -> Row:
        return _row(
            "POST",
            p + path,
            OWN,
            lambda b, a: Call(
                m,
                "POST",
                p + path,
                json={
                    "messages": OWN_WORDS,
                    "user_id": b.user_id,
                    "agent_id": b.mem0_agent_id,
                    "run_id": b.mem0_run_id,
                },
            ),
            same_body=False,
            note="B's user, agent and run",
        )

    rows = [
        _row("GET", f"{p}/v1/ping/", L, lambda b, a: Call(m, "GET", f"{p}/v1/ping/")),
        *[search(path) for path in ("/v3/memories/search/", "/v2/memories/search/", "/v1/memories/search/")],
        *[listing(path) for path in ("/v3/memories/", "/v2/memories/")],
        _row("GET", f"{p}/v1/memories/", L, lambda b, a: Call(m, "GET", f"{p}/v1/memories/", params={"user_id": b.user_id})),
        _row("GET", f"{p}/v1/entities/", L, lambda b, a: Call(m, "GET", f"{p}/v1/entities/")),
        *[_row("GET", f"{p}/v1/event/{{event_id}}/", M, lambda b, a, f=f: Call(m, "GET", f"{p}/v1/event/{getattr(b, f)}/"), note=f) for f in ("mem0_event_id", "job_id")],
        *[_row("GET", f"{p}/v1/memories/{{memory_id}}/", M, lambda b, a, f=f: Call(m, "GET", f"{p}/v1/memories/{getattr(b, f)}/"), note=f) for f in memory_ids],
        *[_row("GET", f"{p}/v1/memories/{{memory_id}}/history/", M, lambda b, a, f=f: Call(m, "GET", f"{p}/v1/memories/{getattr(b, f)}/history/"), note=f) for f in memory_ids],
        # writes that name B's things
        *[_row("PUT", f"{p}/v1/memories/{{memory_id}}/", M, lambda b, a, f=f: Call(m, "PUT", f"{p}/v1/memories/{getattr(b, f)}/", json={"text": "overwritten by A"}), note=f) for f in memory_ids],
        _row("PUT", f"{p}/v1/memories/{{memory_id}}/", M, lambda b, a: Call(m, "PUT", f"{p}/v1/memories/{b.mem0_memory_id}/", json={"metadata": {"owned": "A"}}), note="metadata"),
        *[_row("DELETE", f"{p}/v1/memories/{{memory_id}}/", M, lambda b, a, f=f: Call(m, "DELETE", f"{p}/v1/memories/{getattr(b, f)}/", params={"delete_linked": "true"}), note=f) for f in memory_ids],
        _row("PUT", f"{p}/v1/batch/", M, lambda b, a: Call(m, "PUT", f"{p}/v1/batch/", json={"memories": [{"memory_id": b.mem0_memory_id, "text": "overwritten by A"}]})),
        _row("DELETE", f"{p}/v1/batch/", M, lambda b, a: Call(m, "DELETE", f"{p}/v1/batch/", json={"memories": [{"memory_id": b.mem0_memory_id}]})),
        *[_row("DELETE", f"{p}/{v}/entities/{{entity_type}}/{{entity_id}}/", M, lambda b, a, v=v, k=k, f=f: Call(m, "DELETE", f"{p}/{v}/entities/{k}/{getattr(b, f)}/"), note=f"{k} ({v})") for v in ("v1", "v2") for k, f in (("user", "user_id"), ("agent", "mem0_agent_id"), ("run", "mem0_run_id"))],
        _row("DELETE", f"{p}/v1/memories/", nothing, lambda b, a: Call(m, "DELETE", f"{p}/v1/memories/", params={"user_id": b.user_id}), same_body=False, note="B's user (forgets none of B's)"),
        _row("DELETE", f"{p}/v1/memories/", nothing, lambda b, a: Call(m, "DELETE", f"{p}/v1/memories/", params={"agent_id": b.mem0_agent_id, "run_id": b.mem0_run_id}), same_body=False, note="B's agent and run"),
        # A's own namespace: B's entity ids are free for A (sent by C)
        *[add(path) for path in ("/v3/memories/add/", "/v1/memories/")],
        *_mem0_refused_rows(),
    ]  # fmt: skip
    return rows


def _mem0_refused_rows() -> list[Row]:
    """Every route of the mem0 door's ``UNSUPPORTED`` list (also in the README): B's ids in it."""

    def build(method: str, path: str) -> Callable[[Ids, Ids], Call]:
        def call(b: Ids, a: Ids) -> Call:
            filled = path
            for name, value in (
                ("{entity_type}", "user"), ("{entity_id}", b.user_id), ("{project_id}", b.tenant_id),
                ("{org_id}", b.tenant_id), ("{webhook_id}", b.mem0_memory_id), ("{job_id}", b.job_id),
            ):  # fmt: skip
                filled = filled.replace(name, value)
            body = {"memory_id": b.mem0_memory_id} if method in ("POST", "PUT", "PATCH") else None
            return Call("mem0", method, "/mem0" + filled, json=body)

        return call

    return [
        _row(method, "/mem0" + path, Expect.REFUSED, build(method, path))
        for methods, path, _ in MEM0_UNSUPPORTED
        for method in methods
    ]


def all_rows() -> list[Row]:
    rows = [
        *native_rows(),
        *gumem_rows(),
        *goodmem_rows(),
        *memsy_rows(),
        *gomemory_rows(),
        *mem0_rows(),
        *mcp_rows(),
        *console_rows(),
    ]
    return sorted(rows, key=lambda row: row.expect is Expect.OWN)  # stable sort: the OWN writes last


ALLOWED_UNTESTED: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "the API description: the same document for every caller, no tenant data",
    ("GET", "/docs"): "the Swagger page: static HTML",
    ("GET", "/docs/oauth2-redirect"): "Swagger's OAuth helper page: static HTML",
    ("GET", "/docs/assets/{name}"): "Swagger UI's script, stylesheet and icon, from the package",
    ("GET", "/redoc"): "the ReDoc page: static HTML",
    ("GET", "/redoc/assets/redoc.standalone.js"): "ReDoc's script, from the package",
    ("GET", "/console/static/console.css"): "the console's stylesheet",
    ("GET", "/console/login"): "the sign-in form: shown before any tenant is known",
    (
        "POST",
        "/console/login",
    ): "signing in checks a key; it reads no tenant data (a wrong key is a 401 page)",
    ("POST", "/console/logout"): "signing out clears the caller's own cookie",
}
"""Routes with no isolation row, each with why: none of them reads or writes a tenant's data."""

"""Strings no store can hold and numbers JSON has not, sent to every route of every door, on both backends.

A lone surrogate (``"\\ud800"``) once ended in a 500 on 10+ routes (id hashing, psycopg, the tokenizer), a
NUL (``"\\u0000"``) in a 500 wherever PostgreSQL's ``text``/``jsonb`` met it, and ``NaN``/``Infinity`` were
stored as invalid JSON. Here every route of the isolation table (``support/isolation_routes.py``: one row
per way of calling each route of each door) is called by a tenant with its *own* ids, with every string
of its body (or query, or form) poisoned, and with every number of its body made ``NaN``/``Infinity``.
Each answer must be a 400 or 422 in that door's own error shape — never a 500 — and nothing may be stored.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from memhub.api.console.session import csrf_token
from support.isolation import GOMEMORY_DOOR_KEY, Ids, doors, seed
from support.isolation_routes import Call, Row, all_rows
from support.postgres import PostgresServer
from support.server import ServerHandle, launch_server

NAME = f"guard-{uuid.uuid4().hex[:8]}"
SETTINGS: dict[str, Any] = {
    "gomemory_tenant": NAME,
    "gomemory_api_key": GOMEMORY_DOOR_KEY,
    "log_level": "warning",
}


@dataclass(frozen=True)
class World:
    server: ServerHandle
    key: str
    ids: Ids


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = dict(SETTINGS)
    if request.param == "postgresql":
        postgres: PostgresServer = request.getfixturevalue("postgres_server")
        settings["database_url"] = postgres.new_database()
    server = launch_server(tmp_path_factory.mktemp(f"guard-{request.param}"), **settings)
    try:
        key, ids = seed(server, NAME)
        yield World(server, key, ids)
    finally:
        server.stop()


# --- poisons -------------------------------------------------------------------------------------------


def _map_leaves(value: Any, strings: Callable[[str], Any], numbers: Callable[[float], Any]) -> Any:
    if isinstance(value, str):
        return strings(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return numbers(value)
    if isinstance(value, dict):
        return {k: _map_leaves(v, strings, numbers) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_leaves(v, strings, numbers) for v in value]
    return value


def _count(value: Any, kind: type) -> int:
    found = [0]

    def note(leaf: Any) -> Any:
        found[0] += 1
        return leaf

    _map_leaves(value, note if kind is str else (lambda s: s), note if kind is float else (lambda n: n))
    return found[0]


def _strings(call: Call, suffix: str) -> Call | None:
    if not _count(call.json, str):
        return None
    return replace(call, json=_map_leaves(call.json, lambda s: s + suffix, lambda n: n))


def _numbers(call: Call, number: float) -> Call | None:
    if not _count(call.json, float):
        return None
    return replace(call, json=_map_leaves(call.json, lambda s: s, lambda n: number))


def _query(call: Call) -> Call | None:
    return replace(call, params={k: f"{v}\x00" for k, v in call.params.items()}) if call.params else None


def _form(call: Call) -> Call | None:
    return replace(call, form={k: f"{v}\x00" for k, v in call.form.items()}) if call.form else None


def _path(call: Call) -> Call | None:
    return (
        replace(call, path=call.path + "%00") if call.method == "GET" and call.path.count("/") > 2 else None
    )


POISONS: dict[str, Callable[[Call], Call | None]] = {
    "surrogate": lambda call: _strings(call, "\ud800"),
    "nul": lambda call: _strings(call, "\x00"),
    "nan": lambda call: _numbers(call, math.nan),
    "infinity": lambda call: _numbers(call, math.inf),
    "nul-query": _query,
    "nul-form": _form,
    "nul-path": _path,
}


def send(http: httpx.Client, call: Call, key: str) -> httpx.Response:
    """The call as raw bytes: ``json.dumps`` escapes a lone surrogate as ``\\ud800`` and writes NaN."""
    headers = dict(doors(key)[call.door])
    content = None
    if call.json is not None:
        content = json.dumps(call.json).encode("ascii")
        headers["Content-Type"] = "application/json"
    form = None if call.form is None else {**call.form, "csrf": csrf_token(key)}
    request = http.build_request(
        call.method, call.path, params=call.params, content=content, data=form, headers=headers
    )
    response = http.send(request, stream=call.stream)
    response.read()
    return response


def door_shaped(call: Call, response: httpx.Response) -> bool:
    """The error body in the door's own shape (what its SDK reads)."""
    if call.door == "console":
        return response.headers["content-type"].startswith("text/html")
    body = response.json()
    if call.door in ("native", "mcp"):
        return isinstance(body["error"]["message"], str)
    if call.door == "gumem":
        return isinstance(body["detail"], str) and body["success"] is False
    if call.door == "goodmem":
        return isinstance(body["message"], str) and isinstance(body["code"], str)
    if call.door == "memsy":
        return isinstance(body["detail"]["message"], str)
    return isinstance(body["Message"], str) and body["Status"] == response.status_code  # gomemory


def cases() -> list[Any]:
    """(row, poison) for every row of the table and every poison that applies to its call."""
    probe = Ids(**{name: f"x-{name}" for name in Ids.__dataclass_fields__})
    out = []
    for row in all_rows():
        call = row.build(probe, probe)
        out += [
            pytest.param(row, name, id=f"{row.name}-{name}")
            for name, poison in POISONS.items()
            if poison(call)
        ]
    return out


@pytest.mark.parametrize(("row", "poison"), cases())
def test_unstorable_input_is_a_4xx_in_the_doors_shape(world: World, row: Row, poison: str) -> None:
    call = POISONS[poison](row.build(world.ids, world.ids))
    assert call is not None
    with httpx.Client(base_url=world.server.base_url, timeout=30.0) as http:
        response = send(http, call, world.key)
    summary = f"{response.status_code} {response.text[:300]}"
    assert response.status_code in (400, 422), summary
    assert door_shaped(call, response), summary


def test_no_poisoned_request_ended_in_an_unhandled_error(world: World) -> None:
    """Runs after the table (definition order): the server logged no traceback."""
    assert "unhandled error" not in world.server.log()
    assert "Traceback" not in world.server.log()

"""The SDK against a real loopback server that misbehaves on purpose (see ``conftest.py``).

Checks what is retried (and what must not be), that ``Retry-After`` and the backoff are actually slept,
and that every documented status raises its own class with the server's code, message and details.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from loopback_server import Script

from memhub.client import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    InternalServerError,
    InvalidResponseError,
    MemhubAPIError,
    NotFoundError,
    NotImplementedServerError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)

HEALTH = {"status": "ok", "version": "test"}


def make_client(script: Script, **kw: Any) -> Client:
    client = Client(script.base_url, api_key="mh_test", **kw)
    client.retry_policy.base_delay = 0.05  # keep the suite fast; the shape of the backoff is what's tested
    return client


def test_429_retry_after_is_honoured_then_succeeds(script: Script, monkeypatch: pytest.MonkeyPatch) -> None:
    script.error(429, "rate_limited", headers={"Retry-After": "1"}).reply(200, HEALTH)
    with make_client(script) as client:
        waits: list[float | None] = []
        decide = client.retry_policy.delay

        def recorded(*args: Any, **kwargs: Any) -> float | None:
            waits.append(decide(*args, **kwargs))
            return waits[-1]

        monkeypatch.setattr(client.retry_policy, "delay", recorded)
        assert client.health().status == "ok"
    assert script.count == 2
    assert len(waits) == 1 and waits[0] is not None
    assert 1.0 <= waits[0] <= 1.1  # the second the server asked for, plus jitter upward: not the backoff
    assert script.gaps()[0] >= 0.95  # and the client really waited it


def test_503_is_retried_with_growing_backoff_until_success(script: Script) -> None:
    script.error(503, "unavailable").error(503, "unavailable").reply(200, HEALTH)
    with make_client(script) as client:
        client.retry_policy.base_delay = 0.2
        assert client.health().status == "ok"
    assert script.count == 3
    first, second = script.gaps()
    assert first >= 0.2 * 0.75  # 0.2s minus at most 25% jitter
    assert second >= 0.4 * 0.75  # doubled
    assert second > first * 1.2


def test_retries_are_bounded_by_max_retries(script: Script) -> None:
    for _ in range(5):
        script.error(503, "unavailable", "database is down", details={"backend": "sqlite"})
    with make_client(script, max_retries=2) as client, pytest.raises(ServiceUnavailableError) as caught:
        client.health()
    assert script.count == 3  # one try + two retries
    error = caught.value
    assert (error.status, error.code, error.message) == (503, "unavailable", "database is down")
    assert error.details == {"backend": "sqlite"}
    assert error.response is not None and error.response.status_code == 503


def test_max_retries_zero_means_one_attempt(script: Script) -> None:
    script.error(503).error(503)
    with make_client(script, max_retries=0) as client, pytest.raises(ServiceUnavailableError):
        client.health()
    assert script.count == 1


def test_dropped_connection_is_retried_for_idempotent_requests(script: Script) -> None:
    script.drop().reply(200, HEALTH)
    with make_client(script) as client:
        assert client.health().status == "ok"
    assert script.count == 2


def test_dropped_connection_raises_connection_error_when_retries_run_out(script: Script) -> None:
    script.drop().drop().drop()
    with make_client(script, max_retries=2) as client, pytest.raises(APIConnectionError) as caught:
        client.health()
    assert script.count == 3
    assert caught.value.request_sent


def test_adds_are_retried_because_the_server_dedupes_them(script: Script) -> None:
    accepted = {"job_id": "j1", "status": "pending", "created": True}
    script.error(503).reply(202, accepted)
    with make_client(script) as client:
        done = client.memories.add([{"role": "user", "content": "hi"}], user_id="u1")
    assert done.job_id == "j1" and done.created
    assert script.count == 2
    first, second = (json.loads(r.body) for r in script.received)
    assert first == second == {"messages": [{"role": "user", "content": "hi"}], "user_id": "u1"}


def test_creating_a_space_is_not_retried_after_a_503(script: Script) -> None:
    script.error(503).reply(201, {})
    with make_client(script) as client, pytest.raises(ServiceUnavailableError):
        client.spaces.create("work")
    assert script.count == 1


def test_creating_a_space_is_retried_after_a_429(script: Script) -> None:
    space = {
        "id": "s1",
        "tenant_id": "t",
        "name": "work",
        "metadata": {},
        "created_at": "2024-01-01T00:00:00Z",
    }
    script.error(429, headers={"Retry-After": "0"}).reply(201, space)
    with make_client(script) as client:
        assert client.spaces.create("work").name == "work"
    assert script.count == 2


def test_500_is_not_retried(script: Script) -> None:
    script.error(500, "internal", "bug").reply(200, HEALTH)
    with make_client(script) as client, pytest.raises(InternalServerError):
        client.health()
    assert script.count == 1


def test_retry_after_beyond_the_cap_is_raised_not_slept(script: Script) -> None:
    script.error(429, "rate_limited", "slow down", headers={"Retry-After": "3600"})
    with make_client(script) as client, pytest.raises(RateLimitError) as caught:
        client.health()
    assert script.count == 1
    assert caught.value.retry_after == 3600.0


def test_a_proxy_error_page_is_still_an_api_error_and_retried(script: Script) -> None:
    script.reply(502, b"<html>bad gateway</html>").reply(200, HEALTH)
    with make_client(script) as client:
        assert client.health().status == "ok"
    script.reply(502, b"<html>bad gateway</html>")
    with make_client(script, max_retries=0) as client, pytest.raises(MemhubAPIError) as caught:
        client.health()
    assert type(caught.value) is MemhubAPIError
    assert caught.value.status == 502 and caught.value.code == "http_502"
    assert "bad gateway" in caught.value.message


def test_read_timeout_raises_timeout_error(script: Script) -> None:
    script.stall(1.0)
    with make_client(script, timeout=0.2, max_retries=0) as client, pytest.raises(APITimeoutError):
        client.health()


def test_connection_refused_is_an_unsent_connection_error(script: Script) -> None:
    with Client("http://127.0.0.1:9", max_retries=1) as client, pytest.raises(APIConnectionError) as caught:
        client.retry_policy.base_delay = 0.01
        client.health()
    assert not caught.value.request_sent
    assert not isinstance(caught.value, APITimeoutError)
    message = str(caught.value)  # names where it tried and what to do
    assert "connection to http://127.0.0.1:9 failed" in message and "`memhub serve`" in message


STATUS_CLASSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (413, PayloadTooLargeError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (501, NotImplementedServerError),
    (503, ServiceUnavailableError),
]


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
def test_each_status_raises_its_class(script: Script, status: int, cls: type[MemhubAPIError]) -> None:
    script.error(status, f"code_{status}", f"message {status}", details={"field": "x"})
    with make_client(script, max_retries=0) as client, pytest.raises(cls) as caught:
        client.memories.get("m1")
    error = caught.value
    assert type(error) is cls
    assert (error.status, error.code, error.message, error.details) == (
        status,
        f"code_{status}",
        f"message {status}",
        {"field": "x"},
    )
    assert f"{status} code_{status}" in str(error)


def test_requests_carry_the_key_and_encode_ids(script: Script) -> None:
    script.reply(200, {"deleted_memories": 3})
    with make_client(script) as client:
        assert client.users.forget("team/ana b") == 3
    request = script.received[0]
    assert request.method == "DELETE"
    assert request.path == "/v1/users/team%2Fana%20b"
    assert request.headers["Authorization"] == "Bearer mh_test"
    assert request.headers["User-Agent"].startswith("memhub-python/")


def test_a_success_with_the_wrong_shape_is_an_invalid_response(script: Script) -> None:
    script.reply(200, {"unexpected": True})
    with make_client(script) as client, pytest.raises(InvalidResponseError):
        client.memories.search("q")


def test_paging_follows_the_cursor(script: Script) -> None:
    user = {"tenant_id": "t", "created_at": "2024-01-01T00:00:00Z"}
    script.reply(200, {"items": [{**user, "id": "a"}, {**user, "id": "b"}], "next_cursor": "c1"})
    script.reply(200, {"items": [{**user, "id": "c"}], "next_cursor": None})
    with make_client(script) as client:
        page = client.users.list(limit=2)
        assert [u.id for u in page.items] == ["a", "b"] and page.has_next_page()
        assert [u.id for u in page] == ["a", "b", "c"]
    assert [r.path for r in script.received] == ["/v1/users?limit=2", "/v1/users?limit=2&cursor=c1"]


async def test_async_client_retries_the_same_way(script: Script) -> None:
    script.error(429, headers={"Retry-After": "0.3"}).drop().reply(200, HEALTH)
    async with AsyncClient(script.base_url, api_key="k") as client:
        client.retry_policy.base_delay = 0.05
        assert (await client.health()).status == "ok"
    assert script.count == 3
    assert script.gaps()[0] >= 0.3


async def test_async_errors_are_the_same_classes(script: Script) -> None:
    script.error(404, "not_found", "no such memory")
    async with AsyncClient(script.base_url, api_key="k", max_retries=0) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.memories.get("nope")
    assert caught.value.code == "not_found"


async def test_async_paging_with_async_for(script: Script) -> None:
    user = {"tenant_id": "t", "created_at": "2024-01-01T00:00:00Z"}
    script.reply(200, {"items": [{**user, "id": "a"}], "next_cursor": "c1"})
    script.reply(200, {"items": [{**user, "id": "b"}], "next_cursor": None})
    async with AsyncClient(script.base_url, api_key="k") as client:
        page = await client.users.list(limit=1)
        assert [u.id async for u in page] == ["a", "b"]


def test_transport_can_be_replaced(script: Script) -> None:
    """The seam embedded mode uses: any httpx transport."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=HEALTH)

    with Client("http://nowhere", transport=httpx.MockTransport(handler)) as client:
        assert client.health().version == "test"

"""Small raw-HTTP helpers for tests that drive a server with ``httpx`` (no SDK on purpose)."""

from __future__ import annotations

from typing import Any

import httpx

from memhub.core.keycache import AUTH_CACHE_SECONDS

from .polling import poll_until


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll ``GET /v1/jobs/{id}`` until the job has finished; fail on ``failed`` or timeout."""

    def finished() -> dict[str, Any] | None:
        response = client.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        assert job["status"] != "failed", job
        return job if job["status"] == "succeeded" else None

    return poll_until(finished, timeout=timeout, message=f"job {job_id} not finished")


def add_messages(client: httpx.Client, user_id: str, *texts: str, **body: Any) -> dict[str, Any]:
    """Submit user messages and wait until they are searchable; returns the finished job."""
    messages = [{"role": "user", "content": text} for text in texts]
    response = client.post("/v1/memories", json={"messages": messages, "user_id": user_id, **body})
    assert response.status_code == 202, response.text
    return wait_for_job(client, response.json()["job_id"])


def search_episodes(client: httpx.Client, user_id: str, query: str, **options: Any) -> list[dict[str, Any]]:
    """``POST /v1/memories/search`` over ``user_id``'s episodes; the results, after a 200."""
    body = {"query": query, "user_id": user_id, "kinds": ["episode"], **options}
    response = client.post("/v1/memories/search", json=body)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def assert_envelope(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an error with ``status`` in the native envelope; returns the ``error`` object."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def wait_until_refused(client: httpx.Client, path: str = "/v1/info") -> httpx.Response:
    """The first 401 for ``path`` after a key was revoked by *another* process (``memhub keys revoke``).

    A server trusts a key it checked for up to ``AUTH_CACHE_SECONDS`` (see ``core/keycache.py``), so the
    revocation must land within that bound: asked again until then, and failed after it.
    """

    def refused() -> httpx.Response | None:
        response = client.get(path)
        return response if response.status_code == 401 else None

    return poll_until(
        refused,
        timeout=AUTH_CACHE_SECONDS + 1.0,
        interval=0.1,
        message=f"a revoked key still opens {path} after the auth cache's {AUTH_CACHE_SECONDS}s",
    )

"""Small raw-HTTP helpers for tests that drive a server with ``httpx`` (no SDK on purpose)."""

from __future__ import annotations

import time
from typing import Any

import httpx


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll ``GET /v1/jobs/{id}`` until the job has finished; fail on ``failed`` or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] == "succeeded":
            return job
        assert job["status"] != "failed", job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not finished after {timeout}s")


def add_messages(client: httpx.Client, user_id: str, *texts: str, **body: Any) -> dict[str, Any]:
    """Submit user messages and wait until they are searchable; returns the finished job."""
    messages = [{"role": "user", "content": text} for text in texts]
    response = client.post("/v1/memories", json={"messages": messages, "user_id": user_id, **body})
    assert response.status_code == 202, response.text
    return wait_for_job(client, response.json()["job_id"])


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

"""The console app in-process, for tests: an HTTP client on it, its admin key, and helpers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient


@dataclass
class Console:
    """The app under test: an HTTP client on it, the admin key, and a helper to add data via /v1."""

    http: TestClient
    key: str

    def bearer(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def login(self, key: str | None = None) -> None:
        response = self.http.post("/console/login", data={"api_key": key or self.key})
        assert response.status_code == 303, response.text

    def add(self, user_id: str, *texts: str, key: str | None = None, **body: Any) -> dict[str, Any]:
        """Submit user messages through the native API and wait until their job has succeeded."""
        messages = [{"role": "user", "content": t} for t in texts]
        payload = {"messages": messages, "user_id": user_id, **body}
        accepted = self.http.post("/v1/memories", json=payload, headers=self.bearer(key))
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job_id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.http.get(f"/v1/jobs/{job_id}", headers=self.bearer(key)).json()
            if job["status"] == "succeeded":
                return job
            assert job["status"] != "failed", job
            time.sleep(0.02)
        raise AssertionError(f"job {job_id} did not finish")

    def csrf(self) -> str:
        """The signed-in viewer's CSRF token, read from a page's form as a browser would."""
        page = self.http.get("/console").text
        return page.split('name="csrf" value="')[1].split('"')[0]

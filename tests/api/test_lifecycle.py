"""Server lifecycle: graceful SIGTERM, restart on the same data, the first-start admin key."""

from __future__ import annotations

import json
import stat

from support.api import wait_for_job
from support.server import StartServer


def test_sigterm_is_graceful_and_work_in_flight_is_not_lost(start_server: StartServer) -> None:
    server = start_server()
    mode = stat.S_IMODE((server.data_dir / "admin-key").stat().st_mode)
    assert mode == 0o600
    messages = [
        {"role": "user", "content": f"Note {i}: I moved the blue folder to shelf {i}."} for i in range(300)
    ]
    with server.client() as client:
        response = client.post("/v1/memories", json={"messages": messages, "user_id": "mover"})
        assert response.status_code == 202
    assert server.stop() == 0, server.log()[-3000:]
    assert "leases released" in server.log()

    restarted = start_server(data_dir=server.data_dir)
    assert restarted.api_key == server.api_key, "a restart keeps the existing key"
    with restarted.client() as client:
        job = wait_for_job(client, response.json()["job_id"])
        assert len(job["memory_ids"]) >= 40
    keys = restarted.memhub("keys", "list", "--json").stdout.splitlines()
    assert len(keys) == 1 and json.loads(keys[0])["tenant"] == "default"

"""Keys, message contents and ids in paths never reach the log at INFO; keys never reach disk in plaintext.

The JSON-log variant is in ``tests/api/test_errors.py``; this one uses the default text format at
INFO, sends the key through three protocols' headers (native Bearer, GoodMem ``x-api-key``, GUMem
``Api-Key``) including failing requests (a revoked key, a bad body echoing the content), then reads
the server log and every file in the data folder (the SQLite file, its WAL) for the secrets.
"""

from __future__ import annotations

import json
import uuid

from support.api import wait_for_job, wait_until_refused
from support.server import StartServer


def test_keys_and_contents_stay_out_of_info_logs_and_off_disk(start_server: StartServer) -> None:
    server = start_server(log_level="info")
    key = server.create_key("secrets")
    marker = f"private-diary-{uuid.uuid4().hex}"
    with server.client(key) as client:
        body = {"messages": [{"role": "user", "content": marker}], "user_id": "u"}
        job = client.post("/v1/memories", json=body)
        assert job.status_code == 202
        wait_for_job(client, job.json()["job_id"])
        assert client.post("/v1/memories/search", json={"query": marker}).status_code == 200
        assert client.post("/v1/memories", json={**body, "bogus": marker}).status_code == 422
        # ids in paths are personal data too: the access log names the route template instead
        assert client.get(f"/v1/users/{marker}").status_code == 404
        assert client.get(f"/v1/sessions/{marker}/messages").status_code == 404
        assert client.get("/v1/memories", params={"user_id": marker}).status_code == 200
        goodmem = client.get("/goodmem/v1/spaces", headers={"x-api-key": key, "Authorization": ""})
        assert goodmem.status_code == 200
        gumem = client.post(
            "/gumem/api/sessions", json={"user_id": marker}, headers={"Authorization": f"Api-Key {key}"}
        )
        assert gumem.status_code < 300
    listed = server.memhub("keys", "list", "--tenant", "secrets", "--json").stdout
    server.memhub("keys", "revoke", json.loads(listed.splitlines()[0])["id"])
    with server.client(key) as revoked:
        assert wait_until_refused(revoked).status_code == 401
    assert server.stop() == 0

    log = server.log()
    assert "GET /v1/info 401" in log  # the access log is there, at INFO ...
    assert "GET /v1/users/{user_id:path} 404" in log
    assert "GET /v1/sessions/{session_id:path}/messages 404" in log
    # The first-start admin key is printed once to the terminal on purpose (not logged); the other key and
    # the contents must not appear anywhere in the output.
    for secret in (key, marker):
        assert secret not in log  # ... without keys or contents
    for path in server.data_dir.iterdir():
        if path.is_file() and path.name != "admin-key":
            assert key.encode() not in path.read_bytes(), f"plaintext key in {path.name}"

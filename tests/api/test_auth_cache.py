"""The server's key cache, end to end: a key revoked through the server itself stops working at once.

(Revocation by another process — ``memhub keys revoke`` while the server runs — is bounded by
``AUTH_CACHE_SECONDS``; ``test_errors.py::test_missing_wrong_and_revoked_keys_are_401`` covers it.)
"""

from __future__ import annotations

import json
import uuid

from support.api import assert_envelope
from support.server import ServerHandle


def test_a_key_revoked_through_the_server_is_refused_on_the_next_request(server: ServerHandle) -> None:
    tenant = f"cache-{uuid.uuid4().hex[:8]}"
    admin, doomed = server.create_key(tenant, "admin"), server.create_key(tenant, "doomed")
    listed = [
        json.loads(line)
        for line in server.memhub("keys", "list", "--tenant", tenant, "--json").stdout.splitlines()
    ]
    doomed_id = next(k["id"] for k in listed if k["name"] == "doomed")
    with server.client(doomed) as client:
        for _ in range(3):  # checked once against the store, then answered from the cache
            assert client.get("/v1/info").status_code == 200
        revoke = client.delete(
            f"/goodmem/v1/apikeys/{doomed_id}", headers={"x-api-key": admin, "Authorization": ""}
        )
        assert revoke.status_code == 204, revoke.text
        assert_envelope(client.get("/v1/info"), 401, "unauthenticated")
        search = client.post("/v1/memories/search", json={"query": "anything"})
        assert_envelope(search, 401, "unauthenticated")
    with server.client(admin) as still_good:
        assert still_good.get("/v1/info").status_code == 200

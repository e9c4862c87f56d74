"""Deleting a memory (issue 20, item 6): its text and the input it came from are served by no route and
no export afterwards, and the identical input can be added again. A real server per backend."""

from __future__ import annotations

import uuid

import httpx

from support.api import add_messages, wait_for_job
from support.server import ServerHandle, run_memhub


def _word() -> str:
    return "zq" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])


def _everything_served(
    server: ServerHandle, client: httpx.Client, key: str, user: str, session: str, word: str
) -> str:
    """The text of every route and export that could serve the message, concatenated."""
    texts = [
        client.get(f"/v1/sessions/{session}/messages").text,
        client.get("/v1/memories", params={"user_id": user}).text,
        client.post("/v1/memories/search", json={"query": word, "user_id": user}).text,
        client.post("/v1/memories/search", json={"query": word, "user_id": user, "mode": "keyword"}).text,
        httpx.get(
            f"{server.base_url}/gumem/api/sessions/{session}/context",
            params={"query": word},
            headers={"Authorization": f"Api-Key {key}"},
        ).text.replace(f'"query":"{word}"', ""),  # the answer repeats the question
        run_memhub("export", "--url", server.base_url, "--api-key", key).stdout,
    ]
    return "\n".join(texts)


def test_a_deleted_memory_and_its_message_are_served_nowhere_and_can_be_added_again(
    backend_server: ServerHandle,
) -> None:
    server = backend_server
    key = server.create_key(f"del-{uuid.uuid4().hex[:8]}")
    word, user, session = _word(), "collector", f"s-{uuid.uuid4().hex[:8]}"
    message = f"I collect antique {word} teapots."
    with server.client(key) as client:
        add_messages(client, "neighbour", "I keep bees on the roof.", session_id=f"n-{session}")
        job = add_messages(client, user, message, session_id=session)
        assert job["memory_ids"]
        assert word in _everything_served(server, client, key, user, session, word)

        for memory_id in job["memory_ids"]:
            assert client.delete(f"/v1/memories/{memory_id}").status_code == 204
        assert word not in _everything_served(server, client, key, user, session, word)
        assert "bees" in client.get(f"/v1/sessions/n-{session}/messages").text  # only that input went

        again = client.post(
            "/v1/memories",
            json={"messages": [{"role": "user", "content": message}], "user_id": user, "session_id": session},
        )
        assert again.status_code == 202, again.text
        assert again.json()["created"] is True
        wait_for_job(client, again.json()["job_id"])
        hits = client.post("/v1/memories/search", json={"query": word, "user_id": user, "mode": "keyword"})
        texts = [r["memory"]["text"] for r in hits.json()["results"]]
        # the turn and the fact the rule extractor draws from it, as many memories as the first time
        assert message in texts and len(texts) == len(job["memory_ids"])

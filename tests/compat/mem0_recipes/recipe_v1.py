"""The last 1.x Python client (``mem0ai==1.0.11``: ``/v1`` and ``/v2`` paths) against a real memhub.

Run by ``tests/compat/test_mem0_clients.py`` with that version's own venv; ``MEM0_HOST``, ``MEM0_KEY`` and
``MEM0_OTHER_KEY`` come from the test, ``MEM0_TELEMETRY=False`` and ``MEM0_DIR`` are set before the import.
Prints ``ok <step>`` per step; a failed assertion exits non-zero with the reason.
"""

import os
import sys
import time
import uuid

from mem0 import AsyncMemoryClient, MemoryClient

HOST, KEY = os.environ["MEM0_HOST"], os.environ["MEM0_KEY"]


def ok(step):
    print("ok", step, flush=True)


def settle(client, event_id):
    for _ in range(1200):
        event = client.client.get(f"/v1/event/{event_id}/").json()
        if event["status"] == "SUCCEEDED":
            return event
        assert event["status"] != "FAILED", event
        time.sleep(0.05)
    raise AssertionError(f"event {event_id} did not finish")


def main():
    import mem0

    assert mem0.__version__ == "1.0.11" if hasattr(mem0, "__version__") else True
    client = MemoryClient(api_key=KEY, host=HOST)
    ok("ping")
    user = f"v1-user-{uuid.uuid4().hex[:8]}"

    queued = client.add("I keep bees on the allotment in Hackney.", user_id=user)
    (pending,) = queued["results"]
    assert pending["status"] == "PENDING", queued
    event = settle(client, pending["event_id"])
    assert any("bees" in r["data"]["memory"] for r in event["results"]), event
    ok("add (async_mode default) + event polling")

    stored = client.add(
        [{"role": "user", "content": "The hive inspection is every Sunday morning."}],
        user_id=user,
        async_mode=False,
        infer=False,
        metadata={"topic": "bees"},
    )
    memory_id = stored["results"][0]["id"]
    assert stored["results"][0]["memory"] == "The hive inspection is every Sunday morning.", stored
    ok("add async_mode=False infer=False")

    found = client.search("when is the hive inspected?", filters={"user_id": user})
    assert "The hive inspection is every Sunday morning." in [r["memory"] for r in found["results"]], found
    assert all(0 <= r["score"] <= 1 for r in found["results"])
    top_level = client.search("hive", user_id=user, filters={"metadata": {"topic": "bees"}}, top_k=1)
    assert [r["id"] for r in top_level["results"]] == [memory_id], top_level
    ok("search v2")

    listed = client.get_all(filters={"user_id": user})
    assert len(listed["results"]) >= 2, listed
    paged = client.get_all(user_id=user, page=1, page_size=1)
    assert paged["count"] >= 2 and len(paged["results"]) == 1 and paged["next"], paged
    ok("get_all v2")

    assert client.get(memory_id)["memory"] == "The hive inspection is every Sunday morning."
    client.update(memory_id, text="The hive inspection is every Saturday morning.")
    assert client.get(memory_id)["memory"] == "The hive inspection is every Saturday morning."
    assert [h["event"] for h in client.history(memory_id)] == ["ADD", "UPDATE"]
    ok("get/update/history")

    client.batch_update([{"memory_id": memory_id, "text": "Inspection moved to Friday."}])
    assert client.get(memory_id)["memory"] == "Inspection moved to Friday."
    ok("batch_update")

    assert any(e["name"] == user for e in client.users()["results"])
    client.delete(memory_id)
    client.delete_all(user_id=user)
    assert client.get_all(filters={"user_id": user})["results"] == []
    ok("users/delete/delete_all")

    try:
        client.get_summary(filters={"user_id": user})
    except Exception as error:  # the 1.x client raises its own error types
        assert "summaries is not supported by memhub" in str(error), error
    else:
        raise AssertionError("summary was not refused")
    ok("refusals")

    other = MemoryClient(api_key=os.environ["MEM0_OTHER_KEY"], host=HOST)
    assert other.search("hive", filters={"user_id": user}, threshold=0)["results"] == []
    try:
        MemoryClient(api_key="mh_not-a-key", host=HOST)
    except ValueError:
        pass
    else:
        raise AssertionError("a wrong key was accepted")
    ok("isolation")

    import asyncio

    async def flow():
        client = AsyncMemoryClient(api_key=KEY, host=HOST)
        added = await client.add("Async note about wax.", user_id=user, infer=False, async_mode=False)
        mid = added["results"][0]["id"]
        assert (await client.get(mid))["memory"] == "Async note about wax."
        assert (await client.search("wax", filters={"user_id": user}))["results"][0]["id"] == mid
        await client.delete_users(user_id=user)

    asyncio.run(flow())
    ok("async client")


if __name__ == "__main__":
    main()
    print("recipe passed")
    sys.exit(0)

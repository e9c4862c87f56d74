"""``memhub add / search / export / import``, run through the real ``memhub`` click group.

Against ``--data`` the commands use the embedded engine; these tests hand it the deterministic test
embedder through click's context object (see ``memhub.cli.data``) so they need no model. One test runs
``add``/``search`` against a real server with ``--url``/``--api-key``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import memhub
from memhub.cli import main
from support.embedders import HashEmbedder
from support.server import ServerHandle, StartServer


def run(*args: str | Path, ok: bool = True, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args], obj={"embedder": HashEmbedder()}, input=stdin)
    if ok:
        assert result.exit_code == 0, f"{args}: {result.output}\n{result.stderr}\n{result.exception!r}"
    return result


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("command", ["add", "search", "import", "export"])
def test_every_data_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert "--data" in result.output and "--url" in result.output
    assert "Usage: " in result.output


def test_add_then_search_against_a_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    added = run(
        "add", "--user", "ana", "--session", "s1", "I moved to Lisbon", "I love tiled facades", "--data", data
    )
    assert "succeeded" in added.output and "new" in added.output

    found = run("search", "Lisbon", "--user", "ana", "--json", "--data", data)
    results = json.loads(found.output)
    assert results and "Lisbon" in results[0]["memory"]["text"]
    assert 0.0 <= results[0]["score"] <= 1.0

    table = run("search", "tiled facades", "--user", "ana", "--limit", "1", "--data", data)
    assert "facades" in table.output

    again = run(
        "add", "--user", "ana", "--session", "s1", "I moved to Lisbon", "I love tiled facades", "--data", data
    )
    assert "already known" in again.output


def test_search_without_user_searches_every_user_of_the_tenant_and_its_help_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run("add", "--user", "ines", "I grow tomatoes on my balcony", "--data", data)
    run("add", "--user", "joao", "I grow chillies on my balcony", "--data", data)
    query = ["search", "what grows on the balcony?", "--json", "--data", data]
    everyone = {hit["memory"]["user_id"] for hit in json.loads(run(*query).output)}
    ines = {hit["memory"]["user_id"] for hit in json.loads(run(*query, "--user", "ines").output)}
    assert everyone == {"ines", "joao"} and ines == {"ines"}
    assert "every user's memories in the tenant" in " ".join(run("search", "--help").output.split())


def test_url_and_data_exclude_each_other(tmp_path: Path) -> None:
    result = run("search", "x", "--url", "http://127.0.0.1:1", "--data", tmp_path, ok=False)
    assert result.exit_code == 2 and "not both" in result.output + result.stderr


def test_unreachable_server_is_a_clean_error() -> None:
    result = run("search", "x", "--url", "http://127.0.0.1:9", ok=False)
    assert result.exit_code == 1 and "connection to http://127.0.0.1:9 failed" in result.stderr
    assert "memhub serve" in result.stderr and "--data DIR" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def _populate(data: Path) -> None:
    with memhub.Client(path=data, embedder=HashEmbedder()) as client:
        _fill(client)


def _fill(client: memhub.Client) -> None:
    """Every kind of event: session messages, session-less messages, an action, a document, a space."""
    client.spaces.create("work", metadata={"team": "core"})
    client.sessions.create("ana", session_id="s1", metadata={"channel": "web"})
    client.memories.add(
        [
            {"role": "user", "content": "My cat is called Miso", "id": "m1", "metadata": {"k": 1}},
            {"role": "assistant", "content": "Miso is a sweet name", "name": "bot"},
        ],
        user_id="ana",
        session_id="s1",
        metadata={"src": "chat"},
        wait=True,
    )
    client.memories.add("I prefer green tea", user_id="ana", wait=True)
    client.memories.add("Deadline is Friday", user_id="bo", space="work", wait=True)
    client.events.add("ana", "purchase", "a blue kettle", id="e1", wait=True)
    client.events.add("bo", "logout", wait=True)
    client.documents.add(
        "Kettles boil water. " * 30, title="Kettles", user_id="ana", chunk_size=120, wait=True
    )


def _portable(records: list[dict[str, Any]], kind: str) -> Counter[str]:
    """Records of one type, without what legitimately differs between stores: memhub's own ids (of
    groups, memories, and of events the caller gave no id) and creation times."""
    caller_ids = {r["id"] for r in records if r["type"] == "event" and r["id"]}
    volatile = {"group", "created_at"} | ({"id"} if kind == "memory" else set())
    out: Counter[str] = Counter()
    for record in (r for r in records if r["type"] == kind):
        kept = {k: v for k, v in record.items() if k not in volatile}
        if "sources" in kept:
            kept["sources"] = [s if s in caller_ids else "<event>" for s in kept["sources"]]
        out[json.dumps(kept, sort_keys=True)] += 1
    return out


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    _populate(source)
    dump = tmp_path / "dump.jsonl"
    run("export", "--data", source, "--out", dump)
    records = read_jsonl(dump)
    assert records[0]["type"] == "memhub-export" and records[0]["format"] == 1
    kinds = Counter(r["kind"] for r in records if r["type"] == "event")
    assert kinds == {"message": 4, "action": 2, "document": 1}
    assert {r["name"] for r in records if r["type"] == "space"} == {"work"}

    imported = run("import", dump, "--data", target)
    assert "imported 7 events" in imported.stderr
    copy = tmp_path / "copy.jsonl"
    run("export", "--data", target, "--out", copy)
    again = read_jsonl(copy)
    for kind in ("space", "session", "event", "memory"):
        assert _portable(again, kind) == _portable(records, kind), kind

    rerun = run("import", dump, "--data", target)
    assert "(0 new)" in rerun.stderr  # idempotent: same file, same jobs
    run("export", "--data", target, "--out", copy)
    assert _portable(read_jsonl(copy), "memory") == _portable(records, "memory")


def test_export_to_stdout_and_import_from_stdin(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    run("add", "--user", "cy", "Remember the milk", "--data", source)
    dump = run("export", "--data", source).stdout
    assert '"type":"event"' in dump
    run("import", "-", "--data", target, stdin=dump)
    found = json.loads(run("search", "milk", "--user", "cy", "--json", "--data", target).output)
    assert found and "milk" in found[0]["memory"]["text"]


def test_the_import_summary_is_one_line_however_narrow_the_output(tmp_path: Path) -> None:
    source = tmp_path / "source"
    run("add", "--user", "cy", "Remember the milk", "--data", source)
    dump = tmp_path / "dump.jsonl"
    run("export", "--data", source, "--out", dump)
    result = CliRunner().invoke(
        main,
        ["import", str(dump), "--data", str(tmp_path / "target")],
        obj={"embedder": HashEmbedder()},
        env={"COLUMNS": "30"},
    )
    assert result.exit_code == 0, result.output
    summary = [line for line in result.stderr.splitlines() if line.startswith("imported ")]
    assert summary == ["imported 1 events in 1 jobs (1 new); 1 memory lines kept for reference only"]


def test_import_names_the_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "memhub-export", "format": 1}\n\nnot json\n', encoding="utf-8")
    result = run("import", bad, "--data", tmp_path / "d", ok=False)
    assert result.exit_code == 1 and "line 3" in result.stderr


def test_add_and_search_against_a_server(server: ServerHandle) -> None:
    target = ["--url", server.base_url, "--api-key", server.api_key]
    run("add", "--user", "cli-user", "My favourite colour is teal", *target)
    results = json.loads(run("search", "favourite colour", "--user", "cli-user", "--json", *target).output)
    assert results and "teal" in results[0]["memory"]["text"]


def run_real_model(*args: str | Path) -> Result:
    """``run`` without the test embedder: a folder a server (real model) wrote is opened as it was made."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, f"{args}: {result.output}\n{result.stderr}\n{result.exception!r}"
    return result


def test_export_through_a_server_equals_export_of_the_data_folder(
    start_server: StartServer, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    server = start_server(data_dir=source)
    with memhub.Client(server.base_url, server.api_key) as client:
        _fill(client)
        client.memories.add(
            [{"role": "user", "content": f"Session-less note {i}"} for i in range(3)], user_id="cy", wait=True
        )
    via_server, via_data = tmp_path / "server.jsonl", tmp_path / "data.jsonl"
    exported = run("export", "--url", server.base_url, "--api-key", server.api_key, "--out", via_server)
    assert "10 event" in exported.stderr
    server.stop()
    run_real_model("export", "--data", source, "--out", via_data)

    from_server, from_data = read_jsonl(via_server)[1:], read_jsonl(via_data)[1:]  # headers differ in time
    assert from_server == from_data
    events = [r for r in from_server if r["type"] == "event"]
    assert Counter(r["kind"] for r in events) == {"message": 7, "action": 2, "document": 1}
    assert sum(1 for r in events if r["session"] is None) == 8

    target = tmp_path / "target"
    run_real_model("import", via_server, "--data", target)
    copy = tmp_path / "copy.jsonl"
    run_real_model("export", "--data", target, "--out", copy)
    again = read_jsonl(copy)
    for kind in ("space", "session", "event", "memory"):
        assert sum(_portable(again, kind).values()) == sum(_portable(from_server, kind).values()), kind
    query = ["search", "green tea", "--user", "ana", "--json"]
    before = json.loads(run_real_model(*query, "--data", source).output)
    after = json.loads(run_real_model(*query, "--data", target).output)
    assert before and "green tea" in before[0]["memory"]["text"]
    assert [h["memory"]["text"] for h in after] == [h["memory"]["text"] for h in before]

"""The README stays true: two set-up commands at the top, its examples run, its settings table is current."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

import memhub
from memhub.cli import main
from support.server import ServerHandle, StartServer

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.DOTALL)


def _python_blocks() -> list[str]:
    return [code for lang, code in BLOCKS if lang == "python"]


def test_readme_starts_with_exactly_two_setup_commands() -> None:
    head = README.split("## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", head, flags=re.DOTALL)
    assert [c.strip().count("\n") for c in commands] == [0, 0]
    assert "memhub serve" in commands[0]
    assert "scripts/test" in commands[1]
    assert commands[1].strip() in (ROOT / ".ci" / "run").read_text()


def test_settings_table_is_generated_from_settings() -> None:
    table = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "settings_table.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert table in README


def test_embedded_example_runs(tmp_path: Path) -> None:
    code = _python_blocks()[0]
    assert 'memhub.Client(path="./memhub-data")' in code
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, check=False, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Todd" in done.stdout


def _in_server_dir(tmp_path: Path, server: ServerHandle) -> Path:
    (tmp_path / "memhub-data").mkdir()
    (tmp_path / "memhub-data" / "admin-key").write_text(server.api_key + "\n")
    return tmp_path


def test_server_example_runs(tmp_path: Path, server: ServerHandle) -> None:
    code = _python_blocks()[1].replace("http://127.0.0.1:8420", server.base_url)
    cwd = _in_server_dir(tmp_path, server)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, check=False, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Lisbon" in done.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl")
def test_curl_example_runs(tmp_path: Path, server: ServerHandle) -> None:
    script = next(code for lang, code in BLOCKS if lang == "bash" and "curl" in code)
    script = script.replace("localhost:8420", server.base_url.removeprefix("http://"))
    cwd = _in_server_dir(tmp_path, server)
    done = subprocess.run(
        ["bash", "-euc", script], cwd=cwd, check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert '"job_id"' in done.stdout and '"results"' in done.stdout


def test_every_published_extra_install_has_the_checkout_form_next_to_it() -> None:
    """``pip install 'memhub[x]'`` fails until memhub is on PyPI: the form that works from a clone
    (``pip install '.[x]'``) is written in the same paragraph, for an extra pyproject declares."""
    tomllib = pytest.importorskip("tomllib")  # in the standard library from Python 3.11
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    published = 0
    for paragraph in re.split(r"\n\s*\n", README):
        for extra in re.findall(r"pip install ['\"]memhub\[(\w+)\]['\"]", paragraph):
            published += 1
            assert extra in extras, f"README installs an extra pyproject lacks: {extra}"
            assert f"pip install '.[{extra}]'" in paragraph, f"no checkout form next to memhub[{extra}]"
    assert published >= 3  # mcp, postgres, pdf


def test_every_memhub_command_in_the_readme_uses_options_the_command_has() -> None:
    """``memhub bench locomo --data FILE`` stayed in the README after ``--data`` became ``--dataset``
    there (a hidden, deprecated alias): every ``--option`` written after a ``memhub`` command must be
    one of that command's visible options."""
    wrong = []
    for line in re.finditer(r"(?<![\w/.-])memhub ([^`\n|]+)", README):
        words = line.group(1).split()
        command: click.Command = main
        named = []
        while isinstance(command, click.Group) and words and words[0] in command.commands:
            named.append(words[0])
            command = command.commands[words.pop(0)]
        options = {
            name
            for param in command.params
            if isinstance(param, click.Option) and not param.hidden
            for name in (*param.opts, *param.secondary_opts, "--help")
        }
        used = {m.group(0) for w in words if (m := re.match(r"--[\w-]+", w))}
        wrong += [f"memhub {' '.join(named)} {option}" for option in sorted(used - options) if named]
    assert wrong == []


# -------------------------------------------------------------------------------------------------
# The first hour, in the README's order: its examples, then an export through the server imported into a
# fresh folder. Nothing may be lost on the way (issue 25: an export through the server used to drop every
# message without a session, which is every message the README adds).

README_SEARCHES = [  # (query, user, what the top result must say): the searches the README's examples run
    ("what is my son called?", "alice", "Todd"),
    ("where does bob live?", "bob", "Lisbon"),
    ("where should the Europe meeting be?", "alice", "Berlin"),
]


def _memhub(*args: str | Path) -> Result:
    """``memhub ARGS`` in this process, with the real model and none of the developer's ``MEMHUB_*``."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MEMHUB_")}
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    assert result.exit_code == 0, f"memhub {args}: {result.output}\n{result.stderr}\n{result.exception!r}"
    return result


def _summary(result: Result, verb: str) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith(f"{verb} "))


def _counts(dump: Path) -> Counter[str]:
    """What must survive a round trip: events with and without a session, actions, documents, memories."""
    counts: Counter[str] = Counter()
    for record in map(json.loads, dump.read_text(encoding="utf-8").splitlines()):
        if record["type"] == "event":
            where = "in a session" if record["session"] else "without a session"
            counts[f"{record['kind']} {where}"] += 1
        elif record["type"] != "memhub-export":
            counts[record["type"]] += 1
    return counts


def _memory_texts(dump: Path) -> Counter[tuple[str, str, bool]]:
    records = map(json.loads, dump.read_text(encoding="utf-8").splitlines())
    return Counter((r["user"], r["text"], r["core"]) for r in records if r["type"] == "memory")


def _run_readme_examples(work: Path, server: ServerHandle) -> None:
    """The README's examples against a server as written (only the port changed), from the working folder
    ``work``: the SDK's, then curl's (where curl is installed)."""
    host = server.base_url.removeprefix("http://")
    scripts = [
        [sys.executable, "-c", _python_blocks()[1].replace("127.0.0.1:8420", host)],
        [
            "bash",
            "-euc",
            next(c for lang, c in BLOCKS if lang == "bash" and "curl" in c).replace("localhost:8420", host),
        ],
    ]
    for script in scripts[: 2 if shutil.which("curl") else 1]:
        done = subprocess.run(script, cwd=work, check=False, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr


def test_the_readme_walk_through_round_trips_through_the_server(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # the CLI finds ./memhub-data/admin-key, as it would for the user
    embedded = subprocess.run(
        [sys.executable, "-c", _python_blocks()[0]], cwd=work, check=False, capture_output=True, text=True
    )
    assert embedded.returncode == 0 and "Todd" in embedded.stdout, embedded.stderr
    server = start_server(data_dir=work / "memhub-data")
    assert server.api_key, "serve must still make an admin key for a folder first used embedded"
    _run_readme_examples(work, server)
    url = ["--url", server.base_url]  # no --api-key: the CLI reads the local admin key
    _memhub("add", "--user", "carol", "--session", "trip", "I am flying to Oslo on Friday", *url)
    _memhub("add", "--user", "carol", "I drive a red Volvo", *url)
    with memhub.Client(server.base_url, server.api_key) as client:
        client.events.add("carol", "purchase", "a rain jacket", wait=True)
        client.documents.add(
            "Oslo trams run every ten minutes. " * 20, title="Oslo", user_id="carol", wait=True
        )

    via_server, via_data = tmp_path / "server.jsonl", tmp_path / "data.jsonl"
    exported = _summary(_memhub("export", *url, "--out", via_server), "exported")
    assert server.stop() == 0
    assert _summary(_memhub("export", "--data", "memhub-data", "--out", via_data), "exported") == exported
    assert via_server.read_text().splitlines()[1:] == via_data.read_text().splitlines()[1:]  # bar the header
    counts = _counts(via_server)
    readme_messages = 3 + (1 if shutil.which("curl") else 0)  # embedded 2, SDK 1, curl 1
    assert counts["message without a session"] == readme_messages + 1  # and carol's car
    assert counts["message in a session"] == 1
    assert counts["action without a session"] == 1 and counts["document without a session"] == 1
    events = counts.total() - counts["memory"] - counts["session"]
    assert exported == f"exported 1 session, {events} event, {counts['memory']} memory"

    imported = _summary(_memhub("import", via_server, "--data", "fresh"), "imported")
    assert imported.startswith(f"imported {events} events")
    copy = tmp_path / "copy.jsonl"
    assert _summary(_memhub("export", "--data", "fresh", "--out", copy), "exported") == exported
    assert _counts(copy) == counts
    assert _memory_texts(copy) == _memory_texts(via_server)
    for query, user, expected in README_SEARCHES:
        assert query in README
        search = ["search", query, "--user", user, "--json", "--data"]
        before = [h["memory"]["text"] for h in json.loads(_memhub(*search, "memhub-data").output)]
        after = [h["memory"]["text"] for h in json.loads(_memhub(*search, "fresh").output)]
        assert before and expected in before[0], (query, before)
        assert after == before, query

"""The README stays true: two set-up commands at the top, its examples run, its settings table is current."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.server import ServerHandle

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

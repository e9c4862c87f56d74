"""``scripts/check_import_cycles.py``: finds every import cycle, names one path through it, and passes
on the package as it is (``scripts/lint`` runs it, so a new cycle fails CI)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_import_cycles.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_import_cycles", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_package_reexporting_a_module_that_imports_it_is_a_cycle() -> None:
    check = _script()
    graph = {
        "pkg": {"pkg.a"},  # pkg/__init__.py re-exports from pkg.a
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg"},  # ``from pkg import name``: back through the package
        "pkg.c": {"pkg.a"},
        "other": set(),
    }
    assert check.strongly_connected(graph) == [["pkg", "pkg.a", "pkg.b"]]
    assert check.cycle_in(graph, ["pkg", "pkg.a", "pkg.b"]) == ["pkg", "pkg.a", "pkg.b", "pkg"]


def test_an_acyclic_graph_and_a_self_import() -> None:
    check = _script()
    assert check.strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert check.strongly_connected({"a": {"a"}}) == [["a"]]


def test_memhub_has_no_import_cycle() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
    assert "no import cycles in memhub" in done.stdout

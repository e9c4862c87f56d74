"""Fail if the import graph of ``src/memhub`` has a cycle, and print each one.

import-linter's contracts check layers between packages; this check covers what they don't: two modules
(or a package's ``__init__`` and one of its modules) that import each other, directly or through others.
The graph is grimp's (the library import-linter is built on), including imports under ``TYPE_CHECKING``
and inside functions, because each is still a dependency a reader has to untangle.

Usage: ``python scripts/check_import_cycles.py [package]`` (default ``memhub``); exit status 1 on a cycle.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping

import grimp


def reachable(graph: Mapping[str, Iterable[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    frontier = [start]
    while frontier:
        node = frontier.pop()
        for child in graph.get(node, ()):
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    return seen


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of modules that reach each other (a few hundred modules: the quadratic way is instant)."""
    reach = {module: reachable(graph, module) for module in graph}
    components: list[list[str]] = []
    placed: set[str] = set()
    for module in sorted(graph):
        if module in placed or module not in reach[module]:
            continue
        members = sorted(other for other in reach[module] if module in reach[other])
        placed.update(members)
        components.append(members)
    return components


def cycle_in(graph: Mapping[str, Iterable[str]], members: list[str]) -> list[str]:
    """One concrete cycle through the first member of a strongly connected component (breadth-first)."""
    inside = set(members)
    start = members[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child in inside and child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return members


def main(argv: list[str]) -> int:
    package = argv[1] if len(argv) > 1 else "memhub"
    imports = grimp.build_graph(package, cache_dir=None)
    graph = {module: imports.find_modules_directly_imported_by(module) for module in imports.modules}
    components = strongly_connected(graph)
    for members in components:
        print(f"import cycle ({len(members)} modules): " + " -> ".join(cycle_in(graph, members)))
        print("  all modules in it: " + ", ".join(members))
    if components:
        print(f"{len(components)} import cycle(s) in {package}; break each (see docs/architecture.md)")
        return 1
    print(f"no import cycles in {package} ({len(graph)} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

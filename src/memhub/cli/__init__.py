"""The ``memhub`` command (``[project.scripts] memhub = "memhub.cli:main"``, and ``python -m memhub``).

``commands`` holds the root group with ``serve``, ``worker`` and ``keys`` and registers the others:
``data`` (add, search, import, export…), ``ops`` (``mcp``, ``doctor``; the checks are in ``doctor``),
``backup`` (backup, restore) and ``bench``. ``options`` turns click options into ``Settings``.
"""

from __future__ import annotations

from memhub.cli.commands import main

__all__ = ["main"]

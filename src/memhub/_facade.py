"""``memhub.Client`` / ``memhub.AsyncClient``: one client, remote or embedded by one argument.

    memhub.Client("http://127.0.0.1:8420", api_key="mh_…")   # a memhub server
    memhub.Client(path="./memhub-data")                       # the engine in this process

Both are the SDK clients of ``memhub.client`` (subclasses, so ``isinstance`` and type hints work),
given either a URL or an in-process transport from ``memhub.embedded``. Keeping the choice to a single
constructor argument is what lets the same application code — and the same tests — run against both
(qdrant-client's "location" idea). The embedded engine is imported only when ``path`` is used, so the
thin-client use pays nothing for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memhub.client import AsyncClient as _AsyncSDKClient
from memhub.client import Client as _SDKClient

if TYPE_CHECKING:
    from memhub.core.ports import Embedder
    from memhub.embedded.engine import EmbeddedEngine
    from memhub.settings import Settings


def _location(base_url: str | None, path: str | Path | None) -> tuple[str | None, str | Path | None]:
    """Exactly one of ``base_url`` and ``path`` (``$MEMHUB_URL`` stands in for a missing base_url)."""
    if base_url is not None and path is not None:
        raise ValueError("give either base_url (a memhub server) or path (embedded), not both")
    if base_url is None and path is None:
        base_url = os.environ.get("MEMHUB_URL")
        if not base_url:
            raise ValueError(
                "memhub.Client needs base_url='http://host:8420' (a server), or path='./memhub-data' "
                "to run embedded; $MEMHUB_URL is not set either"
            )
    if path is not None:
        _check_folder(Path(path))
    return base_url, path


def _check_folder(path: Path) -> None:
    """``path`` must be a data folder, or creatable as one: not a file, nor below one."""
    in_the_way = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if in_the_way is not None:
        raise ValueError(
            f"path={os.fspath(path)!r} must be a data folder (created if missing), but {in_the_way} "
            "is a file: pass a folder, e.g. path='./memhub-data'"
        )


def _engine(path: str | Path, settings: Settings | None, embedder: Embedder | None) -> EmbeddedEngine:
    from memhub.embedded.engine import EmbeddedEngine, embedded_settings

    return EmbeddedEngine(embedded_settings(path, settings), embedder=embedder)


class Client(_SDKClient):
    """A memhub client: ``Client(base_url, api_key)`` for a server, ``Client(path=dir)`` embedded.

    ``settings`` and ``embedder`` configure the embedded engine only (``embedder`` replaces the
    configured model, e.g. a deterministic one in tests). Other keywords (``timeout``, ``max_retries``,
    ``transport``…) go to :class:`memhub.client.Client`. Embedded, ``close()`` (or leaving the ``with``
    block) shuts the engine down: the worker finishes its batch and the store is closed.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        path: str | Path | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        **kw: Any,
    ) -> None:
        base_url, path = _location(base_url, path)
        self.engine: EmbeddedEngine | None = None
        if path is None:
            super().__init__(base_url, api_key, **kw)
            return
        from memhub.embedded.engine import EMBEDDED_BASE_URL, EmbeddedTransport

        engine = _engine(path, settings, embedder)
        try:
            engine.wait_started()
        except BaseException:
            engine.close()
            raise
        self.engine = engine
        super().__init__(EMBEDDED_BASE_URL, "", transport=EmbeddedTransport(engine), **kw)


class AsyncClient(_AsyncSDKClient):
    """The async twin of :class:`Client` (asyncio), with the same two ways to reach memhub.

    Embedded, the engine starts in the background at construction; the first request waits for it
    (and raises if it could not start). ``await client.aclose()`` shuts it down.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        path: str | Path | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        **kw: Any,
    ) -> None:
        base_url, path = _location(base_url, path)
        self.engine: EmbeddedEngine | None = None
        if path is None:
            super().__init__(base_url, api_key, **kw)
            return
        from memhub.embedded.engine import EMBEDDED_BASE_URL, AsyncEmbeddedTransport

        self.engine = _engine(path, settings, embedder)
        super().__init__(EMBEDDED_BASE_URL, "", transport=AsyncEmbeddedTransport(self.engine), **kw)

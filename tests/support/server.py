"""Start a real ``memhub serve`` process for tests: the server exactly as users run it, on loopback.

``launch_server`` picks a free port, starts ``python -m memhub serve`` with its own data folder and an
environment holding only the ``MEMHUB_*`` settings the test asked for (the developer's own ``MEMHUB_*``
variables are dropped so tests are hermetic), waits for ``/health`` and reads the first-start admin key
from ``<data>/admin-key``. The server's output goes to ``<data>/server.log`` (not a pipe, which could fill
up and block the server); failures quote it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .polling import poll_until

START_TIMEOUT = 60.0  # generous: a cold model load on a busy CI machine
STOP_TIMEOUT = 60.0  # the worker finishes its batch in hand first


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the server is retried on another if it gets taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def settings_env(settings: dict[str, Any]) -> dict[str, str]:
    """``{"rate_limit_per_minute": 5}`` → ``{"MEMHUB_RATE_LIMIT_PER_MINUTE": "5"}`` (lists as JSON)."""
    env = {}
    for name, value in settings.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (list, dict)):
            text = json.dumps(value)
        else:
            text = str(value)
        env[f"MEMHUB_{name.upper()}"] = text
    return env


@dataclass
class ServerHandle:
    """A running server: where it listens, its admin key, its data folder and its process."""

    base_url: str
    api_key: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def client(self, api_key: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client on the server, authenticated with ``api_key`` (default: the admin key)."""
        key = self.api_key if api_key is None else api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30.0, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def memhub(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``memhub ARGS --data <this server's data>`` (e.g. ``keys create``) with the server's env."""
        return run_memhub(*args, "--data", str(self.data_dir), env=self.env, check=check)

    def create_key(self, tenant: str, name: str = "") -> str:
        """A new API key of ``tenant`` (created if new), made with ``memhub keys create``.

        Runs the command in this process (click's runner) against the server's data: the same code on
        the same store as the subprocess :meth:`memhub`, without paying an interpreter start per key.
        """
        from click.testing import CliRunner

        from memhub.cli import main

        args = ["keys", "create", "--tenant", tenant, "--data", str(self.data_dir)]
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MEMHUB_")}
        env.update(self.env)  # the server's own settings (e.g. MEMHUB_DATABASE_URL), nothing else
        result = CliRunner().invoke(
            main, [*args, *(["--name", name] if name else [])], env=env, catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait for the graceful shutdown; kill if it hangs. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(
                    f"server did not stop within {timeout}s:\n{self.log()[-4000:]}"
                ) from None
        return self.process.returncode


StartServer = Callable[..., ServerHandle]
"""The ``start_server`` fixture: ``start_server(data_dir=None, *, args=(), env=None, **settings)``."""


def hermetic_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMHUB_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_memhub(
    *args: str, env: dict[str, str] | None = None, check: bool = True, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """``python -m memhub ARGS`` as a subprocess, with output captured."""
    result = subprocess.run(
        [sys.executable, "-m", "memhub", *args],
        env=hermetic_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"memhub {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def start_worker(data_dir: Path, log_path: Path, **settings: Any) -> subprocess.Popen[bytes]:
    """``memhub worker --data DATA_DIR`` with ``settings`` as ``MEMHUB_*``; stderr goes to ``log_path``."""
    with log_path.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "memhub", "worker", "--data", str(data_dir)],
            env=hermetic_env(settings_env(settings)),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )


def launch_server(
    data_dir: Path,
    *,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = START_TIMEOUT,
    wrapper: Sequence[str] = (),
    **settings: Any,
) -> ServerHandle:
    """Start ``memhub serve`` on a free port with ``settings`` as ``MEMHUB_*`` variables; wait until up.

    ``wrapper`` is a command line the server's own is appended to (e.g. ``unshare -m sh -c …`` to give
    the server a small disk of its own)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server_env = {**settings_env(settings), **(env or {})}
    for _attempt in range(3):
        handle = _spawn(data_dir, free_port(), args, server_env, wrapper)
        if _wait_healthy(handle, timeout):
            handle.api_key = _read_admin_key(data_dir)
            return handle
        if not any(busy in handle.log().lower() for busy in ("address already in use", "is in use")):
            raise AssertionError(f"memhub serve did not come up:\n{handle.log()[-6000:]}")
    raise AssertionError("memhub serve could not find a free port in 3 attempts")


def serve_command(data_dir: Path, port: int, args: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "memhub", "serve", "--port", str(port), "--data", str(data_dir), *args]


def _spawn(
    data_dir: Path, port: int, args: Sequence[str], env: dict[str, str], wrapper: Sequence[str] = ()
) -> ServerHandle:
    log_path = data_dir / "server.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [*wrapper, *serve_command(data_dir, port, args)],
            env=hermetic_env(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return ServerHandle(f"http://127.0.0.1:{port}", "", data_dir, process, log_path, env)


def _wait_healthy(handle: ServerHandle, timeout: float) -> bool:
    """True once ``/health`` answers 200; False if the process exited first (e.g. its port was taken)."""
    with httpx.Client(base_url=handle.base_url, timeout=2.0) as client:

        def up_or_exited() -> str | None:
            if handle.process.poll() is not None:
                return "exited"
            try:
                return "up" if client.get("/health").status_code == 200 else None
            except httpx.TransportError:
                return None

        try:
            return poll_until(up_or_exited, timeout=timeout, message="memhub serve not healthy") == "up"
        except AssertionError as exc:
            handle.stop()
            raise AssertionError(f"{exc}:\n{handle.log()[-6000:]}") from None


def _read_admin_key(data_dir: Path) -> str:
    path = data_dir / "admin-key"
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""

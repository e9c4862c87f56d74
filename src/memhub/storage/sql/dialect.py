"""What differs between the two SQL stores once the SQL text is shared: a small dialect object.

Shared statements are written once, with ``?`` placeholders; :meth:`Dialect.sql` turns them into the
driver's style. Parameters go through :meth:`Dialect.time` / :meth:`Dialect.json` (SQLite stores ISO-8601
text and JSON text, PostgreSQL ``timestamptz`` and ``jsonb``), and rows come back as models through the
dialect's row converters (SQLite decodes text columns; psycopg already returns Python values). Each store
package defines its dialect next to its connections; this module imports no driver.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from memhub.core.errors import NotFound

M = TypeVar("M", bound=BaseModel)


class Rows(Protocol):
    """The cursor a statement returns (``sqlite3.Cursor``, ``psycopg.Cursor``)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection inside the transaction the store opened; rows are read by column name."""

    def execute(self, statement: str, params: Any = ..., /) -> Rows: ...


class Dialect(ABC):
    """Placeholders, parameter encodings, array membership, JSON access and row mapping of one store."""

    cursor_time: str = "?"
    """The placeholder of a time carried by a cursor (ISO-8601 text) in a keyset comparison."""

    lock_row: str = ""
    """What a ``SELECT`` ends with to lock the rows it reads until commit (nothing where writers are
    serialised anyway)."""

    share_row: str = ""
    """As :attr:`lock_row`, in shared mode: readers holding it exclude one holding :attr:`lock_row`
    but not each other."""

    def sql(self, statement: str) -> str:
        """``statement`` (written with ``?`` placeholders) in this driver's placeholder style."""
        return statement

    def placeholders(self, count: int) -> str:
        return ", ".join("?" * count)

    @abstractmethod
    def time(self, value: datetime) -> Any: ...

    def read_time(self, value: Any) -> datetime:
        """A time column as the driver returned it, as a datetime."""
        return value  # type: ignore[no-any-return]  # drivers with a native time type

    def time_or_none(self, value: datetime | None) -> Any:
        return None if value is None else self.time(value)

    @abstractmethod
    def json(self, value: Any) -> Any: ...

    @abstractmethod
    def any_of(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        """A condition true when ``column`` is one of ``values``, and its parameters."""

    @abstractmethod
    def json_string_equals(self, column: str, key: str, value: str) -> tuple[str, list[Any]]:
        """A condition true when the JSON object in ``column`` holds the string ``value`` at ``key``."""

    @abstractmethod
    def insert_new(self, conn: Connection, table: str, columns: str, params: Sequence[Any]) -> bool:
        """Insert one row; False, with nothing written, when a row with one of its unique keys exists."""

    def after_delete(self, conn: Connection, tenant_id: str) -> None:  # noqa: B027 -- not every store needs it
        """Housekeeping after ``tenant_id``'s rows were deleted in cascade, in the deleting transaction:
        what stays derived from deleted text is removed (SQLite: vector tombstones and the FTS segments;
        PostgreSQL: zero-count keyword terms). Unreferenced cached vectors go by trigger on both."""

    def find(self, conn: Connection, cls: type[M], statement: str, params: Sequence[Any]) -> M | None:
        """The model the one row ``statement`` (``?`` placeholders) selects, or None."""
        row = conn.execute(self.sql(statement), params).fetchone()
        return None if row is None else self.model(cls, row)

    def get(self, conn: Connection, cls: type[M], statement: str, params: Sequence[Any], missing: str) -> M:
        """As :meth:`find`, :class:`NotFound` saying ``missing`` when there is no such row."""
        found = self.find(conn, cls, statement, params)
        if found is None:
            raise NotFound(missing)
        return found

    @abstractmethod
    def model(self, cls: type[M], row: Any) -> M:
        """The model ``cls`` (Tenant, ApiKey, Space, User, Session, Event, Job, Record) a row holds."""

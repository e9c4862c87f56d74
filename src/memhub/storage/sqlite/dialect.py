"""The SQLite dialect: ``?`` placeholders, times and JSON stored as text, ``IN (…)`` lists."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..sql.codec import decode_time, encode_json, encode_time
from ..sql.dialect import Connection, Dialect, M
from . import rows
from .vectors import prune_tombstones


class SqliteDialect(Dialect):
    def time(self, value: datetime) -> str:
        return encode_time(value)

    def read_time(self, value: Any) -> datetime:
        return decode_time(value)

    def json(self, value: Any) -> str:
        return encode_json(value)

    def any_of(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} IN ({self.placeholders(len(values))})", list(values)

    def json_string_equals(self, column: str, key: str, value: str) -> tuple[str, list[Any]]:
        # json_extract of a non-string (number, true) is not TEXT, so it never equals the string
        return f"json_extract({column}, ?) = ?", [f'$."{key}"', value]

    def insert_new(self, conn: Connection, table: str, columns: str, params: Sequence[Any]) -> bool:
        try:
            conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({self.placeholders(len(params))})", params)
        except sqlite3.IntegrityError:
            return False
        return True

    def after_delete(self, conn: Connection) -> None:
        prune_tombstones(conn)  # type: ignore[arg-type]  # only ever handed a sqlite3.Connection

    def model(self, cls: type[M], row: Any) -> M:
        return rows.model_from_row(cls, row)


SQLITE = SqliteDialect()

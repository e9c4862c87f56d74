"""The PostgreSQL dialect: ``%s`` placeholders, ``timestamptz`` and ``jsonb`` values, ``= ANY(array)``.

psycopg returns ``timestamptz`` as aware datetimes and ``jsonb`` as Python values, and the column names
are the models' field names, so a row (a dict) validates straight into its model.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from psycopg.types.json import Jsonb

from ..sql.dialect import Connection, Dialect, M
from .keyword_terms import drop_zero_terms
from .rows import utc


@lru_cache(maxsize=512)
def _pyformat(statement: str) -> str:
    return statement.replace("%", "%%").replace("?", "%s")


class PostgresDialect(Dialect):
    cursor_time = "?::timestamptz"
    lock_row = " FOR UPDATE"
    share_row = " FOR SHARE"

    def sql(self, statement: str) -> str:
        return _pyformat(statement)

    def time(self, value: datetime) -> datetime:
        return utc(value)

    def json(self, value: Any) -> Jsonb:
        return Jsonb(value)

    def any_of(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?::text[])", [list(values)]

    def json_string_equals(self, column: str, key: str, value: str) -> tuple[str, list[Any]]:
        # the type test keeps a JSON number or boolean from matching its text (->> would render it)
        return f"jsonb_typeof({column} -> ?) = 'string' AND {column} ->> ? = ?", [key, key, value]

    def insert_new(self, conn: Connection, table: str, columns: str, params: Sequence[Any]) -> bool:
        # not a caught unique violation: in PostgreSQL an error aborts the caller's whole transaction
        values = self.placeholders(len(params))
        statement = f"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING"
        return conn.execute(self.sql(statement), params).rowcount == 1

    def after_delete(self, conn: Connection, tenant_id: str) -> None:
        drop_zero_terms(conn, tenant_id)  # type: ignore[arg-type]  # only ever handed a psycopg connection

    def model(self, cls: type[M], row: Any) -> M:
        return cls.model_validate(row)


POSTGRES = PostgresDialect()

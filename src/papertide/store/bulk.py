"""Inserting many new rows at once, for bulk imports: the driver's own fast route (SQLite's
executemany, PostgreSQL's COPY) on values converted by SQLAlchemy's bind processors, so that
what is stored is exactly what a Core `table.insert()` would store, without its per-row cost
(compiling parameters row by row took most of an import's store time)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeEngine

from papertide.store.engine import dump_json

Processor = Callable[[Any], Any] | None


@functools.cache
def _processors(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[Processor, ...]:
    """Each column's bind processor on DIALECT (JSON encoding, SQLite's datetime text...)."""
    return tuple(_processor(table.c[name].type.dialect_impl(dialect), dialect) for name in columns)


def _processor(column_type: TypeEngine[Any], dialect: Dialect) -> Processor:
    if dialect.name == "postgresql" and isinstance(column_type, JSON):
        # COPY takes JSON as text. SQLAlchemy's processor would wrap the value for psycopg,
        # which encodes it again with the standard library's json (the slowest part of a COPY)
        # and checks it for NUL, which no record holds (records.clean_text).
        return dump_json
    return column_type.bind_processor(dialect)


def converter(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """What converts one row of COLUMNS' values (a tuple) as DIALECT's driver takes them."""
    processors = _processors(table, columns, dialect)
    # only the columns that have a processor: most (text, integers) go as they are
    active = [(index, process) for index, process in enumerate(processors) if process]

    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(row) != len(processors):
            raise ValueError(f"{len(row)} values for {len(processors)} columns")
        values = list(row)
        for index, process in active:
            values[index] = process(values[index])
        return tuple(values)

    return convert


def _tuples(
    rows: Sequence[dict[str, Any]], columns: tuple[str, ...], processors: tuple[Processor, ...]
) -> list[tuple[Any, ...]]:
    """ROWS as tuples of converted values; column by column, which maps each processor over
    a list in one call instead of calling it row by row."""
    values = []
    for name, process in zip(columns, processors, strict=True):
        column = [row[name] for row in rows]
        values.append(list(map(process, column)) if process else column)
    return list(zip(*values, strict=True))


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ROWS (dicts with the same keys, every value given: no column default is applied)
    into TABLE inside the caller's transaction. A row whose key exists fails the whole insert
    with IntegrityError, as Core's insert would."""
    if rows:
        columns = tuple(rows[0])
        processors = _processors(table, columns, conn.dialect)
        insert_values(conn, table, columns, _tuples(rows, columns, processors))


def insert_values(
    conn: Connection, table: Table, columns: tuple[str, ...], values: Sequence[tuple[Any, ...]]
) -> None:
    """insert_rows for rows of COLUMNS whose values are converted already (see `converter`)."""
    if not values:
        return
    names = ", ".join(f'"{name}"' for name in columns)
    if conn.dialect.name == "postgresql":
        _copy(conn, f'COPY "{table.name}" ({names}) FROM STDIN', values)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


def _copy(conn: Connection, statement: str, values: Sequence[tuple[Any, ...]]) -> None:
    """COPY ... FROM STDIN with psycopg 3, on the connection's own transaction; a unique key
    clash is raised as SQLAlchemy's IntegrityError, which callers retry on."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except dbapi.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from exc

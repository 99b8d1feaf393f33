"""The only place that knows which database it talks to: per-dialect SQL and connection settings."""

from __future__ import annotations

import fcntl
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Engine


def with_default_driver(url: URL) -> URL:
    """URL with the driver papertide installs: a plain `postgresql://` (what users copy) means
    psycopg 3, which SQLAlchemy 2.0 would not pick by itself (it looks for psycopg2)."""
    if url.drivername == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    return url


# Any fixed number: the key of PostgreSQL's advisory lock that serialises schema migrations.
_MIGRATION_LOCK = 0x7061_7065_7274_6964  # "papertid"


def sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite URL; None for an in-memory or server database."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database)
    return None


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while the schema is migrated, across processes: app instances starting together on a
    new database would otherwise each create the same tables and all but one fail."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
        return
    database = sqlite_file(engine.url)
    if database is None:
        yield  # an in-memory database has one user
        return
    # flock on the database file itself: independent of SQLite's own (fcntl) locks on Linux,
    # and no lock file left beside it. The file exists: checking the revision opened it.
    with open(database, "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


NEW_FILE_PAGE_SIZE = 16_384
# A bulk import's page cache (KiB; SQLite's default is 2 MB): its inserts land all over large
# indexes, and with a small cache each one reads its page again and spills dirty ones early.
BULK_CACHE_KIB = 262_144


@contextmanager
def bulk_writing(engine: Engine) -> Iterator[None]:
    """Connections taken from ENGINE meanwhile are tuned for a bulk import; afterwards the pool
    is emptied, so that no later user keeps the large cache. (Setting the cache back on each
    return to the pool would empty it between batches.) An in-memory database, which lives
    only as long as its connection, is left as it is."""
    if sqlite_file(engine.url) is None:
        yield
        return

    def tune(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")

    event.listen(engine, "checkout", tune)
    try:
        yield
    finally:
        event.remove(engine, "checkout", tune)
        engine.dispose()


def configure(engine: Engine) -> None:
    """Connection settings each dialect needs to be a safe embedded or server store."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_dumpers)
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # Only a new, empty file takes it (before WAL is on). A stored paper and its source
        # record are about 2 kB each: a 4 kB page holds one, half empty, a 16 kB page seven.
        cursor.execute(f"PRAGMA page_size={NEW_FILE_PAGE_SIZE}")
        # WAL lets readers (web, CLI) run while an import writes; NORMAL is durable in WAL mode
        # up to the last checkpoint, which is what the resumable jobs rely on.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


@functools.cache
def _nul_free_str_dumpers() -> tuple[type, ...]:
    """psycopg dumpers for str that send U+0000 as U+FFFD: PostgreSQL text cannot hold NUL, and
    psycopg refuses such a value, so a NUL in a request (a paper id, a search, a form field)
    failed the query; SQLite takes it. No stored text holds NUL, so lookups lose nothing."""
    from psycopg.types.string import StrBinaryDumper, StrDumperUnknown

    class NulFreeText(StrDumperUnknown):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\x00", "\ufffd"))

    class NulFreeBinary(StrBinaryDumper):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\x00", "\ufffd"))

    return NulFreeText, NulFreeBinary


# `\u0000` in JSON text, not preceded by an odd number of backslashes (`\\u0000` is a
# backslash and the letters u0000)
_JSON_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def _nul_free_json(data: bytes) -> bytes:
    return _JSON_NUL.sub(rb"\1\\ufffd", data)


@functools.cache
def _nul_free_jsonb_dumpers() -> tuple[type, ...]:
    """The same for jsonb, which refuses `\u0000` (a resumption token or any stored JSON
    with a NUL failed its whole write)."""
    from psycopg.types.json import JsonbBinaryDumper, JsonbDumper

    class NulFreeJsonb(JsonbDumper):
        def dump(self, obj: Any) -> Any:
            return _nul_free_json(bytes(super().dump(obj)))

    class NulFreeJsonbBinary(JsonbBinaryDumper):
        def dump(self, obj: Any) -> Any:
            data = bytes(super().dump(obj))
            return data[:1] + _nul_free_json(data[1:])  # after jsonb's version byte

    return NulFreeJsonb, NulFreeJsonbBinary


def _postgresql_dumpers(dbapi_connection: Any, _record: Any) -> None:
    from psycopg.types.json import Jsonb

    for dumper in _nul_free_str_dumpers():
        dbapi_connection.adapters.register_dumper(str, dumper)
    for dumper in _nul_free_jsonb_dumpers():
        dbapi_connection.adapters.register_dumper(Jsonb, dumper)


def insert_ignoring_conflicts(table: Table, engine_name: str) -> Any:
    """INSERT that silently skips rows whose primary or unique key already exists; its
    result's rowcount says how many rows it did insert (callers branch on it)."""
    if engine_name == "sqlite":
        statement = sqlite.insert(table)
    elif engine_name == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise NotImplementedError(f"database {engine_name!r} is not supported")
    # SQLAlchemy keeps an INSERT's rowcount only when asked: psycopg's reads -1 otherwise
    # (sqlite3's happened to survive), so a vote never toggled off and a checkpoint never moved.
    return statement.on_conflict_do_nothing().execution_options(preserve_rowcount=True)


def conflict_retries(engine_name: str) -> int:
    """How often a batch of paper writes that lost a race on a unique key is rolled back to its
    savepoint and done again. None on SQLite: a savepoint there opens the transaction before
    the batch's reads, so any write by another connection in between (a vote) would fail the
    batch with 'database is locked' instead of waiting its turn."""
    return 0 if engine_name == "sqlite" else 3


def max_bind_params(engine_name: str) -> int:
    """How many values one IN (...) list may carry."""
    return 900 if engine_name == "sqlite" else 10_000


def upsert(table: Table, engine_name: str, key: list[str], columns: list[str] | None = None) -> Any:
    """INSERT that, for a row whose KEY already exists, sets COLUMNS (default: every non-key
    column) from the new row, in the one statement: no read-modify-write to race with."""
    if engine_name == "sqlite":
        statement = sqlite.insert(table)
    elif engine_name == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise NotImplementedError(f"database {engine_name!r} is not supported")
    names = columns or [c.name for c in table.columns if c.name not in key]
    updates = {name: statement.excluded[name] for name in names}
    return statement.on_conflict_do_update(index_elements=key, set_=updates)

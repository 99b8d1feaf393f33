"""Opening the database: URL resolution, engine settings and schema migrations."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from papertide.store import dialect

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(Exception):
    """The database cannot be opened or used; the message is meant for the user."""


def normalize_url(url: str) -> str:
    """Accept a bare file path as shorthand for an SQLite database."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


# The databases papertide is built and tested for; SQLAlchemy would open others, but the
# migrations and queries (store/dialect.py) know only these.
SUPPORTED_BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# pip packages of the drivers SQLAlchemy imports for postgresql:// (by module name)
DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pg8000": "pg8000"}


def parse_url(url: str) -> URL:
    """URL (or a bare SQLite file path) parsed and checked: a StoreError, meant for the user,
    when it is not a URL or names a database papertide does not support."""
    try:
        parsed = make_url(normalize_url(url))
    except Exception as exc:
        raise StoreError(f"not a database URL: {url}") from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise StoreError(
            f"{backend} databases are not supported: papertide works with SQLite "
            "(a file path or sqlite:///FILE) and PostgreSQL (postgresql://USER@HOST/NAME)"
        )
    return parsed


def require_existing(url: str) -> None:
    """StoreError when URL names an SQLite file that does not exist: commands that only read
    say so instead of creating an empty database (and its folders) where a typo pointed."""
    file = dialect.sqlite_file(parse_url(url))
    try:
        missing = file is not None and not file.exists()
    except OSError as exc:  # a name too long for the file system
        raise StoreError(f"cannot use {file}: {exc.strerror or exc}") from exc
    if missing:
        raise StoreError(f"no database at {file}: `papertide init` creates one")


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """Engine for URL (as Settings resolves it) with the schema at the latest migration."""
    parsed = parse_url(url)
    file = dialect.sqlite_file(parsed)
    try:
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        # orjson: JSON columns are written for every paper and source, and it is much faster.
        engine = create_engine(
            dialect.with_default_driver(parsed),
            json_serializer=dump_json,
            json_deserializer=orjson.loads,
            # A server restarted while the pool was idle leaves every pooled connection dead:
            # each is tested (one round trip) before use and replaced, so the first requests
            # after the restart do not fail. An SQLite connection cannot go stale.
            pool_pre_ping=parsed.get_backend_name() != "sqlite",
        )
    except ImportError as exc:  # the URL's driver is not installed
        package = DRIVER_PACKAGES.get(exc.name or "", exc.name)
        name = SUPPORTED_BACKENDS[parsed.get_backend_name()]
        raise StoreError(
            f"{name} needs the {exc.name} driver, which is not installed: pip install '{package}'"
        ) from exc
    except (OSError, SQLAlchemyError) as exc:
        raise StoreError(f"cannot open {parsed.render_as_string()}: {exc}") from exc
    dialect.configure(engine)
    if migrate:
        upgrade(engine)
    return engine


def dump_json(value: object) -> str:
    return orjson.dumps(value).decode()


def offline_dialect(backend: str) -> Dialect:
    """The dialect of BACKEND ("sqlite" or "postgresql") as open_engine sets it up, without a
    connection: for converting values in a process that does not connect (store/prepared.py)."""
    url = dialect.with_default_driver(URL.create(backend))
    return create_engine(url, json_serializer=dump_json, json_deserializer=orjson.loads).dialect


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def upgrade(engine: Engine) -> None:
    """Run pending migrations; a no-op (one cheap query) when the schema is current."""
    try:
        if current_revision(engine) == head_revision(engine):
            return
        with dialect.migration_lock(engine):
            if current_revision(engine) != head_revision(engine):  # not done while we waited
                command.upgrade(_alembic_config(engine), "head")
    except Exception as exc:
        if database_failure(exc) is not None:
            raise  # the server is down, the disk full...: said as such by the CLI and web app
        # a driver's own message, without SQLAlchemy's "Background on this error" link
        detail = getattr(exc, "orig", None) or exc
        raise StoreError(
            f"cannot open or migrate the database: {detail}{_read_only_folder(engine)}"
        ) from exc


def _read_only_folder(engine: Engine) -> str:
    """Why SQLite says only "unable to open database file" when the database's folder (a
    read-only file system) takes no writes: in WAL mode even a reader writes the -shm file."""
    file = dialect.sqlite_file(engine.url)
    if file is None or os.access(file.parent, os.W_OK):
        return ""
    return f" ({file.parent} is read-only, and SQLite writes beside the database even to read it)"


# What `database_failure` answers: the state of the database, not a fault of the query.
UNREACHABLE = "unreachable"  # the server is down, restarting, or dropped the connection
FULL = "full"  # no space left for the database
READ_ONLY = "read-only"  # the database takes no writes

# SQLite's primary result codes (the low byte of an extended one)
_SQLITE_KINDS = {13: FULL, 8: READ_ONLY}  # SQLITE_FULL, SQLITE_READONLY
# PostgreSQL SQLSTATEs, and classes by their first two characters
_POSTGRESQL_KINDS = {
    "53100": FULL,  # disk_full
    "53300": UNREACHABLE,  # too_many_connections: no session to be had right now
    "25006": READ_ONLY,  # read_only_sql_transaction
    "57P01": UNREACHABLE,  # admin_shutdown (a fast or immediate stop)
    "57P02": UNREACHABLE,  # crash_shutdown
    "57P03": UNREACHABLE,  # cannot_connect_now (starting up or shutting down)
    "08": UNREACHABLE,  # connection_exception
}


def database_failure(exc: BaseException) -> str | None:
    """UNREACHABLE, FULL or READ_ONLY when EXC (or an exception it was raised from) says
    the database could not do its part whatever was asked; None for anything else (a bad
    query, a constraint): callers answer these with "try again later", not as a defect."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = _kind_of(current)
        if kind is not None:
            return kind
        current = current.__cause__ or current.__context__
    return None


def _kind_of(exc: BaseException) -> str | None:
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return _SQLITE_KINDS.get(code & 0xFF)
    state = getattr(orig, "sqlstate", None)  # psycopg's; None when no server answered
    if state is not None:
        return _POSTGRESQL_KINDS.get(state) or _POSTGRESQL_KINDS.get(state[:2])
    # no SQLSTATE, as no server answered: connection refused, server closed the connection,
    # the connection is closed
    if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
        return UNREACHABLE
    return None

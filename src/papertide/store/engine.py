"""Opening the database: URL resolution, engine settings and schema migrations."""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

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


def sqlite_file(parsed: URL) -> Path | None:
    """The file of an SQLite URL; None for an in-memory or server database."""
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database)
    return None


def require_existing(url: str) -> None:
    """StoreError when URL names an SQLite file that does not exist: commands that only read
    say so instead of creating an empty database (and its folders) where a typo pointed."""
    file = sqlite_file(parse_url(url))
    try:
        missing = file is not None and not file.exists()
    except OSError as exc:  # a name too long for the file system
        raise StoreError(f"cannot use {file}: {exc.strerror or exc}") from exc
    if missing:
        raise StoreError(f"no database at {file}: `papertide init` creates one")


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """Engine for URL (as Settings resolves it) with the schema at the latest migration."""
    parsed = parse_url(url)
    file = sqlite_file(parsed)
    try:
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        # orjson: JSON columns are written for every paper and source, and it is much faster.
        engine = create_engine(
            dialect.with_default_driver(parsed),
            json_serializer=_dump_json,
            json_deserializer=orjson.loads,
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


def _dump_json(value: object) -> str:
    return orjson.dumps(value).decode()


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
        # a driver's own message, without SQLAlchemy's "Background on this error" link
        detail = getattr(exc, "orig", None) or exc
        raise StoreError(f"cannot open or migrate the database: {detail}") from exc

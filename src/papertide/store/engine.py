"""Opening the database: URL resolution, engine settings and schema migrations."""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
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


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """Engine for URL (as Settings resolves it) with the schema at the latest migration."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise StoreError(f"not a database URL: {url}") from exc
    try:
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # orjson: JSON columns are written for every paper and source, and it is much faster.
        engine = create_engine(url, json_serializer=_dump_json, json_deserializer=orjson.loads)
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
        command.upgrade(_alembic_config(engine), "head")
    except Exception as exc:
        raise StoreError(f"cannot open or migrate the database: {exc}") from exc

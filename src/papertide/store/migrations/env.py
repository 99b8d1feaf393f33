"""Alembic environment: runs against the engine papertide passes in (see store/engine.py)."""

from alembic import context

from papertide.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    context.run_migrations()

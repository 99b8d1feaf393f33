"""JSON columns are jsonb on PostgreSQL

Revision ID: 0008
Revises: 0007

PostgreSQL's `json` type has no equality operator, so a query such as "papers with code"
(`code_urls != '[]'`) failed there. `jsonb` compares, and is not re-parsed on every read.
SQLite stores JSON as text either way: nothing changes there.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON_COLUMNS = {
    "papers": ("authors", "categories", "code_urls", "keywords"),
    "paper_sources": ("record",),
    "checkpoints": ("state",),
    "outbox": ("paper_ids",),
    "topics": ("terms",),
}


def _retype(target: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in JSON_COLUMNS.items():
        changes = ", ".join(
            f"ALTER COLUMN {name} TYPE {target} USING {name}::{target}" for name in columns
        )
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade() -> None:
    _retype("jsonb")


def downgrade() -> None:
    _retype("json")

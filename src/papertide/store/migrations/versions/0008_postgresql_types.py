"""PostgreSQL columns hold what SQLite's hold: jsonb, 64-bit integers, unbounded text

Revision ID: 0008
Revises: 0007

On PostgreSQL the first schema had three differences from SQLite that made valid data fail:
- `json` has no equality operator, so "papers with code" (`code_urls != '[]'`) failed; `jsonb`
  compares (and is stored parsed);
- INTEGER is 32-bit there (SQLite's are 64): an upvote count or an id above 2**31 failed;
- VARCHAR(n) is enforced there (SQLite ignores it): a longer DOI, source id or file path in a
  job name failed the whole batch.
SQLite stores JSON as text, integers in 64 bits and text at any length already: nothing changes
there.
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
INTEGER_COLUMNS = {
    "ingest_runs": ("id", "new", "updated", "duplicates", "rejected"),
    "login_failures": ("id",),
    "papers": ("upstream_upvotes", "github_stars"),
    "topics": ("id", "size"),
    "users": ("id",),
    "api_tokens": ("user_id",),
    "follows": ("id", "user_id"),
    "library": ("user_id", "rating"),
    "paper_sources": ("id",),
    "paper_topics": ("topic_id",),
    "seen": ("user_id",),
    "sessions": ("user_id",),
    "subscribers": ("id", "user_id", "generation"),
    "upvotes": ("user_id",),
    "outbox": ("id", "subscriber_id", "attempts"),
}
# the lengths the first schema declared (downgrade restores them)
TEXT_COLUMNS = {
    "checkpoints": {"job": 500},
    "ingest_runs": {"source": 200},
    "login_failures": {"key": 400},
    "papers": {"id": 200, "title_key": 12, "arxiv_id": 64, "doi": 200, "content_hash": 16},
    "settings": {"key": 100},
    "topics": {"label": 300},
    "users": {"username": 64, "username_key": 300, "email": 320, "role": 16},
    "api_tokens": {"token_hash": 64, "name": 100},
    "embeddings": {"paper_id": 200, "model": 200, "content_hash": 16},
    "follows": {"kind": 16, "value": 500},
    "library": {"paper_id": 200},
    "paper_keys": {"key": 250, "paper_id": 200},
    "paper_sources": {"paper_id": 200, "source": 32, "source_id": 250},
    "paper_topics": {"paper_id": 200},
    "seen": {"paper_id": 200},
    "sessions": {"token_hash": 64},
    "subscribers": {"email": 320, "period": 8},
    "upvotes": {"paper_id": 200},
    "outbox": {"period_key": 32, "status": 8, "message_id": 200},
}


def _retype(changes: dict[str, list[tuple[str, str]]]) -> None:
    """One ALTER TABLE per table: (column, new type) pairs, each value cast to its new type."""
    for table, columns in changes.items():
        clauses = ", ".join(
            f"ALTER COLUMN {name} TYPE {to} USING {name}::{to}" for name, to in columns
        )
        op.execute(f"ALTER TABLE {table} {clauses}")


def _changes(json: str, integer: str, text: dict[str, dict[str, str]]) -> dict:
    changes: dict[str, list[tuple[str, str]]] = {}
    for table, names in JSON_COLUMNS.items():
        changes.setdefault(table, []).extend((name, json) for name in names)
    for table, names in INTEGER_COLUMNS.items():
        changes.setdefault(table, []).extend((name, integer) for name in names)
    for table, types in text.items():
        changes.setdefault(table, []).extend(types.items())
    return changes


def _id_sequences(as_type: str) -> None:
    """Sequences of the SERIAL ids count as far as their column can hold."""
    for table, names in INTEGER_COLUMNS.items():
        if "id" in names:
            op.execute(
                "DO $$ DECLARE s text := pg_get_serial_sequence("
                f"'{table}', 'id'); BEGIN IF s IS NOT NULL THEN "
                f"EXECUTE format('ALTER SEQUENCE %s AS {as_type}', s); END IF; END $$"
            )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    unbounded = {
        table: dict.fromkeys(lengths, "varchar") for table, lengths in TEXT_COLUMNS.items()
    }
    _retype(_changes("jsonb", "bigint", unbounded))
    _id_sequences("bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _id_sequences("integer")
    declared = {
        table: {name: f"varchar({n})" for name, n in lengths.items()}
        for table, lengths in TEXT_COLUMNS.items()
    }
    _retype(_changes("json", "integer", declared))

"""keywords and a one-line summary per paper

Revision ID: 0011
Revises: 0014 (merged after it)

Derived by the index run (search/extracts.py), cached by the paper's content hash and the
method that made them, so a re-run computes nothing twice.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0014"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(JSONB(), "postgresql")


def _text_up_to(length: int) -> sa.types.TypeEngine:
    """As store/schema.py declares it: VARCHAR(LENGTH) on SQLite, unbounded on PostgreSQL."""
    return sa.String(length).with_variant(sa.String(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "paper_extracts",
        sa.Column("paper_id", _text_up_to(200), sa.ForeignKey("papers.id"), primary_key=True),
        sa.Column("content_hash", _text_up_to(16), nullable=False),
        sa.Column("keywords", JSON_DOCUMENT, nullable=False),
        sa.Column("keyword_method", _text_up_to(40), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("summary_kind", _text_up_to(16), nullable=False),
        sa.Column("summary_model", sa.Text),
        sa.Column("summary_error", sa.Text),
        sa.Column("computed_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("paper_extracts")

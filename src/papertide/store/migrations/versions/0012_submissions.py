"""papers submitted to the daily lists

Revision ID: 0012
Revises: 0013 (merged after 0013)

Members submit papers (and Hugging Face's community did: its daily papers say who); the lists
show them as their own view. One row per paper.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0013"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine:
    return sa.String(length).with_variant(sa.String(), "postgresql")


def _int64() -> sa.types.TypeEngine:
    return sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", _int64(), primary_key=True, autoincrement=True),
        sa.Column("paper_id", _text(200), nullable=False),
        sa.Column("origin", _text(16), nullable=False),
        sa.Column("user_id", _int64()),
        sa.Column("submitter", _text(200), nullable=False),
        sa.Column("submitter_fullname", _text(200)),
        sa.Column("comment", sa.Text()),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime()),
        sa.Column("removed_by", _int64()),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name="fk_submissions_paper_id_papers"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_submissions_user_id_users"),
        sa.ForeignKeyConstraint(
            ["removed_by"], ["users.id"], name="fk_submissions_removed_by_users"
        ),
        sa.UniqueConstraint("paper_id", name="uq_submissions_paper_id"),
    )
    op.create_index("ix_submissions_user_id", "submissions", ["user_id"])
    op.create_index("ix_submissions_submitter", "submissions", ["submitter"])
    op.create_index("ix_submissions_submitted_at", "submissions", ["submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_submissions_submitted_at", "submissions")
    op.drop_index("ix_submissions_submitter", "submissions")
    op.drop_index("ix_submissions_user_id", "submissions")
    op.drop_table("submissions")

"""discussions: comments on papers, members' reports of them, reply digests

Revision ID: 0013
Revises: 0009

A thread per paper: comments and one level of replies, edited or deleted by their authors and
hidden by admins; reports for admins to review; and, per member, up to when replies to their
threads have been mailed in a digest.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None

# What store/schema.py declares (its INT64 and text_up_to), as of this revision.
INT64 = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def text_up_to(length: int) -> sa.types.TypeEngine:
    return sa.String(length).with_variant(sa.String(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", INT64, primary_key=True, autoincrement=True),
        sa.Column("paper_id", text_up_to(200), nullable=False),
        sa.Column("user_id", INT64, nullable=False),
        sa.Column("parent_id", INT64),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("edited_at", sa.DateTime()),
        sa.Column("deleted_at", sa.DateTime()),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_comments_paper_id_papers")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_comments_user_id_users")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["comments.id"], name=op.f("fk_comments_parent_id_comments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    for column in ("paper_id", "user_id", "parent_id", "created_at"):
        op.create_index(op.f(f"ix_comments_{column}"), "comments", [column])
    op.create_table(
        "comment_reports",
        sa.Column("id", INT64, primary_key=True, autoincrement=True),
        sa.Column("comment_id", INT64, nullable=False),
        sa.Column("user_id", INT64, nullable=False),
        sa.Column("reason", text_up_to(500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_comment_reports_comment_id_comments")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_comment_reports_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_reports")),
        sa.UniqueConstraint(
            "comment_id", "user_id", name=op.f("uq_comment_reports_comment_id_user_id")
        ),
    )
    op.create_index(op.f("ix_comment_reports_comment_id"), "comment_reports", ["comment_id"])
    op.create_table(
        "reply_digests",
        sa.Column("user_id", INT64, nullable=False),
        sa.Column("replies_until", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reply_digests_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reply_digests")),
    )


def downgrade() -> None:
    op.drop_table("reply_digests")
    op.drop_index(op.f("ix_comment_reports_comment_id"), table_name="comment_reports")
    op.drop_table("comment_reports")
    for column in ("paper_id", "user_id", "parent_id", "created_at"):
        op.drop_index(op.f(f"ix_comments_{column}"), table_name="comments")
    op.drop_table("comments")

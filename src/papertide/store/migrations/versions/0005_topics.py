"""topics and paper_topics

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("centroid", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
    )
    op.create_table(
        "paper_topics",
        sa.Column("paper_id", sa.String(length=200), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_paper_topics_paper_id_papers")
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name=op.f("fk_paper_topics_topic_id_topics")
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_paper_topics")),
    )
    op.create_index(op.f("ix_paper_topics_topic_id"), "paper_topics", ["topic_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_topics_topic_id"), table_name="paper_topics")
    op.drop_table("paper_topics")
    op.drop_table("topics")

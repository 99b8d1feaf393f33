"""members' collections of papers

Revision ID: 0010
Revises: 0011 (merged after it)

Named collections (public or private) and the papers in them. The library stays where it is:
it is shown as every member's default collection.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None

INT64 = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def _text_up_to(length: int) -> sa.types.TypeEngine:
    return sa.String(length).with_variant(sa.String(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", INT64, autoincrement=True, nullable=False),
        sa.Column("user_id", INT64, nullable=False),
        sa.Column("name", _text_up_to(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_collections_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("user_id", "name", name="uq_collections_user_name"),
    )
    op.create_index(op.f("ix_collections_user_id"), "collections", ["user_id"])
    op.create_table(
        "collection_papers",
        sa.Column("collection_id", INT64, nullable=False),
        sa.Column("paper_id", _text_up_to(200), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_collection_papers_collection_id_collections"),
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_collection_papers_paper_id_papers")
        ),
        sa.PrimaryKeyConstraint("collection_id", "paper_id", name=op.f("pk_collection_papers")),
    )
    op.create_index(op.f("ix_collection_papers_paper_id"), "collection_papers", ["paper_id"])


def downgrade() -> None:
    op.drop_index("ix_collection_papers_paper_id", "collection_papers")
    op.drop_table("collection_papers")
    op.drop_index("ix_collections_user_id", "collections")
    op.drop_table("collections")

"""content hash on papers, embeddings table

Revision ID: 0002
Revises: 0001
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.add_column(sa.Column("content_hash", sa.String(length=16), nullable=True))
    op.create_table(
        "embeddings",
        sa.Column("paper_id", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=16), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_embeddings_paper_id_papers")
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_embeddings")),
    )
    op.create_index(op.f("ix_embeddings_updated_at"), "embeddings", ["updated_at"], unique=False)
    # Existing papers get their hash here; the formula is records.content_hash, frozen at 0002.
    conn = op.get_bind()
    papers = sa.table(
        "papers",
        sa.column("id"),
        sa.column("title"),
        sa.column("abstract"),
        sa.column("content_hash"),
    )
    rows = conn.execute(sa.select(papers.c.id, papers.c.title, papers.c.abstract)).all()
    updates = [
        {"_id": pid, "content_hash": hashlib.sha1(f"{t}\n{a}".encode()).hexdigest()[:16]}
        for pid, t, a in rows
    ]
    if updates:
        conn.execute(
            papers.update().where(papers.c.id == sa.bindparam("_id")),
            updates,
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_embeddings_updated_at"), table_name="embeddings")
    op.drop_table("embeddings")
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("content_hash")

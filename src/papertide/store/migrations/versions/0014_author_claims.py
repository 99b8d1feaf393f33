"""author-name table (filled from every stored paper), authorship claims, member profiles

Revision ID: 0014
Revises: 0012 (merged after it)

paper_authors holds one row per author of a paper (store/author_rows.py), so that an author
page reads an index instead of every paper's author list; the upgrade fills it from the papers
already stored, in batches (a minute or so per million papers).
"""

import sqlalchemy as sa
from alembic import op

from papertide.store.author_rows import rows_for

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

TEXT_200 = sa.String(200).with_variant(sa.String(), "postgresql")
TEXT_210 = sa.String(210).with_variant(sa.String(), "postgresql")
TEXT_16 = sa.String(16).with_variant(sa.String(), "postgresql")
INT64 = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
JSON_DOCUMENT = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
BATCH = 10_000


def upgrade() -> None:
    paper_authors = op.create_table(
        "paper_authors",
        sa.Column("paper_id", TEXT_200, nullable=False),
        sa.Column("position", INT64, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", TEXT_200, nullable=False),
        sa.Column("signature", TEXT_210, nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name="fk_paper_authors_paper_id_papers"
        ),
        sa.PrimaryKeyConstraint("paper_id", "position", name="pk_paper_authors"),
    )
    _fill(op.get_bind(), paper_authors)
    # after the fill: building an index once is faster than keeping it up row by row
    op.create_index("ix_paper_authors_name_key", "paper_authors", ["name_key", "paper_id"])
    op.create_index("ix_paper_authors_signature", "paper_authors", ["signature", "name_key"])
    op.create_table(
        "claims",
        sa.Column("id", INT64, autoincrement=True, nullable=False),
        sa.Column("user_id", INT64, nullable=False),
        sa.Column("paper_id", TEXT_200, nullable=False),
        sa.Column("status", TEXT_16, nullable=False),
        sa.Column("how", TEXT_16),
        sa.Column("decided_by", INT64),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("decided_at", sa.DateTime),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_claims_user_id_users"),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], name="fk_claims_paper_id_papers"),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name="fk_claims_decided_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_claims"),
        sa.UniqueConstraint("user_id", "paper_id", name="uq_claims_user_id_paper_id"),
    )
    for column in ("user_id", "paper_id", "status"):
        op.create_index(f"ix_claims_{column}", "claims", [column])
    op.create_table(
        "profiles",
        sa.Column("user_id", INT64, nullable=False),
        sa.Column("show_upvotes", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_profiles_user_id_users"),
        sa.PrimaryKeyConstraint("user_id", name="pk_profiles"),
    )


def _fill(bind: sa.Connection, paper_authors: sa.Table) -> None:
    papers = sa.table("papers", sa.column("id"), sa.column("authors", JSON_DOCUMENT))
    query = sa.select(papers.c.id, papers.c.authors).order_by(papers.c.id)
    rows: list[dict] = []
    # read in id order, page by page: one open cursor while inserting is not safe on SQLite
    after = None
    while True:
        page = query if after is None else query.where(papers.c.id > after)
        found = bind.execute(page.limit(BATCH)).all()
        if not found:
            break
        for paper_id, authors in found:
            rows.extend(rows_for(paper_id, authors))
        after = found[-1][0]
        if rows:
            bind.execute(paper_authors.insert(), rows)
            rows = []


def downgrade() -> None:
    op.drop_table("profiles")
    for column in ("user_id", "paper_id", "status"):
        op.drop_index(f"ix_claims_{column}", "claims")
    op.drop_table("claims")
    op.drop_index("ix_paper_authors_signature", "paper_authors")
    op.drop_index("ix_paper_authors_name_key", "paper_authors")
    op.drop_table("paper_authors")

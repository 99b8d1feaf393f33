"""drop stored links that are not http(s)

Revision ID: 0007
Revises: 0006

Older papertide versions stored pdf_url, project_url (and abs_url from some readers) without a
scheme check, so a database may hold `javascript:` links that the JSON API would hand on.
Pages never render them (the template filter checks again); this clears them from the data.
Only rows whose link does not start with http:// or https:// (the ones whose scheme can be
harmful) are read back: one scan in SQL, not a Python pass over every paper.
"""

import sqlalchemy as sa
from alembic import op

from papertide.links import http_url

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LINK_COLUMNS = ("abs_url", "pdf_url", "project_url")


def upgrade() -> None:
    papers = sa.table("papers", sa.column("id"), *(sa.column(name) for name in LINK_COLUMNS))
    conn = op.get_bind()
    for name in LINK_COLUMNS:
        column = papers.c[name]
        lowered = sa.func.lower(sa.func.trim(column))
        suspect = column.is_not(None) & ~(lowered.like("http://%") | lowered.like("https://%"))
        rows = conn.execute(sa.select(papers.c.id, column).where(suspect)).all()
        bad = [paper_id for paper_id, value in rows if value is not None and not http_url(value)]
        for start in range(0, len(bad), 500):
            chunk = bad[start : start + 500]
            conn.execute(sa.update(papers).where(papers.c.id.in_(chunk)).values({name: None}))


def downgrade() -> None:
    """Nothing to restore: the dropped values were never usable links."""

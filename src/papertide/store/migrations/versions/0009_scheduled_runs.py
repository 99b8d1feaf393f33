"""scheduled jobs claimed per time slot

Revision ID: 0009
Revises: 0008

Several schedulers (one per app host in server mode) may fire the same job: the one that inserts
(job, slot) first runs it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_runs",
        sa.Column("job", sa.String(100), primary_key=True),
        sa.Column("slot", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
    )
    op.create_index("ix_scheduled_runs_claimed_at", "scheduled_runs", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_runs_claimed_at", "scheduled_runs")
    op.drop_table("scheduled_runs")

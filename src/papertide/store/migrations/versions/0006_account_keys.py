"""users.username_key, subscribers.generation, subscriber addresses folded to lower case

Revision ID: 0006
Revises: 0005

Existing data is kept: every user gets a key (a name that folds onto an older user's key, as
'ALICE' beside 'alice' from before the rule, gets a private key and still logs in by its exact
name); subscriber addresses that differ only in case are merged into one row, the active one
or else the newest, with the outbox rows of the others moved to it (where it has none for that
period) so no digest goes out twice.

No table is rebuilt: SQLite would have to drop `users` and `subscribers`, which other tables
point at, with foreign keys on.
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from papertide.store.accounts import username_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEY_LENGTH = 300

users = sa.table("users", sa.column("id"), sa.column("username"), sa.column("username_key"))
subscribers = sa.table(
    "subscribers",
    sa.column("id"),
    sa.column("email"),
    sa.column("confirmed_at"),
    sa.column("unsubscribed_at"),
)
outbox = sa.table("outbox", sa.column("id"), sa.column("subscriber_id"), sa.column("period_key"))


def upgrade() -> None:
    op.add_column("users", sa.Column("username_key", sa.String(length=KEY_LENGTH), nullable=True))
    _fill_username_keys(op.get_bind())
    op.create_index(op.f("ix_users_username_key"), "users", ["username_key"], unique=True)
    op.add_column(
        "subscribers",
        sa.Column("generation", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    _fold_subscriber_addresses(op.get_bind())


def _fill_username_keys(bind: sa.Connection) -> None:
    taken: set[str] = set()
    for user_id, name in bind.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)):
        key = username_key(name)
        if key in taken or len(key) > KEY_LENGTH or not key:
            # '#' is outside the name rule, so no new name can ever fold onto this key
            key = f"#{user_id}"
            while key in taken:
                key += "#"
        taken.add(key)
        bind.execute(sa.update(users).where(users.c.id == user_id).values(username_key=key))


def _fold_subscriber_addresses(bind: sa.Connection) -> None:
    groups: dict[str, list] = defaultdict(list)
    for row in bind.execute(sa.select(subscribers)):
        groups[row.email.strip().lower()].append(row)
    for address, rows in groups.items():
        keeper = max(
            rows, key=lambda r: (r.confirmed_at is not None and r.unsubscribed_at is None, r.id)
        )
        periods = set(
            bind.execute(
                sa.select(outbox.c.period_key).where(outbox.c.subscriber_id == keeper.id)
            ).scalars()
        )
        for other in (r for r in rows if r.id != keeper.id):
            messages = bind.execute(
                sa.select(outbox.c.id, outbox.c.period_key).where(
                    outbox.c.subscriber_id == other.id
                )
            )
            for message_id, period_key in list(messages):
                if period_key in periods:  # the keeper had this period's digest already
                    bind.execute(sa.delete(outbox).where(outbox.c.id == message_id))
                else:
                    bind.execute(
                        sa.update(outbox)
                        .where(outbox.c.id == message_id)
                        .values(subscriber_id=keeper.id)
                    )
                    periods.add(period_key)
            bind.execute(sa.delete(subscribers).where(subscribers.c.id == other.id))
        if keeper.email != address:
            bind.execute(
                sa.update(subscribers).where(subscribers.c.id == keeper.id).values(email=address)
            )


def downgrade() -> None:
    op.drop_column("subscribers", "generation")
    op.drop_index(op.f("ix_users_username_key"), table_name="users")
    op.drop_column("users", "username_key")

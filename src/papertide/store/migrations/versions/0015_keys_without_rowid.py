"""paper_keys and paper_authors as SQLite WITHOUT ROWID tables

Revision ID: 0015
Revises: 0010

Nothing reads either by rowid, so on SQLite each primary key's B-tree can be the table
itself: one B-tree less to write for every key and every author of every paper stored (a bulk
import writes about 6 such rows a paper). PostgreSQL has no rowid: nothing changes there. The
upgrade copies each table once and builds its indexes after the copy.
"""

from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = {
    "paper_keys": (
        """
        "key" VARCHAR(250) NOT NULL,
        paper_id VARCHAR(200) NOT NULL,
        CONSTRAINT pk_paper_keys PRIMARY KEY ("key"),
        CONSTRAINT fk_paper_keys_paper_id_papers FOREIGN KEY(paper_id) REFERENCES papers (id)
        """,
        '"key", paper_id',
        {"ix_paper_keys_paper_id": "paper_id"},
    ),
    "paper_authors": (
        """
        paper_id VARCHAR(200) NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        name_key VARCHAR(200) NOT NULL,
        signature VARCHAR(210) NOT NULL,
        CONSTRAINT pk_paper_authors PRIMARY KEY (paper_id, position),
        CONSTRAINT fk_paper_authors_paper_id_papers FOREIGN KEY(paper_id) REFERENCES papers (id)
        """,
        "paper_id, position, name, name_key, signature",
        {
            "ix_paper_authors_name_key": "name_key, paper_id",
            "ix_paper_authors_signature": "signature, name_key",
        },
    ),
}


def _rebuild(rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, (columns, names, indexes) in TABLES.items():
        suffix = "" if rowid else " WITHOUT ROWID"
        op.execute(f"CREATE TABLE {table}_rebuilt ({columns}){suffix}")
        op.execute(f"INSERT INTO {table}_rebuilt ({names}) SELECT {names} FROM {table}")
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
        for index, indexed in indexes.items():  # built once, after the copy
            op.execute(f"CREATE INDEX {index} ON {table} ({indexed})")


def upgrade() -> None:
    _rebuild(rowid=False)


def downgrade() -> None:
    _rebuild(rowid=True)

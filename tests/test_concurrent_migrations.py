"""App instances starting together on a new database migrate it once, without failing."""

import subprocess
import sys

import pytest
from sqlalchemy import inspect

from papertide.store.engine import current_revision, head_revision, open_engine


@pytest.mark.empty_database  # on PostgreSQL: not cloned from the migrated template
def test_four_processes_opening_a_new_database_at_once_all_succeed(db_url, tmp_path):
    opening = f"from papertide.store.engine import open_engine; open_engine({db_url!r}).dispose()"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", opening], stderr=subprocess.PIPE, text=True, cwd=tmp_path
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    engine = open_engine(db_url, migrate=False)
    assert current_revision(engine) == head_revision(engine)
    assert "papers" in inspect(engine).get_table_names()
    engine.dispose()

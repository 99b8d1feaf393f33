"""Faults in server mode: PostgreSQL killed and restarted under a running app, an app instance
killed beside another, a full disk and a read-only database during an import.

The PostgreSQL tests run on a server of their own (killing the worker's shared one would cut
every other test's sessions). kill -9 of an import and of the digest sender are covered on both
databases by tests/test_cli.py and tests/test_digest.py (they take the `backend` fixture).
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from conftest import Cli, free_port, wait_for_server
from papertide.security import hash_password, new_token
from papertide.store import accounts
from papertide.store.engine import open_engine
from papertide.store.schema import checkpoints, papers
from pgserver import ThrowawayPostgres

pytestmark = pytest.mark.slow

DAYS = [f"2026-11-{day:02d}" for day in range(1, 11)]


def write_papers(path: Path, count: int, first: int = 0, words: int = 8) -> Path:
    with path.open("w") as handle:
        for i in range(first, first + count):
            record = {
                "title": f"Graph networks for problem {i}",
                "arxiv_id": f"2611.{i:05d}",
                "abstract": "message passing on sparse graphs " * words,
                "date": DAYS[i % len(DAYS)],
            }
            handle.write(json.dumps(record) + "\n")
    return path


def count_papers(url: str) -> int:
    engine = open_engine(url, migrate=False)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(papers)).scalar_one()
    finally:
        engine.dispose()


class Instance:
    """`papertide serve` as its own process (one worker), its log in a file."""

    def __init__(self, cli: Cli, log: Path, port: int | None = None) -> None:
        self.cli, self.log_path = cli, log
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> Instance:
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                self.cli.command("serve", "--port", str(self.port)),
                env=self.cli.process_env,
                cwd=self.cli.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_server(self.base, self.process)
        return self

    def kill_9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres()
    yield server
    server.stop()


@pytest.fixture
def pg_site(backend, own_postgres, tmp_path, monkeypatch) -> Iterator[tuple[Cli, str, list[str]]]:
    """A database on OWN_POSTGRES holding 60 indexed papers and two users with an API token
    each: (its CLI, its URL, the tokens)."""
    name = own_postgres.create_database()
    with own_postgres._admin() as admin:
        # The test server commits without waiting for its WAL (pgserver.py), so a kill would
        # lose the last commits; this database waits, as a real server does.
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
    url = own_postgres.url(name)
    monkeypatch.setenv("PAPERTIDE_INDEX_DIR", str(tmp_path / "papertide.index"))
    cli = Cli(url, tmp_path)
    cli.env["PAPERTIDE_INDEX_DIR"] = str(tmp_path / "papertide.index")
    cli.run("import", str(write_papers(tmp_path / "papers.jsonl", 60)))
    cli.run("index", "--keyword-only")
    engine = open_engine(url)
    tokens = []
    with engine.begin() as conn:
        for name in ("reader", "other"):
            user = accounts.create_user(conn, name, hash_password("password123"))
            token, hashed = new_token()
            accounts.create_api_token(conn, hashed, user, "faults")
            tokens.append(token)
    engine.dispose()
    yield cli, url, tokens
    if own_postgres.pgdata.exists():
        own_postgres.drop_database(url.rsplit("/", 1)[1])


# Every kind of page that reads the database, as a browser (HTML) and as a program (JSON)
PAGES = [
    "/day/2026-11-02",
    "/papers/2611.00001",
    "/search?q=graph",
    "/api/papers/2611.00001",
    "/api/daily_papers?date=2026-11-02",
    "/login",
]
AS_BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def statuses(base: str, token: str) -> dict[str, int]:
    """Each page's status (as a browser and as a program) and a vote's."""
    seen = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in PAGES:
            seen[path] = client.get(path).status_code
            seen[f"{path} (page)"] = client.get(path, headers=AS_BROWSER).status_code
        vote = client.post("/api/papers/2611.00002/vote", headers=bearer(token))
        seen["vote"] = vote.status_code
    return seen


@pytest.mark.postgresql_only
def test_postgresql_killed_answers_503_then_recovers_by_itself(pg_site, own_postgres, tmp_path):
    cli, _url, (token, _) = pg_site
    instance = Instance(cli, tmp_path / "serve.log").start()
    try:
        assert set(statuses(instance.base, token).values()) == {200}

        own_postgres.kill()  # mid-work: the app holds pooled connections to it
        down = statuses(instance.base, token)
        assert down == dict.fromkeys(down, 503)
        with httpx.Client(base_url=instance.base, timeout=30) as client:
            answer = client.get("/api/papers/2611.00001")
            assert answer.json() == {"detail": "database unavailable; please try again in a moment"}
            assert answer.headers["Retry-After"] == "5"
            page = client.get("/day/2026-11-02", headers=AS_BROWSER)
            assert page.headers["content-type"].startswith("text/html")
            assert "database unavailable" in page.text
        listed = cli.run("list", check=False)  # the CLI: one line, exit 3
        assert listed.returncode == 3
        assert listed.stderr.startswith("error: database unreachable (")
        assert len(listed.stderr.strip().splitlines()) == 1

        own_postgres.restart()  # same port, same data: the app comes back without a restart
        assert set(statuses(instance.base, token).values()) == {200}

        # Restarted while the app was idle: its pooled connections are all dead, unknown to it
        own_postgres.kill()
        own_postgres.restart()
        assert set(statuses(instance.base, token).values()) == {200}
    finally:
        instance.stop()
        with contextlib.suppress(subprocess.CalledProcessError):  # left down by a failure
            own_postgres.restart()
    log = instance.log()
    assert "Traceback" not in log and "incident" not in log
    assert "database unreachable" in log  # said once a request, as a warning
    assert cli.json("show", "2611.00002")["votes"] == 1  # voted, (503), unvoted, voted


@pytest.mark.postgresql_only
def test_app_instance_killed_the_other_keeps_serving(pg_site, tmp_path):
    cli, _url, (token, other_token) = pg_site
    first = Instance(cli, tmp_path / "first.log").start()
    second = Instance(cli, tmp_path / "second.log").start()
    answers: list[int] = []
    voted: list[bool] = []
    stop = threading.Event()

    def use_first() -> None:
        """Requests in flight on the first instance when it is killed (their fate is not
        checked: they die with it), votes on the paper the second instance's user votes on."""
        with httpx.Client(base_url=first.base, timeout=30) as client:
            while not stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    client.post("/api/papers/2611.00003/vote", headers=bearer(other_token))
                    client.get("/search?q=graph")

    try:
        with httpx.Client(base_url=second.base, timeout=30) as client:

            def use_second(rounds: int) -> None:
                for n in range(rounds):
                    answers.append(client.get(PAGES[n % len(PAGES)]).status_code)
                    vote = client.post("/api/papers/2611.00003/vote", headers=bearer(token))
                    answers.append(vote.status_code)
                    voted.append(vote.json()["voted"])

            busy = threading.Thread(target=use_first)
            busy.start()
            use_second(6)
            first.kill_9()  # mid-work
            use_second(12)
            stop.set()
            busy.join(60)
            first.start()  # again, on the same port
            use_second(6)
            assert set(statuses(first.base, token).values()) == {200}
    finally:
        stop.set()
        first.stop()
        second.stop()
    assert answers == [200] * len(answers)
    assert voted == [n % 2 == 0 for n in range(len(voted))]  # each toggle of the user's, once
    assert "Traceback" not in second.log()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.postgresql_only
def test_read_only_postgresql_import_says_so_and_stores_nothing(pg_site, own_postgres, tmp_path):
    cli, url, _tokens = pg_site
    name = url.rsplit("/", 1)[1]
    with own_postgres._admin() as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    before = count_papers(url)
    result = cli.run(
        "import", str(write_papers(tmp_path / "more.jsonl", 3000, first=100)), check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: the database is read-only; nothing was written (")
    assert len(result.stderr.strip().splitlines()) == 1
    assert count_papers(url) == before
    with own_postgres._admin() as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    assert cli.json("import", str(tmp_path / "more.jsonl"))["new"] == 3000


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 30 MB tmpfs mounted in TMP_PATH (needs root, as this project's test machines run)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.sqlite_only
def test_disk_full_mid_import_keeps_what_was_stored_then_resumes(backend, small_disk, tmp_path):
    url = f"sqlite:///{small_disk / 'papertide.db'}"
    cli = Cli(url, tmp_path)
    cli.run("import", str(write_papers(tmp_path / "first.jsonl", 500)))
    big = write_papers(tmp_path / "big.jsonl", 30_000, first=1000, words=12)  # ~14 MB of JSON lines

    full = cli.run_process("import", str(big), check=False)
    assert full.returncode == 1, full.stderr
    assert full.stderr.startswith(
        "error: the database's disk is full; nothing half-written was kept ("
    )
    assert len(full.stderr.strip().splitlines()) == 1

    engine = open_engine(url, migrate=False)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        stored = conn.execute(select(func.count()).select_from(papers)).scalar_one()
        state = conn.execute(select(checkpoints.c.state)).scalar_one_or_none()
        first_ones = conn.execute(
            select(func.count()).select_from(papers).where(papers.c.id < "2611.00500")
        ).scalar_one()
    engine.dispose()
    assert first_ones == 500  # nothing stored before was lost
    done = state["done"] if state else 0
    assert 0 < done < 30_000  # full after a batch or more (one bulk batch of 10,000 fits)
    assert stored == 500 + done  # the batches that made it, each with its checkpoint

    subprocess.run(["mount", "-o", "remount,size=200m", str(small_disk)], check=True)
    summary = cli.json("import", str(big))
    assert summary["new"] == 30_000 - done and summary["resumed_jobs"] == 1
    assert count_papers(url) == 30_500


@pytest.mark.sqlite_only
def test_read_only_sqlite_import_says_so_and_loses_nothing(backend, small_disk, tmp_path):
    url = f"sqlite:///{small_disk / 'papertide.db'}"
    cli = Cli(url, tmp_path)
    cli.run("import", str(write_papers(tmp_path / "first.jsonl", 500)))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)  # as after errors

    result = cli.run(
        "import", str(write_papers(tmp_path / "more.jsonl", 100, first=1000)), check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot open or migrate the database: ")
    assert f"{small_disk} is read-only" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    engine = open_engine(url, migrate=False)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 500
    engine.dispose()

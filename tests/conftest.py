"""Shared fixtures: paths to test data, a fresh database per test, and CLI runners."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine, make_url

from papertide.application import Papertide
from papertide.clock import FixedClock
from papertide.config import Settings
from papertide.search.keyword import KeywordIndex
from papertide.store.engine import open_engine
from pgserver import ThrowawayPostgres

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LISTING_PAGES = SHARED_DATA / "listing-pages"


class NetworkBlocked(RuntimeError):
    """A test tried to connect outside this machine (not an OSError, so that code handling
    connection failures cannot quietly swallow it)."""


def _loopback_host(host: Any) -> bool:
    """True for 'localhost' and IP literals in 127.0.0.0/8 or ::1 (names are not looked up)."""
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 literal may name its scope
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback  # 127.0.0.0/8, or ::1


def _check_connect(family: int, address: Any) -> None:
    if family == getattr(socket, "AF_UNIX", None):
        return
    inet = family in (socket.AF_INET, socket.AF_INET6)
    if inet and isinstance(address, tuple) and address and _loopback_host(address[0]):
        return
    raise NetworkBlocked(f"tests may not use the network: connection to {address!r} refused")


@pytest.fixture(scope="session", autouse=True)
def no_network() -> Iterator[None]:
    """Every connection made in the test process, by tests and by the code they run in it
    (CLI commands through CliRunner included), goes to loopback or a Unix socket; anything else
    raises NetworkBlocked. Subprocesses the tests start are not covered."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create_connection = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        _check_connect(self.family, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_connect(self.family, address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        # refused before the name lookup create_connection would otherwise do
        _check_connect(socket.AF_INET, tuple(address))
        return real_create_connection(address, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "create_connection", create_connection)
        yield


# Every test that uses a database through `db_url` (or `engine`, `cli`) runs once per backend:
# `[sqlite]` on a file in its temp folder, `[postgresql]` on its own database in a throwaway
# server (tests/pgserver.py). `--backends` (or PAPERTIDE_TEST_BACKENDS) picks them.
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=os.environ.get("PAPERTIDE_TEST_BACKENDS", ",".join(BACKENDS)),
        help="comma-separated databases the store-touching tests run on (default: %(default)s)",
    )


def selected_backends(config: pytest.Config) -> list[str]:
    chosen = [name.strip() for name in config.getoption("--backends").split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if unknown or not chosen:
        raise pytest.UsageError(f"--backends takes {', '.join(BACKENDS)}; got {unknown or chosen}")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `backend` (which `db_url` asks for): `sqlite_only` and `postgresql_only`
    tests get that backend alone, `postgres_pending` ones skip their PostgreSQL variant with
    their reason."""
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker
    only = (
        "sqlite" if marker("sqlite_only") else "postgresql" if marker("postgresql_only") else None
    )
    pending = marker("postgres_pending")
    params = []
    for name in selected_backends(metafunc.config):
        marks = []
        if only not in (None, name):
            continue
        if name == "postgresql" and pending:
            reason = pending.kwargs.get("reason") or (pending.args or ["no reason given"])[0]
            marks.append(pytest.mark.skip(reason=f"pending on PostgreSQL: {reason}"))
        params.append(pytest.param(name, marks=marks, id=name))
    if not params:
        skip = pytest.mark.skip(reason=f"about {only}, which --backends leaves out")
        params.append(pytest.param(only, marks=skip, id=only))
    # module scope: module-wide fixtures (one database for a module's tests) can ask for it
    metafunc.parametrize("backend", params, scope="module")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    """One PostgreSQL server per test process (each xdist worker), started on first use."""
    server = ThrowawayPostgres()
    yield server
    server.stop()


@pytest.fixture
def db_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, empty database on BACKEND, its index folder in the test's temp folder."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'papertide.db'}"
        return
    server: ThrowawayPostgres = request.getfixturevalue("postgres_server")
    # like a new SQLite file, unless the test migrates an empty database itself
    name = server.create_database(
        migrated=request.node.get_closest_marker("empty_database") is None
    )
    # as for an SQLite file, the index folder goes beside it, not into the user's data dir
    monkeypatch.setenv("PAPERTIDE_INDEX_DIR", str(tmp_path / "papertide.index"))
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture(scope="session", autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The platform data dir inside the session's temp folder: a PostgreSQL database keeps its
    indexes there by default (one folder per database), and no test writes to the real one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))
        yield


class Databases:
    """Databases for fixtures wider than one test (a module's imported and indexed papers),
    on the backend the module runs on; `copy` gives a test its own copy of one."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request

    def _server(self) -> ThrowawayPostgres:
        return self._request.getfixturevalue("postgres_server")

    def new(self, backend: str, folder: Path) -> str:
        """An empty database: a file in FOLDER, or a new PostgreSQL database."""
        if backend == "sqlite":
            return f"sqlite:///{folder / 'papertide.db'}"
        return self._server().url(self._server().create_database())

    def copy(self, url: str, folder: Path) -> str:
        """A copy of the database at URL (its SQLite files copied into FOLDER)."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            source = Path(parsed.database)
            for part in source.parent.glob(source.name + "*"):  # -wal and -shm too
                shutil.copy(part, folder / part.name)
            return f"sqlite:///{folder / source.name}"
        return self._server().url(self._server().clone_database(parsed.database))

    def drop(self, url: str) -> None:
        """Remove a database made by `new` or `copy` before the session ends."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            self._server().drop_database(parsed.database)


@pytest.fixture(scope="session")
def databases(request: pytest.FixtureRequest) -> Databases:
    return Databases(request)


def index_dir(db_url: str) -> Path:
    """Where the search indexes of DB_URL are, as the application finds them."""
    return application(db_url).index_dir


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_engine(db_url)
    yield eng
    eng.dispose()


# The maintainers' real example data lives beside the project (../shared), not in a clone: the
# tests that read it are marked `shared_data` and skip without it, except where the run says it
# must be there (.ci/run sets PAPERTIDE_TESTS_NEED_SHARED_DATA=1), where they fail instead.
SHARED_DATA_MISSING = "needs the real example data in ../shared/data (not part of a clone)"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("shared_data") is None or SHARED_DATA.is_dir():
        return
    if os.environ.get("PAPERTIDE_TESTS_NEED_SHARED_DATA") == "1":
        pytest.fail(f"{SHARED_DATA_MISSING}, and this run requires it", pytrace=False)
    pytest.skip(SHARED_DATA_MISSING)


@pytest.fixture
def listing_truth() -> list[dict]:
    with (SHARED_DATA / "listing-papers.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


class Cli:
    """Runs `papertide` commands against one database: in this process through Typer's
    CliRunner (fast; CLOCK, when set, pins the application's time), or as a real process where
    that is the point (`command`, `kill_9_when`, `run_process`)."""

    def __init__(self, db_url: str, cwd: Path, clock: FixedClock | None = None) -> None:
        self.env = {"PAPERTIDE_DB": db_url, "NO_COLOR": "1", "COLUMNS": "200"}
        self.cwd = cwd
        self.clock = clock

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "papertide.cli", *args]

    @property
    def process_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        from typer.testing import CliRunner

        from papertide.cli import app

        here = os.getcwd()
        os.chdir(self.cwd)
        try:
            outcome = CliRunner().invoke(
                app, list(args), env=self.env, input=stdin, obj={"clock": self.clock}
            )
        finally:
            os.chdir(here)
        stderr = outcome.stderr
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            stderr += "".join(traceback.format_exception(outcome.exception))  # a crash
        result = subprocess.CompletedProcess(list(args), outcome.exit_code, outcome.stdout, stderr)
        return self._checked(args, result, check)

    def run_process(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The command as a real process (for what only a process shows: exit on signals,
        start-up, environment handling)."""
        result = subprocess.run(
            self.command(*args),
            cwd=self.cwd,
            env=self.process_env,
            capture_output=True,
            text=True,
            timeout=300,
            input=stdin,
        )
        return self._checked(args, result, check)

    @staticmethod
    def _checked(
        args: tuple[str, ...], result: subprocess.CompletedProcess[str], check: bool
    ) -> subprocess.CompletedProcess[str]:
        if check and result.returncode != 0:
            raise AssertionError(
                f"papertide {' '.join(args)} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def json(self, *args: str) -> object:
        return json.loads(self.run(*args, "--json").stdout)

    def kill_9_when(self, ready: Callable[[], bool], *args: str, timeout: float = 180) -> None:
        """Run a command and SIGKILL it as soon as READY() holds; fail if it ends first."""
        returncode, _ = self.signal_when(signal.SIGKILL, ready, *args, timeout=timeout)
        assert returncode == -signal.SIGKILL, f"{args} finished before it was killed"

    def signal_when(
        self, sig: int, ready: Callable[[], bool], *args: str, timeout: float = 180
    ) -> tuple[int, str]:
        """Run a command, send it SIG as soon as READY() holds, and give its exit status and
        stderr once it has ended; fail if it ended before READY() held."""
        with tempfile.TemporaryFile("w+") as stderr:  # a pipe could fill up and stall it
            process = subprocess.Popen(
                self.command(*args),
                env=self.process_env,
                cwd=self.cwd,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            sent = False
            deadline = time.monotonic() + timeout
            while not sent and time.monotonic() < deadline and process.poll() is None:
                if ready():
                    process.send_signal(sig)
                    sent = True
                time.sleep(0.02)
            process.wait(60)
            assert sent, f"{args} finished before it was signalled"
            stderr.seek(0)
            return process.returncode, stderr.read()


def assert_killed_import_resumes_exactly(cli: Cli, engine: Engine, path: Path, total: int) -> None:
    """After `import PATH` of TOTAL papers was killed mid-way: what was committed moved with
    its checkpoint, and importing again stores the rest once, leaving no checkpoint and a sound
    database."""
    from sqlalchemy import func, select, text

    from papertide.store.schema import checkpoints, paper_sources, papers

    def count(table) -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()

    committed = count(papers)
    with engine.connect() as conn:
        done = conn.execute(select(checkpoints.c.state)).scalar_one()["done"]
    assert 0 < committed < total
    assert committed == done  # the checkpoint moved with the data, in one transaction

    summary = cli.json("import", str(path))
    assert summary["resumed_jobs"] == 1
    assert summary["new"] == total - committed
    assert count(papers) == total
    assert count(paper_sources) == total
    assert count(checkpoints) == 0
    if engine.dialect.name == "sqlite":  # PostgreSQL has no such check, nor needs one
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"


def wait_for_server(base: str, process: subprocess.Popen) -> None:
    """Wait until `papertide serve` at BASE answers (60 s at most); kill it and fail if not."""
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/about", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("papertide serve did not start")


@contextmanager
def served(cli: Cli, folder: Path) -> Iterator[str]:
    """`papertide serve` over CLI's database, on a free port of 127.0.0.1, run in FOLDER: its
    base URL while the block runs (the browser tests' server)."""
    port = free_port()
    process = subprocess.Popen(
        cli.command("serve", "--port", str(port)),
        env=cli.process_env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keyword_index(directory: Path, papers: list[dict]) -> KeywordIndex:
    """A fresh keyword index in DIRECTORY holding PAPERS (dicts shaped like store rows)."""
    index = KeywordIndex(directory)
    index.reset()
    index.apply(papers, datetime(2026, 1, 1))
    return index


def application(db_url: str, clock: FixedClock | None = None) -> Papertide:
    """The application object over DB_URL, as the CLI and the web app build it."""
    return Papertide(Settings.load(db=db_url), clock)


def index_database(db_url: str) -> dict:
    """Run the one index writer over DB_URL, as `papertide index` does."""
    pt = application(db_url)
    try:
        return pt.update_indexes()
    finally:
        pt.close()


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    return Cli(db_url, tmp_path)


@pytest.fixture(scope="session")
def embedder():
    """The default embedding model, exported once if the install has not done it yet."""
    from papertide.search import model_build

    pt = Papertide()
    if not model_build.is_current(pt.model_dir):
        model_build.prepare(model_build.bundled_source(), pt.model_dir, "all-MiniLM-L6-v2")
    return pt.require_embedder()

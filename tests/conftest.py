"""Shared fixtures: paths to test data, a fresh database per test, and CLI runners."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from papertide.store.engine import open_engine

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LISTING_PAGES = SHARED_DATA / "listing-pages"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'papertide.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def listing_truth() -> list[dict]:
    with (SHARED_DATA / "listing-papers.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


class Cli:
    """Runs the installed `papertide` command in a subprocess against one database."""

    def __init__(self, db_url: str, cwd: Path) -> None:
        self.env = {**os.environ, "PAPERTIDE_DB": db_url, "NO_COLOR": "1", "COLUMNS": "200"}
        self.cwd = cwd

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "papertide.cli", *args]

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args),
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            input=stdin,
        )
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
        process = subprocess.Popen(
            self.command(*args),
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if ready():
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
        process.wait(30)
        assert process.returncode == -signal.SIGKILL, f"{args} finished before it was killed"


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    return Cli(db_url, tmp_path)


@pytest.fixture(scope="session")
def embedder():
    """The default embedding model, exported once if the install has not done it yet."""
    from papertide.search import embedder as embedding
    from papertide.search import model_build

    target = embedding.models_dir() / embedding.DEFAULT_MODEL
    if not model_build.is_current(target):
        model_build.prepare(model_build.bundled_source(), target, "all-MiniLM-L6-v2")
    return embedding.default_embedder()

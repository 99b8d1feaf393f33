"""`papertide index --ray`: a real two-node Ray cluster on 127.0.0.1 (started once for the
module, in a helper process: Ray never runs in the test process, whose network guard it would
trip) embeds the pending papers; vectors match the local path, a re-run embeds nothing, a killed
driver resumes with only the missing papers, and a worker killed mid-job loses and doubles
nothing."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import psutil
import pytest
from sqlalchemy import delete, func
from sqlalchemy import select as sql_select

from conftest import Cli
from papertide.records import PaperRecord
from papertide.search.embedder import document_text
from papertide.store.engine import open_engine
from papertide.store.schema import embeddings, papers
from papertide.store.writer import save_batch

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only("the Ray path stores as the local one")]

PAPERS = 400  # of about 100 tokens: a run takes some seconds on two 1-CPU nodes, time to kill into

# Two nodes of one CPU each, every process bound to 127.0.0.1, no dashboard, no usage stats.
CLUSTER = """
import sys
from ray.cluster_utils import Cluster
node = dict(node_ip_address="127.0.0.1", num_cpus=1, include_dashboard=False)
cluster = Cluster(initialize_head=True, head_node_args=node)
second = cluster.add_node(**node)
print(cluster.address, flush=True)
while sys.stdin.readline().strip() == "crash the second node":
    cluster.remove_node(second, allow_graceful=False)  # SIGKILL: raylet, store, its workers
    print("crashed", flush=True)
cluster.shutdown()
"""
# Ray rewrites 127.0.0.1 in an address to the machine's outward address unless told it runs
# on this machine only (the flag's name is about Windows and macOS, its effect is loopback).
RAY_LOCAL = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


class RayCluster:
    def __init__(self, process: subprocess.Popen, address: str) -> None:
        self.process, self.address = process, address

    def actor_processes(self) -> list[psutil.Process]:
        """The embedding actors' worker processes (Ray titles them after the actor class)."""
        found = []
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if "EmbedActor" in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                continue
        return found

    def crash_second_node(self) -> None:
        self.process.stdin.write("crash the second node\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "crashed"

    def listening_addresses(self) -> set[str]:
        hosts = set()
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                sockets = child.net_connections("inet")
            except psutil.Error:
                continue
            hosts |= {s.laddr.ip for s in sockets if s.status == psutil.CONN_LISTEN}
        return hosts


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    pytest.importorskip("ray.data")
    process = subprocess.Popen(
        [sys.executable, "-c", CLUSTER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **RAY_LOCAL},
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 180)
        address = process.stdout.readline().strip() if ready else ""
        if not address:
            pytest.fail("the Ray cluster did not start")
        yield RayCluster(process, address)
    finally:
        try:
            process.stdin.write("stop\n")
            process.stdin.flush()
            process.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait(10)


def _texts(n: int) -> tuple[str, str]:
    topics = ["graph networks", "speech recognition", "protein folding", "image diffusion"]
    return f"Study {n} of {topics[n % 4]}", f"We look at {topics[n % 4]} from angle {n}. " * 8


@pytest.fixture
def ray_cli(db_url: str, tmp_path, ray_cluster: RayCluster) -> Cli:
    engine = open_engine(db_url)
    records = [
        PaperRecord(source="jsonl", source_id=f"p{n}", title=_texts(n)[0], abstract=_texts(n)[1])
        for n in range(PAPERS)
    ]
    with engine.begin() as conn:
        save_batch(conn, records)
    engine.dispose()
    cli = Cli(db_url, tmp_path)
    cli.env.update(RAY_LOCAL, PAPERTIDE_RAY_ADDRESS=ray_cluster.address)
    return cli


def _stored(db_url: str) -> dict[str, tuple[str, np.ndarray]]:
    """paper id -> (its title, stored vector) for every stored vector."""
    engine = open_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sql_select(papers.c.id, papers.c.title, embeddings.c.vector).join(
                embeddings, embeddings.c.paper_id == papers.c.id
            )
        ).all()
        assert conn.execute(sql_select(func.count()).select_from(embeddings)).scalar() == len(rows)
    engine.dispose()
    return {pid: (title, np.frombuffer(vector, dtype="<f4")) for pid, title, vector in rows}


def _count(db_url: str) -> int:
    engine = open_engine(db_url)
    with engine.connect() as conn:
        count = conn.execute(sql_select(func.count()).select_from(embeddings)).scalar_one()
    engine.dispose()
    return count


def _index(cli: Cli) -> dict:
    return _report(cli.run_process("index", "--json").stdout)


def _report(stdout: str) -> dict:
    return json.loads(stdout)  # nothing but the report: Ray's own messages go to stderr


def _run_until(cli: Cli, ready, then, poll: float = 0.05) -> subprocess.Popen:
    """Start `index --json` and call THEN() once READY() holds while it runs."""
    process = subprocess.Popen(
        cli.command("index", "--json"),
        env=cli.process_env,
        cwd=cli.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            then(process)
            break
        time.sleep(poll)
    return process


def test_the_cluster_listens_on_loopback_only(ray_cluster):
    hosts = ray_cluster.listening_addresses()
    assert hosts and hosts <= {"127.0.0.1", "::ffff:127.0.0.1"}


def test_vectors_match_the_local_path_and_a_rerun_embeds_nothing(
    ray_cli, db_url, embedder, ray_cluster
):
    # `--ray auto`, as on a machine of the cluster: Ray finds the cluster itself (RAY_ADDRESS,
    # else the cluster processes it sees running on this machine)
    auto = Cli(db_url, ray_cli.cwd)
    auto.env.update(RAY_LOCAL, RAY_ADDRESS=ray_cluster.address)
    report = _report(auto.run_process("index", "--ray", "auto", "--json").stdout)
    assert report["embedded"] == PAPERS
    stored = _stored(db_url)
    assert len(stored) == PAPERS
    ids = sorted(stored)
    local = embedder.embed([document_text(*_texts(int(stored[i][0].split()[1]))) for i in ids])
    cosines = [float(stored[pid][1] @ local[row]) for row, pid in enumerate(ids)]
    assert min(cosines) >= 0.9999
    assert _index(ray_cli)["embedded"] == 0  # keyed by id and content hash: nothing twice


def test_a_killed_driver_resumes_with_only_the_missing_papers(ray_cli, db_url):
    # The driver, SIGKILLed once some vectors are stored. Ray may hand the results back in a
    # burst, stored within some milliseconds: a kill that lands after the last one is tried
    # again (the vectors cleared), watched through one open connection, polled closely.
    engine = open_engine(db_url)
    stored = sql_select(func.count()).select_from(embeddings)

    def some_stored() -> bool:
        with engine.connect() as conn:
            return conn.execute(stored).scalar_one() > 0

    before = PAPERS
    for _attempt in range(3):
        killed = _run_until(
            ray_cli, some_stored, lambda p: p.send_signal(signal.SIGKILL), poll=0.002
        )
        killed.wait(30)
        assert killed.returncode == -signal.SIGKILL, "the index run finished before it was killed"
        before = len(_stored(db_url))
        if before < PAPERS:
            break
        with engine.begin() as conn:
            conn.execute(delete(embeddings))
    engine.dispose()
    assert 0 < before < PAPERS
    # (Killing one actor of the re-run was tried here too: on a quiet machine the re-run often
    # finished before the kill landed, so it could not be told to happen mid-job. A worker
    # dying mid-job is the node test below, which kills every actor of a node.)
    report = _index(ray_cli)
    assert report["embedded"] == PAPERS - before  # each missing paper once, none again
    assert len(_stored(db_url)) == PAPERS
    assert _index(ray_cli)["embedded"] == 0


def test_a_node_that_dies_mid_job_loses_and_doubles_nothing(ray_cli, db_url, ray_cluster):
    # last in the module: the cluster has one node after it
    crashed: list[int] = []

    def crash(_process) -> None:
        ray_cluster.crash_second_node()
        crashed.append(_count(db_url))

    def at_work() -> bool:
        return _count(db_url) > 0 and len(ray_cluster.actor_processes()) >= 2

    run = _run_until(ray_cli, at_work, crash)
    out, _ = run.communicate(timeout=240)
    assert run.returncode == 0 and crashed and crashed[0] < PAPERS, "no node crashed mid-job"
    assert _report(out)["embedded"] == PAPERS
    assert len(_stored(db_url)) == PAPERS


def test_without_ray_the_command_says_how_to_install_it(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray: ImportError, as when missing
    result = cli.run("index", "--ray", "auto", check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: Ray is not installed: pip install 'papertide[ray]'"
    ]


def test_an_address_nobody_answers_at_is_one_line_and_exit_3(cli, tmp_path):
    with socket.socket() as unused:  # a port nothing listens on, once this socket is closed
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    cli.run("sample", "load")
    # ray.init alone waits over 5 minutes on such an address: past run_process's timeout
    result = cli.run_process("index", "--ray", f"127.0.0.1:{port}", check=False)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: no Ray cluster at '127.0.0.1:{port}'")

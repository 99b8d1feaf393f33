"""Load in server mode: 200 concurrent clients browsing, searching and voting against two app
instances on one PostgreSQL, for a fixed number of requests (bench/load.py runs the same load
for a minute and prints its latencies). Correctness only: no answer but 200, no connection
error, every vote counted exactly once on both instances. Nothing here is timed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from conftest import Cli
from test_server_faults import DAYS, Instance, write_papers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from load import MIX, Site, add_users, drive, stored_votes  # bench/load.py

pytestmark = [pytest.mark.slow, pytest.mark.postgresql_only]

CLIENTS = 200
REQUESTS_PER_CLIENT = 4
# More votes than bench/load.py's mix, on 3 papers: most clients vote, many toggle a paper
# twice (taking the vote back), every vote row is contended by dozens of users at once
TEST_MIX = {**MIX, "vote": 60}
HOT_PAPERS = 3


def test_200_clients_on_two_instances_all_answered_every_vote_counted_once(db_url, tmp_path):
    cli = Cli(db_url, tmp_path)
    cli.run("import", str(write_papers(tmp_path / "papers.jsonl", 300)))
    cli.run("index", "--keyword-only")
    tokens = add_users(db_url, 0, CLIENTS)
    site = Site(
        paper_ids=[f"2611.{i:05d}" for i in range(300)],
        days=DAYS,
        words=["graph", "networks", "problem", "message", "passing", "sparse", "graphs"],
    )
    instances = [Instance(cli, tmp_path / f"serve{n}.log").start() for n in range(2)]
    bases = [instance.base for instance in instances]
    try:
        outcome = asyncio.run(
            drive(
                bases,
                site,
                tokens,
                requests_per_client=REQUESTS_PER_CLIENT,
                mix=TEST_MIX,
                hot_papers=HOT_PAPERS,
            )
        )
        counted = asyncio.run(stored_votes(bases, site.paper_ids[:HOT_PAPERS]))
    finally:
        for instance in instances:
            instance.stop()
    assert outcome.failures == []
    assert outcome.requests() == CLIENTS * REQUESTS_PER_CLIENT
    assert set(outcome.latencies) == set(MIX)  # every page type was asked for
    expected = outcome.expected_votes(site.paper_ids[:HOT_PAPERS])
    assert sum(toggled > 1 for toggled in outcome.toggles.values()) > 10  # votes taken back
    assert counted == dict.fromkeys(bases, expected)
    for instance in instances:
        assert "Traceback" not in instance.log()

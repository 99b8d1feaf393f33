"""The bundled sample papers: an offline first run shows every feature working, and says the
papers are made up."""

import json
from collections import Counter
from datetime import datetime, timedelta
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from conftest import Cli
from papertide.clock import FixedClock
from papertide.ingest import sample
from papertide.web.app import create_app
from test_web_accounts import log_in

TODAY = datetime(2026, 3, 18, 9, 30)
BANNER = "Sample data."


def sample_items() -> list[dict]:
    text = resources.files("papertide.ingest").joinpath("sample_papers.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_sample_papers_are_many_recent_and_written_to_be_read():
    items = sample_items()
    assert len(items) >= 100
    assert len({i["id"] for i in items}) == len(items)
    assert len({i["title"].casefold() for i in items}) == len(items)
    per_day = Counter(i["days_ago"] for i in items)
    assert all(per_day[day] >= 3 for day in range(7)), per_day  # every day of a week has a list
    assert max(per_day) < 30  # all inside the feed's 30-day window
    assert not any(i["abstract"].lower().startswith(("sample", "this paper")) for i in items)
    assert sum(i.get("upvotes", 0) >= 40 for i in items) >= 5  # something to trend
    authors = Counter(a for i in items for a in i["authors"])
    assert authors[sample.READER_FOLLOWS_AUTHOR] >= 3
    known = {i["id"] for i in items}
    assert {*sample.READER_SAVES, *sample.READER_LIKES, *sample.READER_DISLIKES} <= known


def test_every_sample_record_is_stored_dated_back_from_the_day_it_is_loaded(tmp_path, db_url):
    cli = Cli(db_url, tmp_path, FixedClock(TODAY))
    loaded = cli.json("sample", "load")
    assert loaded["new"] == len(sample_items()) and loaded["rejected_count"] == 0
    assert loaded["reader"] == "sample-reader" and len(loaded["password"]) >= 12
    newest = cli.json("list", "--day", TODAY.date().isoformat())
    assert newest and all(p["published_at"].startswith("2026-03-18") for p in newest)
    again = Cli(db_url, tmp_path, FixedClock(TODAY + timedelta(days=40))).json("sample", "load")
    # loading later moves every date to the new day: same papers, no new ones, no new reader
    assert again["new"] == 0 and again["updated"] == loaded["new"] and again["password"] is None


@pytest.fixture
def sampled(tmp_path, db_url, embedder):
    cli = Cli(db_url, tmp_path, FixedClock(TODAY))
    password = cli.json("sample", "load")["password"]
    cli.run("index")
    cli.run("topics", "build")
    return cli, password


def test_the_sample_shows_trending_topics_similar_and_picks_for_you(sampled):
    cli, password = sampled
    picks = cli.json("recommend", "--user", "sample-reader")
    assert len(picks) >= 10 and all(p["reason"] for p in picks)
    topics = cli.json("topics", "list")
    assert len(topics) >= 4
    labels = " ".join(t["label"] for t in topics).lower()
    assert "sample" not in labels
    client = TestClient(create_app(cli.env["PAPERTIDE_DB"], FixedClock(TODAY)))
    trending = client.get("/trending")
    assert trending.status_code == 200 and trending.text.count('<article class="item') >= 10
    assert BANNER in trending.text
    assert log_in(client, "sample-reader", password) == 303
    assert "close to" in client.get("/for-you").text


def test_removing_the_sample_hides_its_papers_and_the_banner(sampled):
    cli, _password = sampled
    client = TestClient(create_app(cli.env["PAPERTIDE_DB"], FixedClock(TODAY)))
    assert BANNER in client.get("/").text
    cli.run("sample", "remove")
    page = client.get("/").text
    assert BANNER not in page
    assert cli.json("list", "--day", TODAY.date().isoformat()) == []
    assert BANNER not in client.get("/about").text

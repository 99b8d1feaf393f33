"""Empty feeds tell the truth (issue 11, item 10): "For you", `papertide recommend` and Trending
say why nothing is shown, and widen an empty window to the newest stored papers, saying so."""

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES, Cli, application, index_database
from papertide.clock import FixedClock
from papertide.ingest.runner import import_file
from papertide.rank import recommend, trending
from papertide.security import hash_password
from papertide.store import accounts, library
from papertide.web.app import create_app
from test_web_accounts import sign_up
from test_web_library import post_form

# The fixtures' newest paper is of 2026-11-22: three months later, no window holds any.
LATER = datetime(2027, 3, 1, 12)
WIDENED_FEED = "No papers from the last 30 days; showing the newest stored papers instead."
WIDENED_TRENDING = (
    "No papers from the last 7 days; showing the newest stored papers instead "
    "(7 days up to 2026-11-22)."
)
SAVED = ["2407.05528", "2611.00001", "2611.00002"]


@pytest.fixture
def stored(db_url, embedder):
    """Papers of 2017-2026 from the fixtures, indexed; a user 'ada' with nothing yet."""
    pt = application(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml"):
        import_file(pt.engine, FIXTURES / name)
    with pt.engine.begin() as conn:
        accounts.create_user(conn, "ada", hash_password("password123"))
    pt.close()
    index_database(db_url)
    return db_url


def feed_of(db_url, now, days=30):
    pt = application(db_url, FixedClock(now))
    try:
        with pt.engine.connect() as conn:
            user_id = accounts.user_by_name(conn, "ada")["id"]
        return pt.recommender.feed(user_id, 10, days)
    finally:
        pt.close()


def save(db_url, paper_ids):
    pt = application(db_url)
    with pt.engine.begin() as conn:
        library.save_many(conn, accounts.user_by_name(conn, "ada")["id"], paper_ids)
    pt.close()


def test_for_you_after_saving_papers_older_than_the_window_shows_the_newest_instead(stored):
    client = TestClient(create_app(stored, FixedClock(LATER)))
    sign_up(client, "reader")
    for paper_id in SAVED:
        assert post_form(client, f"/papers/{paper_id}/library", action="save") == 303
    page = client.get("/for-you").text
    assert WIDENED_FEED in page and "No picks yet" not in page
    picks = page.split("Digest by email")[0]
    assert picks.count('class="reason"') >= 2 and not any(p in picks for p in SAVED)


def test_recommend_after_saving_papers_older_than_the_window_says_it_widened(stored, tmp_path):
    save(stored, SAVED)
    cli = Cli(stored, tmp_path, FixedClock(LATER))
    result = cli.run("recommend", "--user", "ada", "--json")
    assert result.stderr.strip() == WIDENED_FEED
    assert cli.json("recommend", "--user", "ada") and "no picks yet" not in result.stdout


def test_recommend_inside_the_window_adds_no_note(stored):
    save(stored, SAVED)
    feed = feed_of(stored, datetime(2026, 11, 23))
    assert feed.picks and not feed.widened and feed.note is None


def test_an_empty_feed_says_what_stands_in_the_way(stored):
    assert feed_of(stored, LATER).note == recommend.NO_SIGNALS
    pt = application(stored)
    with pt.engine.begin() as conn:
        user_id = accounts.user_by_name(conn, "ada")["id"]
        library.follow(conn, user_id, "author", "Nobody Anywhere")
        every = [row[0] for row in conn.exec_driver_sql("SELECT id FROM papers")]
    pt.close()
    assert feed_of(stored, LATER).note == recommend.NO_FOLLOW_MATCH
    save(stored, every)
    empty = feed_of(stored, LATER)
    assert empty.picks == [] and empty.note == recommend.ALL_TAKEN


def test_an_empty_feed_of_unindexed_papers_says_to_index(db_url):
    pt = application(db_url)
    import_file(pt.engine, FIXTURES / "arxiv_atom.xml")
    with pt.engine.begin() as conn:
        accounts.create_user(conn, "ada", hash_password("password123"))
    pt.close()
    save(db_url, SAVED[:1])
    assert feed_of(db_url, LATER).note == recommend.NOT_INDEXED


def test_trending_of_an_empty_week_shows_the_newest_stored_week(stored):
    client = TestClient(create_app(stored, FixedClock(LATER)))
    page = client.get("/trending").text
    assert WIDENED_TRENDING in page and "Import or sync" not in page
    assert "2611.00005" in page and "2407.05528" not in page  # that week only
    this_week = TestClient(create_app(stored, FixedClock(datetime(2026, 11, 23)))).get("/trending")
    assert "showing the newest stored papers" not in this_week.text
    assert "Trending this week" in this_week.text and "2611.00005" in this_week.text


def test_trending_of_undated_papers_says_it_needs_dates(db_url, tmp_path):
    undated = tmp_path / "undated.jsonl"
    undated.write_text('{"title": "A paper without a date", "abstract": "No date given."}\n')
    pt = application(db_url)
    import_file(pt.engine, undated)
    pt.close()
    page = TestClient(create_app(db_url, FixedClock(LATER))).get("/trending").text
    assert trending.UNDATED in page and "Import or sync" not in page

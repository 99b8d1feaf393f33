"""Digests carry "Replies to your discussions": others' new replies to threads the reader took
part in, each mailed once, since their last digest, by the injected clock's time."""

from datetime import datetime, timedelta

import pytest

from conftest import FIXTURES
from papertide.digest.compose import compose, part_of, preview
from papertide.digest.settings import MailSettings
from papertide.ingest.runner import import_file
from papertide.store import accounts, comments, digests, queries

PAPER = "2611.00005"
DAY = datetime(2026, 11, 22, 8, 0)
MAIL = MailSettings(base_url="http://papertide.test")
SECTION = "Replies to your discussions"


class NoPicks:
    """The recommender's interface, picking nothing: these digests are about replies."""

    def recommend(self, user_id, k, days=30, now=None):
        return []


@pytest.fixture
def readers(engine):
    import_file(engine, FIXTURES / "hf_daily.json")
    with engine.begin() as conn:
        ids = {name: accounts.create_user(conn, name, "x") for name in ("ada", "bob", "cy")}
        for name in ("ada", "bob"):  # cy has no digest
            change = digests.subscribe(conn, f"{name}@example.org", "daily", ids[name])
            digests.confirm(conn, change)
    return ids


def say(engine, user_id, text, at, parent=None):
    with engine.begin() as conn:
        return comments.post(conn, PAPER, user_id, text, at, per_hour=100, parent_id=parent)


def digest_of(engine, now, who="ada"):
    """The plain and HTML parts of WHO's digest composed at NOW (None when none was)."""
    for message in compose(engine, NoPicks(), "daily", MAIL, now):
        if message["To"] == f"{who}@example.org":
            return part_of(message, "plain"), part_of(message, "html")
    return None


def replies_in(text: str) -> list[str]:
    if SECTION not in text:
        return []
    section = text.split(SECTION, 1)[1].split("\n--\n", 1)[0]
    return [line[2:] for line in section.splitlines() if line.startswith("* ")]


def test_replies_to_a_members_threads_reach_their_digest_once(engine, readers):
    ada, bob, cy = readers["ada"], readers["bob"], readers["cy"]
    started = say(engine, ada, "What about $\\lambda$?", DAY - timedelta(hours=20))
    say(engine, bob, "It is *tuned*.", DAY - timedelta(hours=10), started)
    say(engine, ada, "Thanks!", DAY - timedelta(hours=9), started)  # her own: not news to her
    say(engine, cy, "Not <b>always</b>.", DAY - timedelta(hours=8), started)
    other = say(engine, cy, "An unrelated thread", DAY - timedelta(hours=7))
    say(engine, bob, "Reply elsewhere", DAY - timedelta(hours=6), other)
    hidden = say(engine, cy, "hidden reply", DAY - timedelta(hours=5), started)
    gone = say(engine, cy, "deleted reply", DAY - timedelta(hours=5), started)
    with engine.begin() as conn:
        comments.set_hidden(conn, hidden, True)
        comments.delete(conn, gone, cy, DAY - timedelta(hours=4))

    text, html = digest_of(engine, DAY)
    assert replies_in(text) == [
        f"bob replied on {title(engine)}:",
        f"cy replied on {title(engine)}:",
    ]
    assert "It is *tuned*." in text and "Not <b>always</b>." in text
    assert SECTION in html and "Not &lt;b&gt;always&lt;/b&gt;." in html  # escaped in HTML
    assert f'href="http://papertide.test/papers/{PAPER}#comment-' in html
    assert "Thanks!" not in text and "hidden reply" not in text and "deleted reply" not in text
    assert "Reply elsewhere" not in text  # a thread ada took no part in

    # bob took part by replying: ada's and cy's replies are news to him, his own are not
    with engine.connect() as conn:
        bob_replies = comments.new_replies(conn, bob, DAY - timedelta(days=2), DAY, 20)
    assert [(r["author"], r["body"]) for r in bob_replies] == [
        ("ada", "Thanks!"),
        ("cy", "Not <b>always</b>."),
    ]

    # composing again the same day sends nothing; the next day's digest has no old replies
    assert digest_of(engine, DAY) is None
    say(engine, bob, "One more thing.", DAY + timedelta(hours=3), started)
    text, _ = digest_of(engine, DAY + timedelta(days=1))
    assert replies_in(text) == [f"bob replied on {title(engine)}:"]
    assert "One more thing." in text and "It is *tuned*." not in text
    text, _ = digest_of(engine, DAY + timedelta(days=2))
    assert SECTION not in text


def test_a_digest_composed_for_an_earlier_day_mails_no_reply_again(engine, readers):
    started = say(engine, readers["ada"], "Question", DAY - timedelta(hours=3))
    say(engine, readers["bob"], "Answer", DAY - timedelta(hours=2), started)
    text, _ = digest_of(engine, DAY + timedelta(days=1))
    assert "Answer" in text
    earlier, _ = digest_of(engine, DAY)  # a rerun of a missed day, composed afterwards
    assert "Answer" not in earlier


def test_previews_and_dry_runs_mark_nothing_as_mailed(engine, readers):
    started = say(engine, readers["ada"], "Question", DAY - timedelta(hours=3))
    say(engine, readers["bob"], "Answer", DAY - timedelta(hours=2), started)
    with engine.connect() as conn:
        user = accounts.user_by_id(conn, readers["ada"])
    shown = preview(engine, NoPicks(), user, "daily", MAIL, DAY)
    assert "Answer" in part_of(shown, "plain")
    assert compose(engine, NoPicks(), "daily", MAIL, DAY, dry_run=True)
    text, _ = digest_of(engine, DAY)
    assert "Answer" in text


def test_replies_older_than_the_digest_window_are_not_dug_up(engine, readers):
    started = say(engine, readers["ada"], "Old question", DAY - timedelta(days=10))
    say(engine, readers["bob"], "Old answer", DAY - timedelta(days=9), started)
    text, _ = digest_of(engine, DAY)
    assert SECTION not in text and "Nothing new this time." not in text  # trending is there


def title(engine) -> str:
    with engine.connect() as conn:
        return queries.get_paper(conn, PAPER)["title"]

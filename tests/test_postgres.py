"""What only PostgreSQL shows: its driver, its migrations both ways, its types, and its
concurrency (READ COMMITTED sessions writing at once, where SQLite serialises writers)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, func, select
from sqlalchemy.engine import make_url

from papertide.application import Papertide
from papertide.config import Settings
from papertide.records import PaperRecord
from papertide.security import hash_password
from papertide.store import accounts, dialect, digests, jobs, library, queries, schema, topics
from papertide.store.engine import _alembic_config, head_revision, open_engine, upgrade
from papertide.store.schema import metadata, outbox, papers, upvotes
from papertide.store.writer import save_batch, utcnow
from papertide.web.app import create_app
from papertide.web.auth import LOGIN_ATTEMPTS
from test_web_accounts import browser, csrf_of, log_in

pytestmark = pytest.mark.postgresql_only(reason="PostgreSQL's own behaviour")


def test_a_plain_postgresql_url_means_psycopg_3():
    url = make_url("postgresql://reader@db.example/papertide")
    assert dialect.with_default_driver(url).drivername == "postgresql+psycopg"
    explicit = make_url("postgresql+pg8000://reader@db.example/papertide")
    assert dialect.with_default_driver(explicit) == explicit  # a driver the user chose stays


def test_a_postgresql_database_keeps_its_indexes_in_a_folder_named_after_it(monkeypatch):
    """The folder was a hash of the whole URL: another user name or driver spelling of the same
    database got other (empty) indexes, and nobody could tell which folder was whose."""
    monkeypatch.delenv("PAPERTIDE_INDEX_DIR", raising=False)
    spellings = (
        "postgresql://ada@db.example:6543/papers",
        "postgresql+psycopg://bob:secret@db.example:6543/papers",
    )
    folders = {Papertide(Settings.load(db=url)).index_dir for url in spellings}
    assert [folder.name for folder in folders] == ["db.example-6543-papers"]
    assert next(iter(folders)).parent.name == "indexes"
    monkeypatch.setenv("PAPERTIDE_INDEX_DIR", "/srv/papertide-index")
    assert Papertide(Settings.load(db=spellings[0])).index_dir == Path("/srv/papertide-index")


def test_the_test_server_is_reached_by_a_plain_tcp_url(engine, db_url):
    assert db_url.startswith("postgresql://postgres@127.0.0.1:")
    assert engine.dialect.driver == "psycopg"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW server_version").scalar().startswith("18")


def test_migrations_go_down_to_nothing_and_up_again_to_the_declared_schema(engine):
    command.downgrade(_alembic_config(engine), "base")
    with engine.connect() as conn:
        left = set(
            conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).scalars()
        )
    assert left <= {"alembic_version"}
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == head_revision(engine)
        assert compare_metadata(context, metadata) == []


def test_json_columns_compare_on_postgresql(engine):
    """PostgreSQL's `json` has no `=`: a query comparing a list column with `[]` failed (the
    papers-with-code count of `stats`). Every JSON column of the schema compares now."""
    with engine.begin() as conn:
        save_batch(
            conn,
            [
                PaperRecord(source="csv", title="With code", code_urls=["https://github.com/a/b"]),
                PaperRecord(source="csv", title="Without code"),
            ],
        )
    json_columns = [
        column
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, JSON)
    ]
    assert len(json_columns) >= 8
    with engine.connect() as conn:
        for column in json_columns:
            conn.execute(select(func.count()).where(column == []))  # raised before
        with_code = select(func.count()).where(papers.c.code_urls != [])
        assert conn.execute(with_code).scalar_one() == 1
        assert queries.stats(conn)["with_code"] == 1


def _user_and_paper(engine) -> tuple[int, str]:
    with engine.begin() as conn:
        save_batch(conn, [PaperRecord(source="csv", title="A paper to vote on")])
        paper_id = queries.list_papers(conn)[0]["id"]
        user_id = accounts.create_user(conn, "voter", "hash")
    return user_id, paper_id


def test_concurrent_vote_toggles_leave_the_count_a_serial_order_gives(engine):
    user_id, paper_id = _user_and_paper(engine)

    def toggle(_: int) -> bool:
        with engine.begin() as conn:
            return accounts.toggle_vote(conn, user_id, paper_id)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(toggle, range(40)))
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(upvotes)).scalar_one()
    # every toggle flipped the vote once: as many "now voted" as "taken back", or one more
    assert outcomes.count(True) - outcomes.count(False) == stored
    assert stored in (0, 1)


def test_one_sender_wins_a_claim_on_postgresql(engine):
    now = utcnow()  # enqueue makes messages due now, by the real clock
    with engine.begin() as conn:
        subscriber = digests.subscribe(conn, "reader@example.org", "daily")
        digests.confirm(conn, subscriber)
        digests.enqueue(
            conn,
            [
                {
                    "subscriber_id": subscriber.subscriber_id,
                    "period_key": f"daily:2026-11-{day}",
                    "message_id": f"<{day}@papertide>",
                    "message": b"Subject: digest\r\n\r\nbody",
                    "paper_ids": [],
                }
                for day in range(10, 20)
            ],
        )
        ids = list(conn.execute(select(outbox.c.id)).scalars())

    def claim(message_id: int) -> bool:
        with engine.begin() as conn:
            return digests.claim(
                conn, message_id, now + timedelta(hours=1), now + timedelta(hours=2)
            )

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(claim, ids * 4))
    assert won.count(True) == len(ids)


def test_counts_and_ids_past_32_bits_fit_on_postgresql(engine):
    """PostgreSQL's INTEGER is 32-bit: a count SQLite keeps (2**40 upvotes) failed the batch,
    and a 64-bit id in a lookup failed the query instead of finding nothing."""
    huge = 2**40
    with engine.begin() as conn:
        save_batch(conn, [PaperRecord(source="hf", title="Popular", upstream_upvotes=huge)])
    with engine.connect() as conn:
        paper = queries.list_papers(conn)[0]
        assert queries.get_paper(conn, paper["id"])["upstream_upvotes"] == huge
        assert topics.get(conn, 2**62) is None
        assert accounts.user_by_id(conn, 2**62) is None


def test_text_longer_than_declared_fits_on_postgresql(engine):
    """SQLite ignores VARCHAR lengths; PostgreSQL refused a 300-character DOI or source id
    (and with it the whole batch) and a checkpoint for a file path longer than 500."""
    doi = "10.1000/" + "x" * 300
    with engine.begin() as conn:
        result = save_batch(
            conn,
            [
                PaperRecord(source="bibtex", source_id="k" * 400, title="Long DOI", doi=doi),
                PaperRecord(source="bibtex", title="Short one"),
            ],
        )
        jobs.save_checkpoint(conn, "import:/" + "deep/" * 200 + "file.bib", {"line": 1})
    assert result.new == 2
    with engine.connect() as conn:
        assert queries.get_paper(conn, doi)["doi"] == doi


def test_a_nul_character_never_fails_a_query_on_postgresql(engine):
    """PostgreSQL text cannot hold U+0000 and psycopg refused to send it: a NUL in a paper id,
    a login name or a stored field failed the query; now it finds nothing, or is kept as
    U+FFFD."""
    with engine.begin() as conn:
        assert queries.get_paper(conn, "2611.00001\x00") is None
        assert accounts.user_by_name(conn, "ada\x00") is None
        user_id = accounts.create_user(conn, "ada", "hash")
        token_id = accounts.create_api_token(conn, "f" * 64, user_id, "laptop\x00")
        names = [token["name"] for token in accounts.api_tokens_of(conn, user_id)]
    assert token_id == "f" * 16 and names == ["laptop\ufffd"]


def test_concurrent_wrong_passwords_get_no_more_guesses_than_the_limit(db_url):
    """The login limit counted failures only after the password was checked: attempts made at
    once (several app instances, or threads of one) all passed a count none had added to yet."""
    with open_engine(db_url).begin() as conn:
        accounts.create_user(conn, "ada", hash_password("correct horse battery"))
    web = create_app(db_url)
    clients = [browser(web) for _ in range(12)]
    tokens = [csrf_of(client) for client in clients]  # every client ready before any guess
    start = threading.Barrier(len(clients))

    def guess(number: int) -> int:
        start.wait()
        return (
            clients[number]
            .post(
                "/login",
                data={
                    "username": "ada",
                    "password": f"guess {number}",
                    "csrf_token": tokens[number],
                },
                follow_redirects=False,
            )
            .status_code
        )

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(guess, range(len(clients))))
    checked = [status for status in answers if status != 429]
    assert len(checked) <= LOGIN_ATTEMPTS and set(checked) <= {400}, answers
    # A refused attempt checked no password and is forgotten (it must not prolong a lockout):
    # the account is locked exactly when the checked guesses reached the limit.
    locked = len(checked) == LOGIN_ATTEMPTS
    assert log_in(browser(web), "ada", "correct horse battery") == (429 if locked else 303)


def test_saving_and_rating_one_paper_at_once_keeps_both(engine):
    """The library row was read, changed and written back whole: a save and a rating of the
    same paper at once (two tabs, two instances) left only one of them under READ COMMITTED."""
    with engine.begin() as conn:
        save_batch(conn, [PaperRecord(source="csv", title=f"Paper {i}") for i in range(20)])
        ids = [paper["id"] for paper in queries.list_papers(conn)]
        user_id = accounts.create_user(conn, "ada", "hash")
    start = threading.Barrier(2)

    def change(paper_id: str, what: str) -> None:
        start.wait()
        with engine.begin() as conn:
            if what == "save":
                library.set_saved(conn, user_id, paper_id, True)
            else:
                library.set_rating(conn, user_id, paper_id, "up")

    with ThreadPoolExecutor(2) as pool:
        for paper_id in ids:
            list(pool.map(change, [paper_id, paper_id], ["save", "rate"]))
    with engine.connect() as conn:
        rows = conn.execute(select(schema.library.c.saved, schema.library.c.rating)).all()
    assert len(rows) == len(ids) and set(rows) == {(True, library.RATINGS["up"])}


def test_two_imports_storing_the_same_papers_at_once_both_succeed(engine):
    """Both batches read 'not stored yet', then the second to write failed on the unique key
    (an import beside a scheduled sync, or on another instance): its whole batch was lost."""
    start = threading.Barrier(2)

    def import_batch(source: str) -> int:
        records = [
            PaperRecord(source=source, title=f"Shared paper {i}", arxiv_id=f"2611.{i:05d}")
            for i in range(2000)
        ]
        start.wait()
        with engine.begin() as conn:
            result = save_batch(conn, records)
        return result.new + result.updated + result.duplicates

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(import_batch, ["arxiv", "hf"])) == [2000, 2000]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 2000
        sources = conn.execute(select(func.count()).select_from(schema.paper_sources))
        assert sources.scalar_one() == 4000


def test_a_nul_character_in_stored_json_is_kept_as_a_replacement_on_postgresql(engine):
    """jsonb refuses `\\u0000`: a checkpoint holding a source's resumption token with a NUL in
    it failed its batch. A literal backslash followed by 'u0000' stays as it is."""
    state = {"token": "page\x002", "literal": "C:\\u0000"}
    with engine.begin() as conn:
        jobs.save_checkpoint(conn, "sync:oai:cs", state)
    with engine.connect() as conn:
        stored = jobs.load_checkpoint(conn, "sync:oai:cs")
    assert stored == {"token": "page\ufffd2", "literal": "C:\\u0000"}

"""Submitting papers to the daily lists (issue 14, item 1): the store's rules, the web flows,
the lists' two views, the API's and feed's curated mode, fetching from a (fake) arXiv, and the
arXiv id/link reader."""

import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from conftest import FIXTURES, free_port
from localserver import Reply, Script, serve
from papertide.arxiv_ref import OLD_ARCHIVES, NotAnArxivRef, parse_arxiv_ref
from papertide.clock import FixedClock
from papertide.config import Settings
from papertide.ingest.runner import import_file
from papertide.records import PaperRecord, normalize_arxiv_id
from papertide.security import hash_password
from papertide.store import accounts
from papertide.store import submissions as store
from papertide.store.engine import open_engine
from papertide.store.schema import papers, submissions
from papertide.store.writer import save_batch
from papertide.web.app import create_app
from test_web_accounts import csrf_of, log_in

NOW = datetime(2026, 11, 22, 12, 0)
RULES = store.Rules(max_age_days=14, daily_quota=5)
FRESH = [f"2611.0100{n}" for n in range(8)]  # published 2026-11-21, nobody submitted them


def _paper(arxiv_id: str, published: datetime | None, title: str | None = None) -> PaperRecord:
    return PaperRecord(
        source="arxiv",
        source_id=arxiv_id,
        arxiv_id=arxiv_id,
        title=title or f"Fresh paper {arxiv_id}",
        abstract="An abstract.",
        authors=["A. Author"],
        published_at=published,
    )


@pytest.fixture
def engine(db_url):
    eng = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json"):
        import_file(eng, FIXTURES / name)
    with eng.begin() as conn:
        save_batch(conn, [_paper(i, datetime(2026, 11, 21, 10)) for i in FRESH])
        save_batch(conn, [_paper("2610.09999", datetime(2026, 10, 1), "An old paper")])
        save_batch(conn, [_paper("2611.09998", None, "An undated paper")])
        for name, role in (("root", "admin"), ("ada", "user"), ("bob", "user")):
            accounts.create_user(conn, name, hash_password(f"{name}-password1"), role)
    yield eng
    eng.dispose()


def _user(engine, name):
    with engine.connect() as conn:
        return accounts.user_by_name(conn, name)


def _submit(engine, name, paper_id, comment=None, now=NOW, rules=RULES):
    with engine.begin() as conn:
        return store.submit(conn, _user(engine, name), paper_id, comment, now, rules)


def _refused(engine, name, paper_id, now=NOW, rules=RULES) -> store.SubmissionError:
    with pytest.raises(store.SubmissionError) as refused:
        _submit(engine, name, paper_id, now=now, rules=rules)
    return refused.value


# -- the store's rules -----------------------------------------------------------------------


def test_one_submission_per_paper_naming_who_submitted_it(engine):
    _submit(engine, "ada", FRESH[0], "worth it")
    second = _refused(engine, "bob", FRESH[0])
    assert second.status == 409 and "ada" in str(second) and "2026-11-22 12:00" in str(second)
    hf = _refused(engine, "bob", "2407.05528")  # Hugging Face's community submitted it
    assert hf.status == 409 and "someone on Hugging Face" in str(hf)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(submissions)).scalar_one() == 2


def test_papers_older_than_the_age_limit_or_undated_are_refused(engine):
    old = _refused(engine, "ada", "2610.09999")
    assert old.status == 409 and "2026-10-01" in str(old) and "14 days" in str(old)
    assert _refused(engine, "ada", "2611.09998").status == 409  # undated
    _submit(engine, "ada", "2610.09999", rules=store.Rules(max_age_days=60, daily_quota=5))
    assert _refused(engine, "ada", "no-such-paper").status == 404


def test_daily_quota_per_member_and_utc_day(engine):
    rules = store.Rules(max_age_days=14, daily_quota=2)
    _submit(engine, "ada", FRESH[0], rules=rules)
    _submit(engine, "ada", FRESH[1], rules=rules)
    over = _refused(engine, "ada", FRESH[2], rules=rules)
    assert over.status == 429 and "2 papers today" in str(over)
    _submit(engine, "bob", FRESH[2], rules=rules)  # another member's quota is their own
    _submit(engine, "ada", FRESH[3], now=NOW + timedelta(hours=12), rules=rules)  # next day
    with engine.connect() as conn:
        assert store.count_submitted(conn, None, None, "ada") == 3


def test_submissions_at_once_keep_the_rules(engine):
    """Members submitting at the same moment (several app workers): one paper is taken once,
    and a member's quota holds however many of their submissions race."""
    rules = store.Rules(max_age_days=14, daily_quota=2)

    def attempt(name_and_paper):
        name, paper_id = name_and_paper
        try:
            _submit(engine, name, paper_id, rules=rules)
            return "ok"
        except store.SubmissionError as refused:
            return refused.status

    with ThreadPoolExecutor(6) as pool:
        same_paper = list(pool.map(attempt, [("ada", FRESH[0]), ("bob", FRESH[0])] * 3))
        quota = list(pool.map(attempt, [("ada", paper) for paper in FRESH[1:7]]))
    assert sorted(same_paper, key=str) == [409, 409, 409, 409, 409, "ok"]
    with engine.connect() as conn:
        ada_had = int(store.submission_of(conn, FRESH[0])["submitter"] == "ada")
        assert store.count_submitted(conn, None, None, "ada") == 2
    assert quota.count("ok") == 2 - ada_had and quota.count(429) == 4 + ada_had


def test_a_submission_waits_for_the_members_open_one(engine):
    """The quota is counted after the member's other transactions: a second submission made
    while the first is still open waits for it, then counts it (it would pass unseen)."""
    rules = store.Rules(max_age_days=14, daily_quota=1)
    ada = _user(engine, "ada")
    with ThreadPoolExecutor(1) as pool, engine.connect() as first:
        with first.begin():
            store.submit(first, ada, FRESH[0], None, NOW, rules)
            second = pool.submit(_refused, engine, "ada", FRESH[1], NOW, rules)
            time.sleep(0.5)
            assert not second.done()  # waiting for the first to end
        assert second.result(timeout=30).status == 429


def test_removal_takes_a_paper_off_and_keeps_it_off(engine):
    admin = _user(engine, "root")
    _submit(engine, "ada", FRESH[0])
    with engine.begin() as conn:
        store.remove(conn, FRESH[0], admin, NOW)
    with engine.connect() as conn:
        assert FRESH[0] not in [p["id"] for p in store.submitted_papers(conn, None, None)]
    again = _refused(engine, "bob", FRESH[0])
    assert again.status == 409 and "removed" in str(again)
    with pytest.raises(store.SubmissionError) as twice, engine.begin() as conn:
        store.remove(conn, FRESH[0], admin, NOW)
    assert twice.value.status == 404
    # Hugging Face's submission, removed, does not come back with the next sync
    with engine.begin() as conn:
        store.remove(conn, "2407.05528", admin, NOW)
    import_file(engine, FIXTURES / "hf_daily.json")
    with engine.connect() as conn:
        assert store.submissions_of(conn, ["2407.05528"]) == {}


def test_hugging_face_submissions_are_stored_once(engine):
    import_file(engine, FIXTURES / "hf_daily.json")  # a second sync adds nothing
    with engine.connect() as conn:
        rows = conn.execute(select(submissions)).mappings().all()
    assert [(r["paper_id"], r["origin"], r["submitter"], r["user_id"]) for r in rows] == [
        ("2407.05528", "hf", "someone", None)
    ]
    assert rows[0]["submitter_fullname"] == "Some One"
    assert rows[0]["submitted_at"] == datetime(2024, 7, 9, 1, 0)  # the item's publishedAt


def test_comments_are_plain_bounded_text():
    assert store.clean_comment("  two\nlines\u202e\x00 here ") == "two lines here"
    assert store.clean_comment(" \n ") is None
    assert store.clean_comment("<b>kept as text</b>") == "<b>kept as text</b>"
    with pytest.raises(store.SubmissionError):
        store.clean_comment("x" * 501)


# -- the web app -----------------------------------------------------------------------------


def _app(db_url, **settings):
    return create_app(Settings.load(db=db_url, http_backoff=0, **settings), FixedClock(NOW))


def _signed_in(app, name):
    client = TestClient(app, base_url="http://testserver")
    assert log_in(client, name, f"{name}-password1") == 303
    return client


def _post_submit(client, paper, comment="", token=None):
    token = token if token is not None else csrf_of(client, "/submit")
    return client.post(
        "/submit",
        data={"paper": paper, "comment": comment, "csrf_token": token},
        follow_redirects=False,
    )


HOSTILE_COMMENT = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def test_submit_from_the_web_and_see_it_in_submitted(engine, db_url):
    app = _app(db_url)
    with _signed_in(app, "ada") as ada:
        answer = _post_submit(ada, f"https://arxiv.org/abs/{FRESH[0]}v2", HOSTILE_COMMENT)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/day/2026-11-22?view=submitted"
        submitted = ada.get("/day/2026-11-22?view=submitted").text
        assert f"Fresh paper {FRESH[0]}" in submitted and "submitted by" in submitted
        assert "<script>window.__xss" not in submitted and "&lt;script&gt;" in submitted
        assert "Fresh paper 2611.01001" not in submitted  # not submitted: All new only
        every = ada.get("/day/2026-11-21?view=all").text
        assert "Fresh paper 2611.01001" in every
        assert re.search(r"submitted by <span class=\"submitter\">ada</span>", every)
        page = ada.get(f"/papers/{FRESH[0]}").text  # the paper's own page says so too
        assert re.search(r"submitted by <span class=\"submitter\">ada</span>", page)
        assert "<script>window.__xss" not in page and "&lt;script&gt;" in page
    with _signed_in(app, "bob") as bob:
        second = _post_submit(bob, FRESH[0])
        assert second.status_code == 409 and "already submitted by ada" in second.text
        for bad in ("not an id", "2401.1234", "https://evil.example/abs/2401.01234", "1" * 400):
            refused = _post_submit(bob, bad)
            assert refused.status_code == 400, bad
            assert "Not submitted" in refused.text
        long_comment = _post_submit(bob, FRESH[1], "x" * 501)
        assert long_comment.status_code == 400 and "500 characters" in long_comment.text


def test_submitting_needs_a_member_and_the_csrf_token(engine, db_url):
    app = _app(db_url)
    with TestClient(app) as anonymous:
        token = csrf_of(anonymous)
        assert _post_submit(anonymous, FRESH[0], token=token).status_code == 401
        assert "Log in" in anonymous.get("/day/2026-11-22?view=submitted").text
    with _signed_in(app, "ada") as ada:
        assert _post_submit(ada, FRESH[0], token="forged").status_code == 403
        assert ada.post("/submit", data={"paper": FRESH[0]}).status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(submissions)).scalar_one() == 1


def test_admins_remove_submissions(engine, db_url):
    _submit(engine, "ada", FRESH[0])
    app = _app(db_url)
    path = f"/admin/papers/{FRESH[0]}/submission/remove"
    with _signed_in(app, "bob") as bob:
        assert "remove submission" not in bob.get("/day/2026-11-22?view=submitted").text
        assert bob.post(path, data={"csrf_token": csrf_of(bob, "/")}).status_code == 403
    with _signed_in(app, "root") as root:
        assert "remove submission" in root.get("/day/2026-11-22?view=submitted").text
        assert root.post(path, data={"csrf_token": "forged"}).status_code == 403
        token = csrf_of(root, "/")
        removed = root.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert removed.status_code == 303
        assert f"Fresh paper {FRESH[0]}" not in root.get("/day/2026-11-22?view=submitted").text
        assert root.post(path, data={"csrf_token": token}).status_code == 404


def test_the_two_views_and_links_that_keep_them(engine, db_url):
    _submit(engine, "ada", FRESH[0], now=datetime(2026, 11, 18, 9))
    _submit(engine, "bob", FRESH[1], now=datetime(2026, 11, 22, 9))
    with TestClient(_app(db_url)) as client:
        day = client.get("/day/2026-11-22").text  # this instance shows all by default
        assert 'aria-current="page">All new' in day and "Fresh paper" not in day
        chosen = client.get("/day/2026-11-22?view=submitted").text
        assert f"Fresh paper {FRESH[1]}" in chosen and f"Fresh paper {FRESH[0]}" not in chosen
        # the previous day with submissions (the previous day with papers is the 21st)
        assert 'href="/day/2026-11-18?view=submitted"' in chosen
        assert 'href="/day/2026-11-21">← previous day' in day
        assert "sort=trending&amp;view=submitted" in chosen
        assert client.get("/week/2026-W47?view=submitted&sort=trending").status_code == 200
        month = client.get("/month/2026-11?view=submitted").text
        assert f"Fresh paper {FRESH[0]}" in month and f"Fresh paper {FRESH[1]}" in month
        assert client.get("/day/2026-11-22?view=bogus").status_code == 400
        picked = client.get("/day?date=2026-11-21&view=submitted", follow_redirects=False)
        assert picked.headers["location"] == "/day/2026-11-21?view=submitted"
    with TestClient(_app(db_url, default_view="curated")) as curated:
        assert curated.get("/", follow_redirects=False).headers["location"] == "/day/2026-11-22"
        day = curated.get("/day/2026-11-22").text
        assert f"Fresh paper {FRESH[1]}" in day and "2611.00001" not in day
        assert "2611.00001" in curated.get("/day/2026-11-20?view=all").text


def test_pager_links_keep_the_view(engine, db_url):
    rules = store.Rules(max_age_days=14, daily_quota=1000)
    many = [_paper(f"2611.{2000 + n:05d}", datetime(2026, 11, 21)) for n in range(101)]
    with engine.begin() as conn:
        save_batch(conn, many)
    for record in many:
        _submit(engine, "ada", record.arxiv_id, rules=rules)
    with TestClient(_app(db_url)) as client:
        first = client.get("/day/2026-11-22?view=submitted").text
        assert 'href="/day/2026-11-22?view=submitted&amp;page=2" rel="next"' in first
        second = client.get("/day/2026-11-22?view=submitted&page=2").text
        assert second.count('<article class="item">') == 1


def test_daily_papers_api_in_curated_mode(engine, db_url):
    _submit(engine, "ada", FRESH[0], "read this")
    _submit(engine, "bob", FRESH[1])
    with TestClient(_app(db_url, default_view="curated")) as client:
        items = client.get("/api/daily_papers?date=2026-11-22").json()
        assert {i["paper"]["id"] for i in items} == {FRESH[0], FRESH[1]}
        ada = next(i for i in items if i["paper"]["id"] == FRESH[0])
        assert ada["submittedBy"] == {"name": "ada", "fullname": "ada", "type": "user"}
        assert ada["paper"]["submittedOnDailyAt"] == "2026-11-22T12:00:00Z"
        assert ada["submittedOnDailyAt"] == ada["publishedAt"] == "2026-11-22T12:00:00Z"
        only_bob = client.get("/api/daily_papers?date=2026-11-22&submitter=BOB").json()
        assert [i["paper"]["id"] for i in only_bob] == [FRESH[1]]
        hf = client.get("/api/daily_papers?date=2024-07-09&submitter=someone").json()
        assert hf[0]["submittedBy"] == {"name": "someone", "fullname": "Some One", "type": "user"}
        assert client.get("/api/daily_papers?submitter=" + "x" * 300).status_code == 422
        feed = client.get("/feeds/daily.atom").text  # the feed follows the curated view
        assert f"Fresh paper {FRESH[0]}" in feed and "2611.00001" not in feed
    with TestClient(_app(db_url)) as client:  # all: every paper, submitted ones say so
        items = {i["paper"]["id"]: i for i in client.get("/api/daily_papers").json()}
        assert items[FRESH[0]]["submittedBy"]["name"] == "ada"
        assert items[FRESH[2]]["submittedBy"] is None
        assert items["2611.00001"]["publishedAt"] == "2026-11-20T12:00:00Z"
        assert f"Fresh paper {FRESH[2]}" in client.get("/feeds/daily.atom?date=2026-11-21").text


def test_daily_papers_api_reads_back_with_huggingface_hub(engine, db_url):
    hf_api = pytest.importorskip("huggingface_hub.hf_api")
    _submit(engine, "ada", FRESH[0])
    with TestClient(_app(db_url, default_view="curated")) as client:
        item = client.get("/api/daily_papers?date=2026-11-22").json()[0]
    paper = hf_api.PaperInfo(**item)
    assert paper.id == FRESH[0]
    assert paper.submitted_at.replace(tzinfo=None) == NOW
    assert paper.submitted_by.fullname == "ada"


# -- fetching from arXiv ---------------------------------------------------------------------

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <id>http://arxiv.org/api/q</id><title>query</title>{entry}
</feed>"""
ENTRY = """<entry><id>http://arxiv.org/abs/{id}v2</id><published>{published}</published>
  <updated>{published}</updated><title>{title}</title><summary>Fetched abstract.</summary>
  <author><name>F. Etched</name></author><arxiv:primary_category term="cs.LG"/>
  <category term="cs.LG"/></entry>"""


def _arxiv_reply(arxiv_id, published="2026-11-21T08:00:00Z", title="A paper fetched from arXiv"):
    entry = ENTRY.format(id=arxiv_id, published=published, title=title)
    return Reply(200, ATOM.format(entry=entry).encode(), {"Content-Type": "application/atom+xml"})


def test_a_paper_not_stored_is_fetched_from_arxiv(engine, db_url):
    script = Script(
        chooser=lambda path, query: (
            _arxiv_reply(query["id_list"][0])
            if query["id_list"][0] == "2611.05555"
            else _arxiv_reply("2611.04444", "2026-01-02T00:00:00Z", "An old fetched paper")
            if query["id_list"][0] == "2611.04444"
            else Reply(200, ATOM.format(entry="").encode())
        )
    )
    with serve(script) as base:
        app = _app(db_url, arxiv_api_url=f"{base}/api/query")
        with _signed_in(app, "ada") as ada:
            answer = _post_submit(ada, "arxiv.org/pdf/2611.05555v2.pdf", "fetched")
            assert answer.status_code == 303, answer.text
            page = ada.get(answer.headers["location"]).text
            assert "A paper fetched from arXiv" in page
            unknown = _post_submit(ada, "2611.06666")
            assert unknown.status_code == 404 and "arXiv has no paper 2611.06666" in unknown.text
            old = _post_submit(ada, "2611.04444")
            assert old.status_code == 409 and "2026-01-02" in old.text
    asked = [query["id_list"] for _path, query in script.requests]
    assert asked == [["2611.05555"], ["2611.06666"], ["2611.04444"]]
    with engine.connect() as conn:
        stored = select(papers.c.id, papers.c.abs_url).where(papers.c.id.like("2611.0_555"))
        assert conn.execute(stored).all() == [("2611.05555", "https://arxiv.org/abs/2611.05555")]
        assert conn.execute(select(papers.c.id).where(papers.c.id == "2611.04444")).first() is None


def test_unreachable_arxiv_is_a_message_not_a_hang(engine, db_url):
    dead = f"http://127.0.0.1:{free_port()}/api/query"  # nothing listens there
    app = _app(db_url, arxiv_api_url=dead)
    with _signed_in(app, "ada") as ada:
        token = csrf_of(ada, "/submit")
        started = time.monotonic()
        answer = _post_submit(ada, "2611.07777", token=token)
        assert time.monotonic() - started < 2  # one refused connection, no retries
        assert answer.status_code == 503
        assert "arXiv cannot be reached right now" in answer.text and "try again" in answer.text
        assert _post_submit(ada, FRESH[0]).status_code == 303  # stored papers need no arXiv
    with engine.connect() as conn:
        assert conn.execute(select(papers.c.id).where(papers.c.id == "2611.07777")).first() is None


def test_an_arxiv_that_never_answers_times_out(engine, db_url):
    with socket.socket() as silent:  # takes connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/query"
        app = _app(db_url, arxiv_api_url=url, submission_fetch_timeout=0.5)
        with _signed_in(app, "ada") as ada:
            token = csrf_of(ada, "/submit")
            started = time.monotonic()
            answer = _post_submit(ada, "2611.07777", token=token)
            assert time.monotonic() - started < 3
    assert answer.status_code == 503 and "arXiv cannot be reached" in answer.text


# -- the arXiv id and link reader ------------------------------------------------------------

new_ids = st.builds(
    lambda yymm, n: f"{yymm:04d}.{n:0{4 if yymm < 1501 else 5}d}",
    st.integers(7, 99).flatmap(lambda yy: st.integers(1, 12).map(lambda mm: yy * 100 + mm)).filter(
        lambda yymm: yymm >= 704
    ),
    st.integers(0, 9999),
)
old_ids = st.builds(
    lambda archive, yy, mm, n: f"{archive}/{yy:02d}{mm:02d}{n:03d}",
    st.sampled_from(sorted(OLD_ARCHIVES)),
    st.sampled_from([*range(91, 100), *range(0, 8)]),
    st.integers(1, 12),
    st.integers(0, 999),
)
versions = st.sampled_from(["", "v1", "v2", "v17"])
forms = st.sampled_from(
    [
        "{id}{v}",
        "arXiv:{id}{v}",
        "  {id}{v}\n",
        "https://arxiv.org/abs/{id}{v}",
        "http://www.arxiv.org/abs/{id}{v}?context=cs",
        "arxiv.org/pdf/{id}{v}",
        "https://export.arxiv.org/pdf/{id}{v}.pdf",
        "https://arxiv.org/abs/{id}{v}/",
    ]
)


@given(st.one_of(new_ids, old_ids), versions, forms)
def test_every_form_of_an_arxiv_id_reads_as_the_stored_id(arxiv_id, version, form):
    text = form.format(id=arxiv_id, v=version)
    assert parse_arxiv_ref(text) == arxiv_id
    assert normalize_arxiv_id(text) == arxiv_id  # the id imports store the paper under


@given(st.text(max_size=400))
def test_any_text_is_an_arxiv_id_or_a_reason(text):
    try:
        found = parse_arxiv_ref(text)
    except NotAnArxivRef as refused:
        assert str(refused)
        return
    assert re.fullmatch(r"\d{4}\.\d{4,5}|[a-z-]+/\d{7}", found)
    assert found in text or found.split("/")[1] in text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2401.1234",  # five digits since 2015
        "1412.12345",  # four before
        "0612.1234",  # new-style ids start in April 2007
        "2413.01234",  # no 13th month
        "2401.01234v0",
        "foo-bar/9901001",  # not an archive
        "hep-th/0801001",  # old-style ids ended in 2007
        "https://arxiv.org.evil.example/abs/2401.01234",
        "https://user@arxiv.org/abs/2401.01234",
        "ftp://arxiv.org/abs/2401.01234",
        "https://arxiv.org/list/cs.LG/new",
        "https://arxiv.org/abs/2401.01234.pdf",
        "javascript:alert(1)//2401.01234",
        "see 2401.01234 for details",
        "x" * 301,
    ],
)
def test_what_is_not_an_arxiv_id(text):
    with pytest.raises(NotAnArxivRef):
        parse_arxiv_ref(text)


def test_the_operator_lists_and_removes_submissions(engine, cli):
    _submit(engine, "ada", FRESH[0], "a comment")
    listed = cli.json("submissions", "list")
    assert [(s["paper_id"], s["origin"], s["submitter"]) for s in listed] == [
        (FRESH[0], "member", "ada"),
        ("2407.05528", "hf", "someone"),
    ]
    assert listed[0]["comment"] == "a comment" and listed[0]["removed_at"] is None
    assert "removed the submission" in cli.run("submissions", "remove", f"{FRESH[0]}v1").stdout
    assert cli.json("submissions", "list")[0]["removed_at"] is not None
    again = cli.run("submissions", "remove", FRESH[0], check=False)
    assert again.returncode == 2 and again.stderr.startswith("error: ")
    assert cli.run("submissions", "remove", "nothing", check=False).returncode == 2


def test_a_member_at_the_quota_makes_no_request_to_arxiv(engine, db_url):
    script = Script({"/api/query": [_arxiv_reply("2611.05555")]})
    with serve(script) as base:
        app = _app(db_url, arxiv_api_url=f"{base}/api/query", submission_daily_quota=0)
        with _signed_in(app, "ada") as ada:
            answer = _post_submit(ada, "2611.05555")
    assert answer.status_code == 429 and "try again tomorrow" in answer.text
    assert script.requests == []

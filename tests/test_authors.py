"""Author pages: the indexed author-name table, its upkeep on every write, the page and its
JSON (papers newest first and paged, co-authors, spellings grouped), links from papers, and
following an author from the page."""

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from alembic import command
from sqlalchemy import delete, func, select

from papertide.ingest.runner import import_file
from papertide.security import hash_password
from papertide.store import accounts, library
from papertide.store.engine import _alembic_config, open_engine, upgrade
from papertide.store.schema import paper_authors, papers
from papertide.web.app import create_app
from test_web_accounts import browser, csrf_of, sign_up

HOSTILE_NAMES = ["<img src=x onerror=alert(1)>", '"><script>alert(1)</script>']
PAPERS = [
    {"title": "Deep learning of representations", "date": "2026-11-01", "arxiv_id": "2611.10001",
     "authors": ["Yoshua Bengio", "Jürgen Schmidhuber", "Aaron Courville"]},
    {"title": "Recurrent nets that learn", "date": "2026-11-03", "arxiv_id": "2611.10002",
     "authors": ["Y. Bengio", "J. Schmidhuber", *HOSTILE_NAMES]},
    {"title": "Attention at scale", "date": "2026-11-05", "arxiv_id": "2611.10003",
     "authors": ["Yoshua BENGIO", "Jurgen Schmidhuber", "Samy Bengio"]},
    {"title": "Speech from scratch", "date": "2026-11-04", "arxiv_id": "2611.10004",
     "authors": ["Samy Bengio", "Aaron Courville"]},
]  # fmt: skip


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def app(db_url, tmp_path):
    engine = open_engine(db_url)
    import_file(engine, write_jsonl(tmp_path / "papers.jsonl", PAPERS))
    with engine.begin() as conn:
        accounts.create_user(conn, "root", hash_password("rootpass1"), "admin")
    engine.dispose()
    return create_app(db_url)


def author_rows(engine, paper_id: str) -> list[tuple]:
    with engine.connect() as conn:
        query = (
            select(paper_authors.c.position, paper_authors.c.name, paper_authors.c.name_key)
            .where(paper_authors.c.paper_id == paper_id)
            .order_by(paper_authors.c.position)
        )
        return [tuple(r) for r in conn.execute(query)]


def main_of(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


# -- the table -------------------------------------------------------------------------------


def test_the_author_table_follows_every_write_of_a_paper(engine, tmp_path):
    first = [{"title": "A paper", "date": "2026-11-01", "authors": ["Ada Lovelace", "C. Babbage"]}]
    import_file(engine, write_jsonl(tmp_path / "a.jsonl", first), bulk=False)
    with engine.connect() as conn:
        title_id = conn.execute(select(papers.c.id)).scalar_one()
    assert author_rows(engine, title_id) == [
        (0, "Ada Lovelace", "ada lovelace"),
        (1, "C. Babbage", "c babbage"),
    ]
    # the same paper seen with its arXiv id: a new stable id, and another author list
    again = [{**first[0], "arxiv_id": "2611.20001", "authors": ["Ada Lovelace", "Charles Babbage"]}]
    import_file(engine, write_jsonl(tmp_path / "b.jsonl", again), bulk=False)
    with engine.connect() as conn:
        paper_id = conn.execute(select(papers.c.id)).scalar_one()
        total = conn.execute(select(func.count()).select_from(paper_authors)).scalar_one()
    assert paper_id != title_id
    assert author_rows(engine, title_id) == []
    names = [name for _position, name, _key in author_rows(engine, paper_id)]
    assert "Charles Babbage" in names and "Ada Lovelace" in names
    assert total == len(names)  # rows moved and rewritten, none left behind or doubled


def test_the_migration_fills_the_table_from_papers_already_stored(engine, tmp_path):
    import_file(engine, write_jsonl(tmp_path / "papers.jsonl", PAPERS))
    with engine.begin() as conn:
        before = sorted(tuple(r) for r in conn.execute(select(paper_authors)))
        conn.execute(delete(paper_authors))
    command.downgrade(_alembic_config(engine), "0012")  # to before migration 0014
    upgrade(engine)
    with engine.connect() as conn:
        after = sorted(tuple(r) for r in conn.execute(select(paper_authors)))
    assert len(before) == sum(len(p["authors"]) for p in PAPERS)
    assert after == before


# -- the page --------------------------------------------------------------------------------


def test_an_author_page_lists_every_spelling_newest_first_with_co_authors(app):
    with browser(app) as client:
        page = client.get("/authors/Yoshua%20Bengio")
        assert page.status_code == 200
        body = main_of(page.text)
        titles = re.findall(r'<h2><a href="/papers/[^"]+">([^<]+)</a>', body)
        assert titles == ["Attention at scale", "Recurrent nets that learn",
                          "Deep learning of representations"]  # fmt: skip
        assert "<h1>Yoshua Bengio</h1>" in body
        entry = r'<li><a href="(/authors/[^"]+)">([^<]+)</a> <span class="meta">\((\d+)\)'
        co = re.findall(entry, body)
        assert co[0] == ("/authors/J%C3%BCrgen%20Schmidhuber", "Jürgen Schmidhuber", "3")
        assert ("/authors/Samy%20Bengio", "Samy Bengio", "1") in co
        assert all(name != "Yoshua Bengio" for _path, name, _n in co)
        # another person of the same surname has a page of their own
        samy = main_of(client.get("/authors/Samy%20Bengio").text)
        assert "Speech from scratch" in samy and "Recurrent nets" not in samy


def test_an_initial_leads_to_the_one_author_it_fits_and_an_ambiguous_one_does_not(
    db_url, tmp_path
):
    yann = {"title": "Another Y", "date": "2026-11-06", "authors": ["Yann Bengio", "Y. Bengio"]}
    engine = open_engine(db_url)
    import_file(engine, write_jsonl(tmp_path / "p.jsonl", PAPERS))
    with browser(create_app(db_url)) as client:
        moved = client.get("/authors/J.%20Schmidhuber?page=1", follow_redirects=False)
        assert moved.status_code == 307
        assert moved.headers["location"] == "/authors/J%C3%BCrgen%20Schmidhuber?page=1"
        api = client.get("/api/authors/Y.%20Bengio", follow_redirects=False)
        assert api.headers["location"] == "/api/authors/Yoshua%20Bengio"
    import_file(engine, write_jsonl(tmp_path / "y.jsonl", [yann]))
    engine.dispose()
    with browser(create_app(db_url)) as client:
        own = client.get("/authors/Y.%20Bengio", follow_redirects=False)
        assert own.status_code == 200  # Yoshua or Yann: nothing says which
        assert {p["title"] for p in client.get("/api/authors/Y.%20Bengio").json()["papers"]} == {
            "Recurrent nets that learn",
            "Another Y",
        }
        yoshua = client.get("/api/authors/Yoshua%20Bengio").json()
        assert yoshua["total"] == 2 and "Y. Bengio" not in yoshua["variants"]


def test_author_pages_are_paged_newest_first(db_url, tmp_path):
    many = [
        {"title": f"Prolific paper {n}", "date": f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}",
         "authors": ["Prolific Writer", f"Helper {n % 3}", f"Aa Once{n}"]}
        for n in range(105)
    ]  # fmt: skip
    engine = open_engine(db_url)
    import_file(engine, write_jsonl(tmp_path / "many.jsonl", many))
    engine.dispose()
    with browser(create_app(db_url)) as client:
        first = client.get("/api/authors/Prolific%20Writer").json()
        second = client.get("/api/authors/Prolific%20Writer?page=2")
        assert (first["total"], first["offset"], len(first["papers"])) == (105, 0, 100)
        assert first["papers"][0]["title"] == "Prolific paper 104"
        dates = [p["published_at"] for p in first["papers"] + second.json()["papers"]]
        assert dates == sorted(dates, reverse=True) and len(dates) == 105
        # most papers together first, though 105 one-off co-authors sort before them by name
        together = [(c["name"], c["papers"]) for c in first["co_authors"]]
        assert together[:4] == [("Helper 0", 35), ("Helper 1", 35), ("Helper 2", 35),
                                ("Aa Once0", 1)]  # fmt: skip
        assert len(together) == 20
        page = client.get("/authors/Prolific%20Writer").text
        assert 'href="/authors/Prolific%20Writer?page=2" rel="next"' in page
        assert "1\u2013100 of 105 papers" in page
        assert client.get("/authors/Prolific%20Writer?page=99").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/authors/Nobody%20Here", "/authors/...", "/authors/" + "x" * 2000, "/api/authors/Nobody"],
)
def test_an_unknown_author_is_a_404(app, path):
    with browser(app) as client:
        assert client.get(path).status_code == 404


def test_paper_pages_and_cards_link_authors_with_hostile_names_kept_inert(app):
    with browser(app) as client:
        paper = client.get("/papers/2611.10002").text
        for name in HOSTILE_NAMES:
            assert name not in paper  # escaped, never markup
            assert f'href="/authors/{quote(name, safe="")}"' in paper
        assert 'href="/authors/Y.%20Bengio">Y. Bengio</a>' in paper
        day = client.get("/day/2026-11-05").text
        assert 'href="/authors/Samy%20Bengio">Samy Bengio</a>' in day
        hostile = client.get("/authors/" + quote(HOSTILE_NAMES[1], safe=""))
        assert hostile.status_code == 200
        assert "<script>alert" not in hostile.text
        assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.text


def test_following_an_author_from_the_page(app, db_url):
    with browser(app) as client:
        assert "Log in</a> to follow" in client.get("/authors/Samy%20Bengio").text
        form = {"kind": "author", "value": "Samy Bengio"}
        refused = client.post("/follow", data={**form, "csrf_token": "forged"})
        assert refused.status_code == 403
        sign_up(client, "ada")
        token = csrf_of(client, "/authors/Samy%20Bengio")
        assert client.post("/follow", data={**form, "csrf_token": "wrong"}).status_code == 403
        back = {"referer": "http://testserver/authors/Samy%20Bengio"}
        done = client.post(
            "/follow", data={**form, "csrf_token": token}, headers=back, follow_redirects=False
        )
        assert done.status_code == 303 and done.headers["location"] == "/authors/Samy%20Bengio"
        page = client.get("/authors/SAMY%20BENGIO").text  # another spelling, the same page
        assert "Following · unfollow" in page
        engine = open_engine(db_url)
        with engine.connect() as conn:
            user = accounts.user_by_name(conn, "ada")
            assert library.followed(conn, user["id"]) == [form]
        client.post("/follow", data={**form, "undo": "true", "csrf_token": token}, headers=back)
        with engine.connect() as conn:
            assert library.followed(conn, user["id"]) == []
        engine.dispose()
        assert "Follow Samy Bengio" in client.get("/authors/Samy%20Bengio").text


def test_the_author_api_shape(app):
    with browser(app) as client:
        found = client.get("/api/authors/Yoshua%20Bengio").json()
    assert set(found) == {"name", "path", "variants", "total", "offset", "limit", "papers",
                          "co_authors"}  # fmt: skip
    assert found["variants"] == ["Y. Bengio", "Yoshua BENGIO", "Yoshua Bengio"]
    assert found["path"] == "/authors/Yoshua%20Bengio"
    assert set(found["papers"][0]) >= {"id", "title", "authors", "published_at", "votes"}
    assert set(found["co_authors"][0]) == {"name", "papers", "path"}

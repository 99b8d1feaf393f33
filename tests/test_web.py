"""The web app and JSON API through FastAPI's test client, on a small real database."""

import json

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES, index_database
from papertide.ingest.runner import import_file
from papertide.store.engine import open_engine
from papertide.web.app import create_app

HOSTILE = {
    "title": '<script>alert("t")</script> Hostile <img src=x onerror=alert(1)> title',
    "abstract": 'Evil </p><script>alert("a")</script> text about hostile tokenizers '
    "$\\alpha</script>$ and <b>bold</b> claims.",
    "authors": ["<script>alert('author')</script>"],
    "url": "javascript:alert(1)",
    "date": "2026-11-21",
}


@pytest.fixture
def client(tmp_path, db_url, embedder):
    engine = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml", "zotero.bib"):
        import_file(engine, FIXTURES / name)
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text(json.dumps(HOSTILE) + "\n")
    import_file(engine, hostile)
    engine.dispose()
    index_database(db_url)
    with TestClient(create_app(db_url)) as test_client:
        yield test_client


def test_pages_render(client):
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 307 and home.headers["location"] == "/day/2026-11-22"
    day = client.get("/day/2026-11-22")
    assert day.status_code == 200 and "Radiant Fields" in day.text
    assert 'href="/day/2026-11-21"' in day.text  # previous day with papers, empty days skipped
    assert client.get("/day/2026-11-20").text.count("next day →") == 1
    for url in (
        "/week/2026-W47",
        "/month/2026-11",
        "/search?q=label+noise",
        "/about",
        "/day/2026-11-22?sort=trending",
        "/papers/2407.05528",
    ):
        assert client.get(url).status_code == 200, url
    paper = client.get("/papers/2407.05528").text
    assert "https://github.com/PaulAlbert31/LSA" in paper and "Similar papers" in paper


def test_bad_requests_are_clear(client):
    assert client.get("/day/not-a-day").status_code == 400
    assert client.get("/papers/0000.00000").status_code == 404
    assert client.get("/api/papers/0000.00000").status_code == 404
    assert client.get("/api/papers?day=2026-11-22&week=2026-W47").status_code == 400
    assert client.get("/api/search?q=x&mode=psychic").status_code == 400
    assert client.get("/api/search?q=").status_code == 400


def test_api_papers_search_and_similar(client):
    week = client.get("/api/papers?week=2026-W47").json()
    assert [p["id"] for p in week][:2] == ["2611.00005", "2611.00003"]
    trending = client.get("/api/papers?week=2026-W47&sort=trending").json()
    assert trending[0]["id"] == "2611.00005"  # 57 upstream upvotes
    paper = client.get("/api/papers/2407.05528").json()
    assert {s["source"] for s in paper["sources"]} == {"arxiv", "hf", "oai", "bibtex"}
    hits = client.get("/api/search?q=label noise web&k=3").json()
    assert hits[0]["id"] == "2407.05528" and set(hits[0]) >= {"id", "title", "score", "why"}
    similar = client.get("/api/papers/2407.05528/similar?k=3").json()
    assert similar and "2407.05528" not in [h["id"] for h in similar]


def test_hugging_face_compatible_daily_papers(client):
    items = client.get("/api/daily_papers?date=2026-11-22").json()
    assert len(items) == 1
    item = items[0]
    assert set(item) >= {"paper", "publishedAt", "title", "summary", "numComments"}
    paper = item["paper"]
    assert paper["id"] == "2611.00005" and paper["upvotes"] == 57
    assert paper["authors"] == [{"name": "Marie Curie"}]
    assert paper["projectPage"] == "https://example.org/radiant"
    assert paper["publishedAt"].startswith("2026-11-22T09:00:00")
    month = client.get("/api/daily_papers?month=2026-11&sort=trending&limit=2&p=0").json()
    assert month[0]["paper"]["id"] == "2611.00005" and len(month) == 2
    page_two = client.get("/api/daily_papers?month=2026-11&limit=2&p=1").json()
    assert {i["paper"]["id"] for i in page_two}.isdisjoint({i["paper"]["id"] for i in month})


def test_hostile_text_is_escaped_everywhere(client):
    listing = client.get("/day/2026-11-21").text
    search = client.get("/search?q=hostile tokenizers&mode=keyword").text
    paper_id = client.get("/api/search?q=hostile&mode=keyword").json()[0]["id"]
    page = client.get(f"/papers/{paper_id}").text
    for html in (listing, search, page):
        assert "<script>alert" not in html
        assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
        assert 'href="javascript:' not in html
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("value", ["' OR 1=1 --", '"; DROP TABLE papers; --', "%", "_", "\\"])
def test_sql_meta_characters_are_harmless(client, value):
    responses = {
        url: client.get(url)
        for url in (
            f"/api/search?q={value}",
            f"/api/papers/{value}",
            f"/search?q={value}",
            f"/api/papers?day={value}",
            f"/api/search?q=x&category={value}",
        )
    }
    for url, response in responses.items():
        assert "Traceback" not in response.text, url
    statuses = {url: response.status_code for url, response in responses.items()}
    assert list(statuses.values()) == [200, 404, 200, 400, 200], statuses
    search, paper, page, day, category = responses.values()
    # plain text to search for: results (none for "%", below the semantic floor), never an error
    found = search.json()
    assert isinstance(found, list) and all(set(h) >= {"id", "title", "score", "why"} for h in found)
    # the id is matched exactly (not as a LIKE pattern), and no paper has it
    assert paper.json() == {"detail": f"no paper with id {value!r}"}
    assert 'class="error"' not in page.text
    assert day.json()["detail"].startswith("not a day (YYYY-MM-DD")
    assert category.json() == []  # a category compared whole: "%" or "_" match none
    everything = client.get("/api/papers")  # the papers table is still there
    assert everything.status_code == 200 and everything.json()


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feeds_are_valid(client, fmt):
    import feedparser

    for url, expected in (
        (f"/feeds/daily.{fmt}?date=2026-11-22", ["2611.00005"]),
        (f"/feeds/daily.{fmt}", ["2611.00005"]),
        (f"/feeds/search.{fmt}?q=label+noise&mode=keyword", ["2407.05528"]),
        (f"/feeds/trending.{fmt}", None),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(f"application/{fmt}+xml")
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        assert parsed.version == ("rss20" if fmt == "rss" else "atom10")
        ids = [entry.link.rsplit("/papers/", 1)[1] for entry in parsed.entries]
        if expected is not None:
            assert ids[: len(expected)] == expected, url
        for entry in parsed.entries:
            assert entry.title and entry.link.startswith("http://testserver/papers/")
    hostile = feedparser.parse(client.get(f"/feeds/daily.{fmt}?date=2026-11-21").content)
    assert not hostile.bozo
    assert any("<script>" in e.title for e in hostile.entries)  # kept as text, escaped in XML
    assert client.get("/feeds/daily.json").status_code == 404


def test_paper_pages_serve_lists_stored_at_index_time(tmp_path, db_url, embedder):
    from conftest import application
    from papertide.store.accounts import set_paper_hidden

    engine = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml", "zotero.bib"):
        import_file(engine, FIXTURES / name)
    pt = application(db_url)
    report = pt.update_indexes()
    indexes = pt.indexes()
    assert report["similar_lists"] == report["embedded"] > 5
    stored = [pid for pid, _ in indexes.neighbors.lookup(indexes.vectors, "2407.05528", 3)]
    with TestClient(create_app(db_url)) as client:
        served = client.get("/api/papers/2407.05528/similar?k=3").json()
        assert [h["id"] for h in served] == stored
        assert all(h["why"] == "semantic" for h in served)
        with engine.begin() as conn:  # an admin hides the nearest paper: pages stop showing it
            set_paper_hidden(conn, stored[0], True)
        page = client.get("/papers/2407.05528").text
        assert f'href="/papers/{stored[1]}"' in page and f'href="/papers/{stored[0]}"' not in page
    engine.dispose()

"""Long lists read to their end: pages with counts and previous/next links on every list (day,
week, month, trending, topic, search) and in the JSON API; cards with the abstract's lead; the date
picker; the favicon."""

import json
import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from conftest import index_database
from papertide.clock import FixedClock
from papertide.ingest.runner import import_file
from papertide.store import topics
from papertide.store.engine import open_engine
from papertide.web.app import create_app

PAPERS = 1024
DAY = "2026-11-22"
CLOCK = FixedClock(datetime(2026, 11, 23, 12))
DASH = "\u2013"  # an en dash, between the first and last number of a page


@pytest.fixture(scope="module")
def client(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("lists")
    url = f"sqlite:///{folder / 'papertide.db'}"
    with (folder / "many.jsonl").open("w") as handle:
        for i in range(PAPERS):
            record = {
                "title": f"Graphene lattice study number {i}",
                "abstract": f"We study lattice {i} of graphene. Its phonons are measured at "
                f"{i} K, e.g. by Raman spectra. A third sentence only the expanded card shows.",
                "authors": ["Ada Lovelace", "Émilie du Châtelet", "Mary Somerville"],
                "date": f"{DAY}T{i % 24:02d}:{i % 60:02d}:{i % 57:02d}Z",
                "arxiv_id": f"2611.{10000 + i}",
            }
            handle.write(json.dumps(record) + "\n")
    engine = open_engine(url)
    import_file(engine, folder / "many.jsonl")
    with engine.begin() as conn:  # one topic holding every paper, for the topic page's pages
        topic = {"id": 1, "label": "graphene lattices", "terms": ["graphene"], "size": PAPERS}
        topic.update(x=0.0, y=0.0, centroid=bytes(4), computed_at=CLOCK.now())
        members = [
            {"paper_id": f"2611.{10000 + i}", "topic_id": 1, "x": 0.0, "y": 0.0}
            for i in range(PAPERS)
        ]
        topics.replace_all(conn, [topic], members)
    engine.dispose()
    index_database(url)
    with TestClient(create_app(url, CLOCK)) as test_client:
        yield test_client


def ids_on(page: str) -> list[str]:
    return re.findall(r'<h2><a href="/papers/([^"]+)">', page)


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.parametrize(
    "path",
    [
        f"/day/{DAY}",
        "/week/2026-W47",
        "/month/2026-11",
        "/trending",
        "/topics/1",
        "/search?q=graphene",
    ],
)
def test_every_list_pages_on_past_its_first_page_with_counts(client, path):
    size, depth = (20, 200) if path.startswith("/search") else (100, 300)
    seen: list[str] = []
    page = client.get(path).text
    assert f"1{DASH}{size} of " in page
    while True:
        shown = ids_on(page)
        assert shown and not set(shown) & set(seen), path  # every page new papers
        seen += shown
        following = link(page, "next")
        if following is None or len(seen) >= depth:
            break
        page = client.get(following).text
        assert link(page, "prev"), following
    assert len(seen) == depth, (path, len(seen))
    if size == 20:  # searches page through their best 200 hits, and say there are more
        assert f"181{DASH}200 of more than 200 results" in page and not link(page, "next")
    else:
        assert f"201{DASH}300 of 1,024 papers" in page, path


def test_the_daily_list_reaches_paper_1024_of_1024(client):
    page = client.get(f"/day/{DAY}").text
    assert f"1{DASH}100 of 1,024 papers" in page
    every = ids_on(page)
    while following := link(page, "next"):
        page = client.get(following).text
        every += ids_on(page)
    assert len(every) == len(set(every)) == PAPERS
    assert f"1,001{DASH}1,024 of 1,024 papers" in page and 'rel="next"' not in page


def test_page_and_offset_name_the_same_papers(client):
    by_page = ids_on(client.get(f"/day/{DAY}?page=2").text)
    assert by_page == ids_on(client.get(f"/day/{DAY}?offset=100").text)
    assert by_page != ids_on(client.get(f"/day/{DAY}").text)
    assert client.get(f"/day/{DAY}?page=2&offset=100").status_code == 400


def test_a_page_past_the_end_is_empty_with_a_link_back_not_an_error(client):
    for path, back in (
        (f"/day/{DAY}?page=99", f"/day/{DAY}?page=11"),
        ("/search?q=graphene&page=9999", "/search?q=graphene"),
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert ids_on(answer.text) == [] and "Nothing on this page" in answer.text, path
        assert f'href="{back.replace("&", "&amp;")}"' in answer.text, path


def test_the_json_lists_page_and_count(client):
    first = client.get(f"/api/papers?day={DAY}&limit=100")
    assert first.headers["x-total-count"] == str(PAPERS) and len(first.json()) == 100
    second = client.get(f"/api/papers?day={DAY}&limit=100&page=2").json()
    assert second == client.get(f"/api/papers?day={DAY}&limit=100&offset=100").json()
    assert {p["id"] for p in second}.isdisjoint(p["id"] for p in first.json())
    assert 'rel="next"' in first.headers["link"] and "offset=100" in first.headers["link"]
    assert client.get(f"/api/papers?day={DAY}&page=999").json() == []  # past the end: empty
    hf = client.get(f"/api/daily_papers?date={DAY}&limit=100&p=10")
    assert hf.headers["x-total-count"] == str(PAPERS) and len(hf.json()) == 24
    assert set(hf.json()[0]) >= {"paper", "publishedAt", "title", "summary", "numComments"}
    assert "p=9" in hf.headers["link"] and 'rel="next"' not in hf.headers["link"]
    searched = client.get("/api/search?q=graphene&mode=keyword&k=20&page=2")
    assert len(searched.json()) == 20 and "offset=40" in searched.headers["link"]
    page_one = client.get("/api/search?q=graphene&mode=keyword&k=20").json()
    assert {h["id"] for h in page_one}.isdisjoint(h["id"] for h in searched.json())


def test_cards_show_the_abstracts_lead_and_the_rest_without_javascript(client):
    page = client.get(f"/day/{DAY}").text
    card = re.search(r'<article class="item">.*?</article>', page, re.S).group(0)
    lead = re.search(r"<details class=\"abstract-lead\"><summary>(.*?)</summary><p>(.*?)</p>", card)
    assert lead, card
    summary, rest = lead.groups()
    assert summary.startswith("We study lattice") and summary.endswith("by Raman spectra.")
    assert rest == "A third sentence only the expanded card shows."


def test_day_week_and_month_lists_have_a_date_picker_that_works_without_javascript(client):
    for kind, target in (
        ("day", "/day/2026-11-18"),
        ("week", "/week/2026-W47"),
        ("month", "/month/2026-11"),
    ):
        page = client.get(target).text
        form = re.search(
            rf'<form class="datepick" action="/{kind}" method="get">.*?</form>', page, re.S
        )
        assert form and 'type="date" name="date"' in form.group(0), kind
        assert f"previous {kind}" in page or f"next {kind}" in page, kind
        picked = client.get(f"/{kind}?date=2026-11-18", follow_redirects=False)
        assert picked.status_code == 307 and picked.headers["location"] == target, kind
    assert client.get("/day?date=2026-13-45").status_code in (400, 422)


def test_favicon_ico_is_served_and_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/about").text
    assert client.get("/static/favicon.svg").status_code == 200


def test_a_card_without_authors_has_no_dangling_separator(tmp_path, db_url):
    record = {"title": "Anonymous work", "date": DAY, "code_url": "https://github.com/a/b"}
    (tmp_path / "one.jsonl").write_text(json.dumps(record) + "\n")
    engine = open_engine(db_url)
    import_file(engine, tmp_path / "one.jsonl")
    engine.dispose()
    with TestClient(create_app(db_url, CLOCK)) as client:
        page = client.get(f"/day/{DAY}").text
    meta = re.search(r'<p class="meta">(.*?)</p>', page, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", meta).strip()
    assert text == f"{DAY} · code", text

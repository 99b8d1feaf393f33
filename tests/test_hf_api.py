"""Hugging Face's paper API (web/hf.py): the real `huggingface_hub` client against a real
`papertide serve`, the superset shape of /api/papers/{id}, cursor paging of /api/papers, and the
Markdown page, whose upstream text cannot become links or HTML."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from markdown_it import MarkdownIt

from conftest import FIXTURES, Cli, free_port, index_database, wait_for_server
from papertide.ingest.runner import import_file
from papertide.store.engine import open_engine
from papertide.web import schemas
from papertide.web.app import create_app
from papertide.web.hf import markdown_text

FIXTURE_FILES = ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml", "zotero.bib")
HOSTILE = {
    "title": "[click me](https://evil.example/t) <script>alert(1)</script> **bold** `code`",
    "abstract": "1. Not a list. See www.evil.example and https://evil.example/a or "
    "<https://evil.example/b>, mail bad@evil.example, ![img](https://evil.example/i.png) "
    "[ref]: https://evil.example/r <img src=x onerror=alert(2)> &lt;b&gt; | a | b |\n"
    "# not a heading\n> not a quote\n- not a list",
    "authors": ["[Eve](javascript:alert(3))", "Mallory <b>"],
    "keywords": ["- dash", "[k](https://evil.example/k)"],
    "url": "javascript:alert(4)",
    "pdf_url": "https://arxiv.org/pdf/2611.09999",
    "code_urls": ["https://github.com/ok/repo)](https://evil.example/c"],
    "date": "2026-11-21",
    "arxiv_id": "2611.09999",
}


def _load(db_url: str, folder) -> None:
    engine = open_engine(db_url)
    for name in FIXTURE_FILES:
        import_file(engine, FIXTURES / name)
    hostile = folder / "hostile.jsonl"
    hostile.write_text(json.dumps(HOSTILE) + "\n")
    import_file(engine, hostile)
    engine.dispose()
    index_database(db_url)


@pytest.fixture
def client(tmp_path, db_url):
    _load(db_url, tmp_path)
    with TestClient(create_app(db_url)) as test_client:
        yield test_client


def test_the_real_hugging_face_client_reads_papertide(tmp_path, db_url):
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import PaperAuthor
    from huggingface_hub.utils import paginate

    _load(db_url, tmp_path)
    cli = Cli(db_url, tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            cli.command("serve", "--port", str(port)),
            env={**cli.process_env, "HF_HUB_DISABLE_TELEMETRY": "1", "HF_TOKEN": ""},
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_server(base, server)
        api = HfApi(endpoint=base, token=False)

        (daily,) = list(api.list_daily_papers(date="2026-11-22"))
        assert daily.id == "2611.00005" and daily.title.startswith("Radiant Fields")
        assert [a.name for a in daily.authors] == ["Marie Curie"] and daily.upvotes == 57
        assert daily.published_at == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
        assert daily.comments == 0

        found = list(api.list_papers(query="label noise web", limit=3))
        assert found[0].id == "2407.05528"
        assert found[0].title.startswith("An accurate detection is not all you need")
        assert [a.name for a in found[0].authors] == ["Paul Albert", "Jack Valmadre", "Eric Arazo"]
        assert found[0].upvotes == 12
        assert found[0].published_at == datetime(2024, 7, 8, 17, 59, tzinfo=UTC)

        info = api.paper_info("2407.05528")
        assert info.id == "2407.05528" and info.title == found[0].title
        assert all(isinstance(a, PaperAuthor) for a in info.authors)
        assert [a.name for a in info.authors] == ["Paul Albert", "Jack Valmadre", "Eric Arazo"]
        assert info.upvotes == 12 and info.github_stars == 31
        assert info.github_repo == "https://github.com/PaulAlbert31/LSA"
        assert info.ai_keywords[:3] == ["label noise", "web-crawled data", "contrastive learning"]
        assert info.ai_summary.startswith("Training a classifier on web-crawled data")
        assert info.comments == 0
        # papertide's own `published_at` (a string) comes after Hugging Face's publishedAt in
        # the client's forward-compatible attribute copy: the same instant, as text
        assert info.published_at == "2024-07-08T17:59:00Z"
        assert info.abstract.startswith("Training a classifier")  # papertide's fields kept

        page = api.read_paper("2407.05528")
        assert page.startswith("# An accurate detection is not all you need")
        assert "## Abstract" in page

        every = [p["id"] for p in paginate(f"{base}/api/papers", {"cursor": "", "limit": 2}, {})]
        listed = httpx_json(f"{base}/api/papers?limit=500")
        assert every == [p["id"] for p in listed] and len(every) == len(set(every)) > 4
    finally:
        server.terminate()
        server.wait(30)


def httpx_json(url: str):
    import httpx

    return httpx.get(url, timeout=10).json()


def test_paper_detail_is_a_superset_of_papertides_and_hugging_faces_fields(client):
    paper = client.get("/api/papers/2407.05528").json()
    papertide_fields = set(schemas.PaperDetail.model_fields) - {"authors"}
    assert papertide_fields <= set(paper)
    old = {
        "id", "title", "abstract", "published_at", "categories", "abs_url", "code_urls",
        "project_url", "upstream_upvotes", "votes", "hidden", "updated_at", "pdf_url", "doi",
        "arxiv_id", "sources",
    }  # fmt: skip
    assert old <= set(paper)
    hugging_face = {
        "id", "title", "summary", "authors", "publishedAt", "upvotes", "githubRepo",
        "githubStars", "projectPage", "ai_keywords", "ai_summary", "numComments",
    }  # fmt: skip
    assert hugging_face <= set(paper)
    assert paper["authors"] == [{"name": n} for n in paper["author_names"]]
    assert paper["author_names"] == ["Paul Albert", "Jack Valmadre", "Eric Arazo"]
    assert paper["summary"] == paper["abstract"] and paper["publishedAt"] == paper["published_at"]
    assert paper["ai_summary_kind"] == "extractive" and paper["numComments"] == 0
    assert {s["source"] for s in paper["sources"]} == {"arxiv", "hf", "oai", "bibtex"}


def test_paper_search_answers_daily_paper_items(client):
    items = client.get("/api/papers/search?q=radiant fields&limit=2").json()
    assert items[0]["paper"]["id"] == "2611.00005" and len(items) <= 2
    assert set(items[0]) >= {"paper", "publishedAt", "title", "summary", "numComments"}
    assert items[0]["paper"]["ai_summary"]
    newest = client.get("/api/papers/search").json()
    assert newest[0]["paper"]["id"] == client.get("/api/papers?limit=1").json()[0]["id"]
    assert client.get("/api/papers/search?limit=0").status_code == 422
    assert client.get("/api/papers/search?q=" + "x" * 5000).status_code == 422


def test_cursor_paging_walks_every_paper_once_in_order(client):
    everything = client.get("/api/papers?limit=500").json()
    seen, url = [], "/api/papers?cursor=&limit=2"
    while url:
        answer = client.get(url)
        assert answer.status_code == 200 and "X-Total-Count" not in answer.headers
        seen += [p["id"] for p in answer.json()]
        link = answer.headers.get("Link")
        url = link.split(">")[0].removeprefix("<").removeprefix("http://testserver") if link else ""
    assert seen == [p["id"] for p in everything]
    week = client.get("/api/papers?week=2026-W47&cursor=&limit=1")
    assert week.json()[0]["id"] == "2611.00005" and 'rel="next"' in week.headers["Link"]
    # the existing parameters answer as before
    offset = client.get("/api/papers?limit=2&offset=2")
    assert offset.json() == everything[2:4]
    assert offset.headers["X-Total-Count"] == str(len(everything))
    assert "offset=4" in offset.headers["Link"]
    for bad in ("cursor=nonsense", "cursor=&offset=2", "cursor=&page=2", "cursor=&sort=trending"):
        answer = client.get(f"/api/papers?{bad}")
        assert answer.status_code == 400 and answer.json()["detail"], bad


def test_markdown_escaping_shows_the_text_and_makes_no_markup():
    hostile = HOSTILE["title"] + " " + HOSTILE["abstract"]
    rendered = MarkdownIt("gfm-like").render(markdown_text(hostile, starts_line=True))
    tree = lxml_html.fromstring(rendered)
    assert [e.tag for e in tree.iter()] == ["p"]  # one paragraph: no link, image, list, code
    assert tree.text_content() == " ".join(hostile.split())
    for line in ("1. item", "2) item", "- item", "+ item", "= x", "> quote", "# heading"):
        shown = MarkdownIt("gfm-like").render(markdown_text(line, starts_line=True))
        assert shown == f"<p>{line.replace('>', '&gt;')}</p>\n", line


def test_paper_as_markdown_links_only_where_papertide_put_links(client):
    answer = client.get("/papers/2611.09999.md")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/markdown")
    rendered = MarkdownIt("gfm-like").render(answer.text)
    tree = lxml_html.fromstring(f"<div>{rendered}</div>")
    links = [a.get("href") for a in tree.iter("a")]
    stored = client.get("/api/papers/2611.09999").json()
    encoded = str.maketrans({")": "%29", "]": "%5D", "(": "%28"})
    assert links == [
        "http://testserver/papers/2611.09999",
        stored["abs_url"],
        stored["pdf_url"],
        *(url.translate(encoded) for url in stored["code_urls"]),
    ]
    assert not any("evil" in link for link in links)
    assert not list(tree.iter("img", "script", "code", "ul", "ol", "blockquote"))
    assert [h.text_content() for h in tree.iter("h1")] == [" ".join(HOSTILE["title"].split())]
    text = tree.text_content()
    assert "[Eve](javascript:alert(3))" in text and "- dash" in text
    assert client.get("/papers/0000.00000.md").status_code == 404
    assert client.get("/papers/2407.05528.md").text.startswith("# An accurate detection")


def test_the_paper_page_and_cards_show_the_summary_and_keywords(client):
    page = lxml_html.fromstring(client.get("/papers/2407.05528").text)
    summary = page.find_class("paper")[0].find_class("tldr")[0]
    assert "Key sentence" in summary.text_content()
    assert "Training a classifier on web-crawled data" in summary.text_content()
    keywords = [a.text_content() for a in page.find_class("keyword")]
    assert keywords[:3] == ["label noise", "web-crawled data", "contrastive learning"]
    assert page.find_class("keyword")[0].get("href") == "/search?q=%22label%20noise%22"
    day = lxml_html.fromstring(client.get("/day/2026-11-22").text)
    assert day.find_class("tldr") and "Key sentence" in day.find_class("tldr")[0].text_content()


def test_a_paper_whose_id_ends_in_md_keeps_its_page(db_url, tmp_path):
    line = {"title": "Notes in Markdown", "doi": "10.1234/notes.md", "date": "2026-11-20"}
    (tmp_path / "md.jsonl").write_text(json.dumps(line) + "\n")
    engine = open_engine(db_url)
    import_file(engine, tmp_path / "md.jsonl")
    engine.dispose()
    client = TestClient(create_app(db_url))
    page = client.get("/papers/doi:10.1234%2Fnotes.md")
    assert page.status_code == 200 and "<h1>Notes in Markdown</h1>" in page.text
    markdown = client.get("/papers/doi:10.1234%2Fnotes.md.md")
    assert markdown.text.startswith("# Notes in Markdown")

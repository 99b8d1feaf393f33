"""Links: every URL papertide stores or renders is http(s) (issue 10, item 1), and every page
carries a Content-Security-Policy as the second wall."""

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select, update

from papertide.clock import FixedClock
from papertide.ingest.runner import import_file
from papertide.links import http_url, local_path
from papertide.store.engine import open_engine
from papertide.store.schema import papers
from papertide.web.app import create_app
from test_web_accounts import csrf_of, sign_up

CLOCK = FixedClock(datetime(2026, 11, 22, 12, 0))
TEMPLATES = Path(__file__).resolve().parents[1] / "src/papertide"
# Values that run script when a browser follows them, in the spellings browsers accept.
HOSTILE_LINKS = [
    "javascript:window.__xss=1",
    "JaVaScRiPt:window.__xss=2",
    " javascript:window.__xss=3",
    "java\tscript:window.__xss=4",
    "data:text/html,<script>window.__xss=5</script>",
    "vbscript:msgbox(6)",
    "javascript://github.com/a/b%0Awindow.__xss=7",
]


def planted_files(folder: Path, day: str = "2026-11-22") -> list[Path]:
    """One file per reader that takes link fields, each paper carrying hostile links in every
    link field that reader knows."""
    bad = HOSTILE_LINKS
    jsonl = folder / "planted.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps(
                {
                    "title": f"JSONL planted links {n}",
                    "date": day,
                    "url": value,
                    "pdf_url": value,
                    "project_url": value,
                    "code_urls": [value, "github.com/ok/repo"],
                }
            )
            + "\n"
            for n, value in enumerate(bad)
        )
    )
    csv = folder / "planted.csv"
    rows = [f'"CSV planted links {n}",{day},"{v}","{v}","{v}","{v}"' for n, v in enumerate(bad)]
    csv.write_text("title,date,url,pdf,project_page,github\n" + "\n".join(rows) + "\n")
    hf = folder / "planted_hf.json"
    hf.write_text(
        json.dumps(
            [
                {
                    "paper": {
                        "id": f"2611.0999{n}",
                        "title": f"HF planted links {n}",
                        "summary": "",
                        "publishedAt": f"{day}T09:00:00.000Z",
                        "upvotes": 3,
                        "projectPage": value,
                        "githubRepo": value,
                    },
                    "publishedAt": f"{day}T10:00:00.000Z",
                    "title": f"HF planted links {n}",
                }
                for n, value in enumerate(bad)
            ]
        )
    )
    bib = folder / "planted.bib"
    bib.write_text(
        "".join(
            f"@misc{{planted{n}, title={{BibTeX planted links {n}}}, year={{2026}}, url={{{v}}}}}\n"
            for n, v in enumerate(bad)
        )
    )
    return [jsonl, csv, hf, bib]


def assert_only_safe_links(page: str) -> None:
    """Every href/src/action on the page is an http(s) URL or a path on this site."""
    tree = lxml_html.fromstring(page)
    for element, attribute, value, _ in tree.iterlinks():
        if attribute not in ("href", "src", "action", "formaction"):
            continue
        assert http_url(value) or local_path(value) or value.startswith(("?", "#")), (
            element.tag,
            attribute,
            value,
        )


@pytest.fixture
def planted(db_url, tmp_path):
    engine = open_engine(db_url)
    summaries = [import_file(engine, path) for path in planted_files(tmp_path)]
    yield engine, summaries
    engine.dispose()


def test_link_fields_of_every_reader_are_http_only_and_dropped_links_are_reported(planted):
    engine, summaries = planted
    with engine.connect() as conn:
        rows = conn.execute(select(papers).where(papers.c.title.like("%planted links%"))).all()
    assert len(rows) == 4 * len(HOSTILE_LINKS)  # the papers themselves are kept
    for row in rows:
        for link in (row.abs_url, row.pdf_url, row.project_url, *row.code_urls):
            assert link is None or link.startswith(("https://", "http://")), (row.title, link)
    jsonl = next(r for r in rows if r.title == "JSONL planted links 0")
    assert jsonl.code_urls == ["https://github.com/ok/repo"]  # the good link beside a bad one
    for summary in summaries:
        reasons = " ".join(w.reason for w in summary.warnings)
        assert "not an http(s) link" in reasons or "not a code link" in reasons, summary


def test_pages_never_link_to_a_non_http_url_even_from_rows_stored_before_the_rule(planted, db_url):
    engine, _ = planted
    with engine.begin() as conn:  # as a database written by an older papertide could hold
        conn.execute(
            update(papers)
            .where(papers.c.title.like("JSONL planted links%"))
            .values(
                abs_url="javascript:window.__xss=8",
                pdf_url="data:text/html,x",
                project_url=" javascript:window.__xss=9",
                code_urls=["javascript:window.__xss=10"],
            )
        )
        ids = conn.execute(select(papers.c.id)).scalars().all()
    client = TestClient(create_app(db_url, CLOCK))
    pages = ["/day/2026-11-22", "/week/2026-W47", "/month/2026-11", "/"]
    pages += [f"/papers/{paper_id}" for paper_id in ids]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_only_safe_links(response.text)
    assert "project page" not in client.get(f"/papers/{ids[0]}").text


def test_library_import_by_a_member_cannot_plant_a_script_link(db_url, tmp_path):
    client = TestClient(create_app(db_url, CLOCK))
    sign_up(client, "planter")
    line = {"title": "Member planted link", "date": "2026-11-22"}
    line |= {"project_url": "javascript:fetch('/account')", "pdf_url": "vbscript:x"}
    page = client.post(
        "/library/import",
        data={"csrf_token": csrf_of(client, "/for-you")},
        files={"file": ("lib.jsonl", json.dumps(line).encode() + b"\n")},
    )
    assert page.status_code == 200
    listing = client.get("/day/2026-11-22").text
    assert "Member planted link" in listing
    paper_path = re.search(r'href="(/papers/[^"]+)">Member planted link', listing).group(1)
    paper_page = client.get(paper_path).text
    assert "project page" not in paper_page
    assert_only_safe_links(paper_page)


LINK_FILTERS = "href|path|paper_path|author_path|user_path|urlencode"


def test_every_value_in_a_template_url_goes_through_a_link_filter():
    """Every value inside an href/src/action passes `href` (http(s) only), `path` (same-site
    path only), `paper_path`, `author_path` or `user_path` (a paper id, an author or a user
    name as one encoded path segment) or `urlencode`: a raw
    value could be a script link, or an id holding '../' or '?' that aims a form elsewhere."""
    unchecked = []
    for template in TEMPLATES.glob("**/templates/*.html"):
        text = template.read_text()
        for attribute in re.finditer(r'\b(?:href|src|action|formaction)="([^"]*)"', text):
            for value in re.findall(r"\{\{([^}]*)\}\}", attribute.group(1)):
                if not re.search(rf"\|\s*({LINK_FILTERS})\s*$", value):
                    unchecked.append(f"{template.name}: {attribute.group(0)}")
    assert unchecked == []


def test_a_paper_id_cannot_aim_a_link_or_form_at_another_route(db_url, tmp_path):
    """A member imports a paper whose DOI holds '../../admin/...?': its vote form must still
    post to that paper's vote, not to the admin's hide route (found by an attack review)."""
    line = {"title": "Totally Normal Upvote Me Paper", "date": "2026-11-22"}
    line["doi"] = "10.1234/../../admin/papers/1706.03762/hide?"
    planted = tmp_path / "planted.jsonl"
    planted.write_text(json.dumps(line) + "\n")
    engine = open_engine(db_url)
    import_file(engine, planted)
    engine.dispose()
    client = TestClient(create_app(db_url, CLOCK))
    sign_up(client, "voter")
    listing = lxml_html.fromstring(client.get("/day/2026-11-22").text)
    forms = [f.get("action") for f in listing.iter("form") if "vote" in (f.get("class") or "")]
    links = [a.get("href") for a in listing.iter("a") if "Upvote Me" in (a.text or "")]
    assert forms and links
    for url in [*forms, *links]:
        assert "/../" not in url and "?" not in url and "#" not in url, url
    voted = client.post(
        forms[0], data={"csrf_token": client.cookies.get("pt_csrf")}, follow_redirects=False
    )
    assert voted.status_code == 303
    page = client.get(links[0])
    assert page.status_code == 200 and "Totally Normal Upvote Me Paper" in page.text


def test_pages_and_api_carry_a_content_security_policy_without_inline_script(db_url):
    client = TestClient(create_app(db_url, CLOCK))
    for path in ("/", "/search?q=x", "/login", "/api/papers", "/nope"):
        policy = client.get(path).headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    page = client.get("/").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # every script is a file
    assert not re.search(r"\son[a-z]+=", page)  # and no inline event handlers


NOT_HTTP = ["//evil.example/x", "http://", "https://u:p@x.org", "ftp://x.org/"]


@pytest.mark.parametrize("value", [*HOSTILE_LINKS, *NOT_HTTP])
def test_http_url_refuses_everything_but_absolute_http_links(value):
    assert http_url(value) is None


@pytest.mark.parametrize("value", ["//evil.example", "/\\evil.example", "https://x.org/", "/a\nb"])
def test_local_path_refuses_other_sites(value):
    assert local_path(value) is None


def test_migration_drops_script_links_stored_by_an_older_papertide(planted, db_url):
    from alembic import command

    from papertide.store.engine import _alembic_config, upgrade

    engine, _ = planted
    with engine.begin() as conn:
        conn.execute(
            update(papers)
            .where(papers.c.title.like("JSONL planted links%"))
            .values(abs_url=" JavaScript:x", pdf_url="data:,x", project_url="https://ok.org/p")
        )
    command.downgrade(_alembic_config(engine), "0006")  # as a database from before the rule
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(papers).where(papers.c.title.like("JSONL planted%"))).all()
    assert rows and all(r.abs_url is None and r.pdf_url is None for r in rows)
    assert {r.project_url for r in rows} == {"https://ok.org/p"}  # good links stay

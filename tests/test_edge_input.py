"""Edge input never answers 500: periods at the ends of the calendar, numbers past SQLite's
integers, control characters; stored records XML cannot carry; the error wall; OPTIONS."""

import html
import http.client
import re
import subprocess
from datetime import datetime

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import update

from conftest import FIXTURES, free_port, index_database, wait_for_server
from papertide.clock import FixedClock
from papertide.ingest.runner import import_file
from papertide.store import queries
from papertide.store.engine import open_engine
from papertide.store.schema import papers
from papertide.web.app import create_app

EDGE_URLS = [
    "/day/9999-12-31",
    "/week/9999-W52",
    "/month/9999-12",
    "/month/0001-01",
    "/week/0001-W01",
    "/day/0001-01-01",
    "/api/papers?day=9999-12-31",
    "/api/papers?week=0001-W01",
    "/api/papers?month=9999-12",
    "/api/daily_papers?date=9999-12-31",
    "/feeds/daily.rss?date=9999-12-31",
    "/feeds/daily.atom?date=0001-01-01",
    "/feeds/daily.rss?date=",  # found by schemathesis' negative cases
    "/api/search?q=x&since=0001-01-01",
    "/api/search?q=x&since=9999-12-31",
    "/search?q=x&since=0001-01-01",
    "/feeds/search.atom?q=%00",
    "/feeds/search.rss?q=%00%01",
    "/api/daily_papers?p=100000000000000000000",
    "/api/daily_papers?p=92233720368547758",  # times the page size: past SQLite's integers
    "/api/topics/8326110492657200398336",
    "/api/topics/1?limit=99999999999999999999",
    "/topics/8326110492657200398336",
    "/api/papers?offset=266120521461030518784",
    "/api/papers?offset=9223372036854775807",
    "/api/search?q=" + "x" * 5000,
]


@pytest.fixture(scope="module")
def db(backend, databases, tmp_path_factory, embedder):
    """Fixture papers, one with a title and abstract XML cannot carry (stored past the import
    checks, as rows written before them are), one dated year 1 and one dated 9999-12-31."""
    url = databases.new(backend, tmp_path_factory.mktemp("edge"))
    engine = open_engine(url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml", "zotero.bib"):
        import_file(engine, FIXTURES / name)
    with engine.begin() as conn:
        conn.execute(
            update(papers)
            .where(papers.c.id == "2611.00005")
            .values(
                # PostgreSQL text cannot hold NUL at all (papertide sends it as U+FFFD there)
                title="Radiant \uffff Fields"
                + ("\x00" if backend == "sqlite" else "")
                + " of \x0bvision",
                abstract="Light <b>bold</b> claims & <script>alert(1)</script>\ufffe.",
                authors=["Marie \x01Curie"],
            )
        )
        conn.execute(
            update(papers).where(papers.c.id == "2611.00001").values(published_at=datetime(1, 1, 1))
        )
        conn.execute(
            update(papers)
            .where(papers.c.id == "2611.00002")
            .values(published_at=datetime(9999, 12, 31, 12))
        )
    engine.dispose()
    index_database(url)
    return url


@pytest.fixture(scope="module")
def client(db):
    with TestClient(create_app(db, FixedClock(datetime(2026, 11, 23, 12)))) as test_client:
        yield test_client


@pytest.mark.parametrize("url", EDGE_URLS)
def test_edge_inputs_answer_4xx_with_a_message_not_500(client, url):
    response = client.get(url)
    if url.endswith("date="):  # empty is "not given", as for every period parameter
        assert response.status_code == 200
        return
    assert 400 <= response.status_code < 500, (url, response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    if response.headers["content-type"].startswith("application/json"):
        assert response.json()["detail"]
    else:
        assert 'class="error"' in response.text  # the search page shows what was wrong


def test_out_of_range_periods_say_which_years_are_supported(client):
    for url in ("/day/9999-12-31", "/api/papers?month=0001-01", "/api/search?q=x&since=0001-01-01"):
        assert "years 1900-9998" in client.get(url).json()["detail"], url


def _pager_links(page: str) -> dict[str, str]:
    return dict(
        (rel, href) for href, rel in re.findall(r'<a href="([^"]+)" rel="(prev|next)"', page)
    )


@pytest.mark.parametrize(
    ("url", "missing"),
    [
        ("/day/1900-01-01", None),
        ("/week/1900-W01", "prev"),
        ("/month/1900-01", "prev"),
        ("/week/9998-12-31", "next"),
        ("/month/9998-12", "next"),
        ("/day/2026-11-22", None),
    ],
)
def test_boundary_periods_render_without_links_beyond_the_supported_years(client, url, missing):
    page = client.get(url)
    assert page.status_code == 200, url
    links = _pager_links(page.text)
    assert missing not in links
    for href in links.values():  # every neighbour link leads to a page that renders
        assert client.get(href).status_code == 200, (url, href)


def test_papers_dated_outside_the_supported_years_lead_no_link_to_a_refused_page(client):
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/day/2026-11-22"  # not /day/9999-12-31
    assert client.get("/feeds/daily.rss").status_code == 200
    oldest = client.get("/day/1900-01-01").text
    assert "rel=" not in oldest.split("<main", 1)[1].split("sort:", 1)[0].replace('rel="next"', "")


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--day", "9999-12-31"),
        ("list", "--month", "0001-01"),
        ("list", "--limit", "99999999999999999999"),
        ("list", "--limit", "0"),
        ("search", "x", "--since", "0001-01-01"),
        ("search", "x", "--until", "9999-12-31"),
        ("topics", "show", "8326110492657200398336"),
        ("digest", "send", "--dry-run", "--date", "0001-01-01"),
        ("show", "[/]"),  # Rich markup in what the error message quotes
        ("list", "--day", "[bold]x[/]"),
    ],
    ids=" ".join,
)
def test_cli_edge_inputs_print_one_error_line(cli, args):
    cli.run("init")  # read-only commands refuse a missing database before reading their input
    result = cli.run(*args, check=False)
    assert result.returncode in (1, 2), result.stderr  # a mistake (2), or nothing found (1)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert args[-1] in lines[0] or args[-1].isdigit()  # what was typed, quoted as text


def test_cli_numbers_past_sqlite_integers_give_no_traceback(cli):
    cli.run("import", str(FIXTURES / "hf_daily.json"))
    cli.run("users", "create", "bob", "--password-stdin", stdin="password123\n")
    listed = cli.run("topics", "show", "1", "--limit", "99999999999999999999", check=False)
    assert "Traceback" not in listed.stderr and listed.stderr.startswith("error: no topic 1")
    picks = cli.run("recommend", "--user", "bob", "--days", "99999999999999999999", check=False)
    assert picks.returncode == 2 and "Traceback" not in picks.stderr  # a usage error


def test_a_title_xml_cannot_carry_leaves_every_feed_valid(client):
    for url in (
        "/feeds/daily.rss?date=2026-11-22",
        "/feeds/daily.atom?date=2026-11-22",
        "/feeds/search.rss?q=radiant&mode=keyword",
        "/feeds/search.atom?q=radiant&mode=keyword",
        "/feeds/trending.rss",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        titles = [entry.title for entry in parsed.entries]
        assert "Radiant  Fields of vision" in titles, (url, titles)


def test_rss_description_carries_the_abstract_as_escaped_text(client):
    rss = etree.fromstring(client.get("/feeds/daily.rss?date=2026-11-22").content)
    (description,) = rss.xpath("//item/description/text()")
    abstract = "Light <b>bold</b> claims & <script>alert(1)</script>."
    assert description == html.escape(abstract, quote=False)  # a reader shows it, never runs it
    atom = etree.fromstring(client.get("/feeds/daily.atom?date=2026-11-22").content)
    namespace = {"a": "http://www.w3.org/2005/Atom"}
    (summary,) = atom.xpath("//a:entry/a:summary", namespaces=namespace)
    assert summary.get("type") == "text" and summary.text == abstract


def test_unexpected_errors_are_a_logged_500_without_traceback(db, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(queries, "stats", broken)
    with TestClient(create_app(db)) as client:  # raises what reaches the server, as uvicorn sees
        response = client.get("/about")
    assert response.status_code == 500
    assert response.json()["detail"].startswith("internal error (incident ")
    assert "fire" not in response.text and "Traceback" not in response.text
    assert "the disk caught fire" in caplog.text
    assert response.headers["content-security-policy"]


def test_options_and_405_list_every_method_of_a_path(client):
    # /signup is a GET page and a POST form (two routes); /api/papers/ID/hidden a GET
    # (the greedy paper route) and a PUT
    for path, expected in (
        ("/signup", {"GET", "POST", "OPTIONS"}),
        ("/api/papers/2407.05528/hidden", {"GET", "PUT", "OPTIONS"}),
        ("/api/papers", {"GET", "OPTIONS"}),
    ):
        options = client.options(path)
        assert options.status_code == 204, path
        assert set(options.headers["allow"].split(", ")) == expected, path
        refused = client.delete(path)
        assert refused.status_code == 405, path
        assert set(refused.headers["allow"].split(", ")) == expected, path
    assert client.options("/no/such/page").status_code == 404


def test_an_index_run_takes_papers_dated_beyond_tantivys_dates(client):
    # the fixture indexed a paper of year 1 and one of 9999 (tantivy holds 1677-2262 only)
    far_future = client.get("/api/papers/2611.00002").json()["title"]
    found = client.get(
        "/api/search", params={"q": far_future, "mode": "keyword", "since": "2262-06-01"}
    ).json()
    assert [hit["id"] for hit in found] == ["2611.00002"]
    long_ago = client.get("/api/papers/2611.00001").json()["title"]
    found = client.get(
        "/api/search", params={"q": long_ago, "mode": "keyword", "since": "1900-01-01"}
    ).json()
    assert "2611.00001" not in [hit["id"] for hit in found]  # year 1 is before 1900


PERIOD_EXAMPLES = {  # the first and last period of each kind, and one past the end
    "day": ("1900-01-01", "9998-12-31", "9999-01-01"),
    "since": ("1900-01-01", "9998-12-31", "0001-01-01"),
    "date": ("1900-01-01", "9998-12-31", "9999-12-31"),
    "week": ("1900-W01", "9998-W52", "9999-W01"),
    "month": ("1900-01", "9998-12", "9999-12"),
}


def test_schema_valid_period_values_are_accepted(client):
    schema = client.get("/openapi.json").json()
    checked = []
    for path, item in schema["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["name"] not in PERIOD_EXAMPLES:
                continue
            pattern = parameter["schema"]["pattern"]  # the schema says what is accepted
            first, last, beyond = PERIOD_EXAMPLES[parameter["name"]]
            assert not re.fullmatch(pattern, beyond)
            url = path.replace("{fmt}", "rss")
            for value in (first, last):
                assert re.fullmatch(pattern, value), (path, parameter["name"], value)
                params = {parameter["name"]: value, **({"q": "x"} if "search" in path else {})}
                answer = client.get(url, params=params)
                assert answer.status_code == 200, (path, params, answer.text)
            checked.append(f"{path} {parameter['name']}")
    # papers x3, daily_papers x3, search, feeds/daily, export/search
    assert len(checked) == 9, checked


def test_openapi_documents_the_error_answers(client):
    schema = client.get("/openapi.json").json()
    operations = schema["paths"]
    error = {"$ref": "#/components/schemas/Error"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]

    def answers(path: str, method: str) -> dict:
        return {
            int(status): response.get("content", {}).get("application/json", {}).get("schema")
            for status, response in operations[path][method]["responses"].items()
        }

    paper = answers("/api/papers/{paper_id}", "get")
    assert paper[400] == paper[404] == error
    me = answers("/api/me", "get")
    assert me[401] == error
    hidden = answers("/api/papers/{paper_id}/hidden", "put")
    assert hidden[401] == hidden[403] == hidden[404] == hidden[413] == error
    assert answers("/api/search", "get")[503] == error
    assert 401 not in answers("/api/papers", "get")  # public reads need no token


def test_a_browser_gets_errors_as_pages_and_scripts_as_json(client):
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for url, status, says in (
        ("/day/9999-12-31", 400, "years 1900-9998"),
        ("/search?q=" + "x" * 1001, 422, "at most 1000 characters"),
        ("/papers/0000.00000", 404, "no paper with id"),
        ("/no/such/page", 404, "Not Found"),
    ):
        page = client.get(url, headers=browser)
        assert page.status_code == status, url
        assert page.headers["content-type"].startswith("text/html"), url
        assert says in page.text and "<h1>" in page.text, url
        assert client.get(url).json()["detail"], url  # no text/html asked for: JSON
    assert client.get("/api/papers?day=9999-12-31", headers=browser).json()["detail"]


@pytest.mark.slow
def test_edge_inputs_keep_the_keep_alive_connection_of_a_real_server(cli):
    # uvicorn closes the connection after an exception reaches it; none may
    cli.run("import", str(FIXTURES / "hf_daily.json"))
    port = free_port()
    server = subprocess.Popen(
        cli.command("serve", "--port", str(port)),
        env=cli.process_env,
        cwd=cli.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_server(f"http://127.0.0.1:{port}", server)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for url in [*EDGE_URLS, "/day/2026-11-22"]:
            connection.request("GET", url)
            answer = connection.getresponse()
            answer.read()
            assert answer.status < 500 and not answer.will_close, (url, answer.status)
        connection.close()
    finally:
        server.terminate()
        server.wait(30)


def test_stored_rich_markup_prints_as_text_in_the_cli(cli, db_url):
    cli.run("import", str(FIXTURES / "hf_daily.json"))
    engine = open_engine(db_url)
    with engine.begin() as conn:  # a row as any source could have stored it
        conn.execute(
            update(papers)
            .where(papers.c.id == "2611.00005")
            .values(title="Closing [/] tags", categories=["[/]cs.LG"], project_url="http://x/[/]")
        )
    engine.dispose()
    index_database(db_url)
    for args in (("list",), ("show", "2611.00005"), ("search", "closing", "--mode", "keyword")):
        result = cli.run(*args)
        assert "Closing [/] tags" in result.stdout, args
    assert "categories: [/]cs.LG" in cli.run("show", "2611.00005").stdout
    cli.run("users", "create", "bob", "--password-stdin", stdin="password123\n")
    assert "follows query '[/]'" in cli.run("follow", "query", "--user", "bob", "[/]").stdout

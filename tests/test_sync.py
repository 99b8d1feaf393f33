"""`papertide sync` against a real local HTTP server playing the arXiv, OAI-PMH and HF APIs."""

import json
import socket

from conftest import FIXTURES
from localserver import Reply, Script, serve

ATOM = (FIXTURES / "arxiv_atom.xml").read_bytes()


def sync_env(cli, base: str) -> None:
    cli.env.update(
        PAPERTIDE_ARXIV_API_URL=f"{base}/api/query",
        PAPERTIDE_OAI_URL=f"{base}/oai",
        PAPERTIDE_HF_API_URL=f"{base}/api/daily_papers",
        PAPERTIDE_HTTP_MIN_INTERVAL="0",
        PAPERTIDE_HTTP_BACKOFF="0.01",
    )


def test_sync_arxiv_queries_by_category_and_date_and_stores(cli):
    script = Script({"/api/query": [Reply(503), Reply(200, ATOM)]})
    with serve(script) as base:
        sync_env(cli, base)
        summary = cli.json(
            "sync", "arxiv", "--category", "cs.LG", "--since", "2026-11-19", "--until", "2026-11-22"
        )
    assert summary["new"] == 3
    query = script.requests[-1][1]
    assert query["search_query"] == ["cat:cs.LG AND submittedDate:[202611190000 TO 202611222359]"]
    assert query["sortBy"] == ["submittedDate"] and query["sortOrder"] == ["ascending"]
    assert len(script.requests) == 2  # the 503 was retried
    assert cli.json("show", "2611.00002")["categories"] == ["stat.ML"]


def test_sync_arxiv_pages_until_total(cli):
    many = ATOM.replace(b">3</opensearch:totalResults>", b">450</opensearch:totalResults>")
    script = Script({"/api/query": [Reply(200, many)]})
    with serve(script) as base:
        sync_env(cli, base)
        cli.run("sync", "arxiv", "--since", "2026-11-01")
    assert [q["start"] for _, q in script.requests] == [["0"], ["200"], ["400"]]


OAI_SYNC = (
    "sync",
    "arxiv",
    "--via",
    "oai",
    "--category",
    "cs",
    "--since",
    "2026-11-01",
    "--until",
    "2026-11-23",
)


def test_oai_harvest_follows_tokens_and_resumes_after_failure(cli):
    page1 = (FIXTURES / "oai_page1.xml").read_bytes()
    page2 = (FIXTURES / "oai_page2.xml").read_bytes()
    failing = Script(
        chooser=lambda path, q: (
            Reply(200, page1) if "resumptionToken" not in q else Reply(503, b"busy")
        )
    )
    with serve(failing) as base:
        sync_env(cli, base)
        broken = cli.run(*OAI_SYNC, check=False)
    assert broken.returncode == 3 and "still failing" in broken.stderr
    assert len(cli.json("list")) == 2  # the first page was stored before the failure

    healthy = Script(
        chooser=lambda path, q: Reply(200, page2) if "resumptionToken" in q else Reply(200, page1)
    )
    with serve(healthy) as base:
        sync_env(cli, base)
        summary = cli.json(*OAI_SYNC)
    _, first_query = healthy.requests[0]
    assert first_query == {"verb": ["ListRecords"], "resumptionToken": ["token-page-2"]}
    assert summary["resumed_jobs"] == 1 and summary["new"] == 1
    assert len(cli.json("list")) == 3
    assert failing.requests[0][1]["set"] == ["cs"] and failing.requests[0][1]["from"] == [
        "2026-11-01"
    ]


def test_sync_hf_for_a_day_and_a_week(cli):
    body = (FIXTURES / "hf_daily.json").read_bytes()
    script = Script({"/api/daily_papers": [Reply(200, body)]})
    with serve(script) as base:
        sync_env(cli, base)
        summary = cli.json("sync", "hf", "--date", "2026-11-22")
        cli.run("sync", "hf", "--week", "2026-W47")
    assert summary["new"] == 2 and summary["rejected_count"] == 2
    assert script.requests[0][1]["date"] == ["2026-11-22"]
    assert script.requests[1][1]["week"] == ["2026-W47"]
    assert cli.json("show", "2611.00005")["upstream_upvotes"] == 57


def test_offline_sync_says_so_and_exits_3(cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sync_env(cli, f"http://127.0.0.1:{port}")
    result = cli.run("sync", "hf", check=False)
    assert result.returncode == 3
    assert "not reachable" in result.stderr and "Traceback" not in result.stderr
    assert json.loads(cli.run("stats", "--json").stdout)["papers"] == 0


def test_default_since_catches_up_after_a_pause(engine):
    from datetime import date, datetime

    from papertide.ingest.sync import default_since
    from papertide.store.schema import ingest_runs

    today = date(2026, 11, 23)
    assert default_since(engine, "cs.LG", today) == date(2026, 11, 20)
    with engine.begin() as conn:
        conn.execute(
            ingest_runs.insert().values(
                source="sync:arxiv:cs.LG:2026-11-01",
                started_at=datetime(2026, 11, 10),
                finished_at=datetime(2026, 11, 10, 6),
            )
        )
    assert default_since(engine, "cs.LG", today) == date(2026, 11, 9)
    assert default_since(engine, "cs.CL", today) == date(2026, 11, 20)  # per category
    assert default_since(engine, "cs.LG", date(2027, 6, 1)) == date(2027, 5, 2)  # 30 days at most

"""Pages a browser gets where it used to get JSON or nothing: error pages in the site's layout
for every status and route class, the API explorer from the package, the subscribe form."""

import re

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES, free_port
from papertide.ingest.runner import import_file
from papertide.store import queries
from papertide.store.engine import open_engine
from papertide.web import docs
from papertide.web.app import create_app
from papertide.web.headers import POLICY
from test_digest import Sink
from test_web_accounts import csrf_of, log_in, sign_up

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FORM = {**BROWSER, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app(db_url):
    engine = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json"):
        import_file(engine, FIXTURES / name)
    engine.dispose()
    return create_app(db_url)


def assert_error_page(response, status: int) -> str:
    """RESPONSE is an HTML error page in the site's layout with a way home; its text."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html"), response.headers
    page = response.text
    assert '<header class="top">' in page and "<nav" in page  # base.html, navigation included
    assert re.search(r"<h1>[^<]+</h1>", page) and 'href="/">Back to the daily papers' in page
    assert "Traceback" not in page and '"detail"' not in page
    return page


def test_browsers_get_every_error_status_as_a_page_and_the_api_keeps_json(app, monkeypatch):
    monkeypatch.setattr(app.state.papertide, "embedder", lambda: None)
    with TestClient(app) as client:
        sign_up(client, "ada")
        client.cookies.delete("pt_session")
        for _ in range(5):
            assert log_in(client, "ada", "wrong-password") == 400
        token = client.cookies.get("pt_csrf")
        cases = [  # (status, method, path, request arguments), one per way an error arises
            (400, "get", "/day/2026-13-45", {}),  # a handler's HTTPException
            (401, "get", "/account", {}),
            (403, "post", "/logout", {"data": {"csrf_token": "forged"}}),  # a form post
            (404, "get", "/no/such/page", {}),  # the router's own 404
            (404, "get", "/papers/0000.00000", {}),
            (405, "post", "/about", {}),  # the router's 405
            (405, "delete", "/subscribe", {}),
            (413, "post", "/signup", {"content": b"x" * (3 << 20)}),  # the body limit
            (422, "get", "/search?q=" + "x" * 1001, {}),  # request validation
            (
                429,
                "post",
                "/login",
                {"data": {"username": "ada", "password": "password123", "csrf_token": token}},
            ),
            (503, "get", "/api/search?q=x&mode=semantic", {}),  # JSON only: an API path
            (413, "post", "/api/papers/2611.00005/vote", {"content": b"x" * (3 << 20)}),
        ]
        for status, method, path, arguments in cases:
            headers = FORM if method == "post" else BROWSER
            answer = client.request(method.upper(), path, headers=headers, **arguments)
            if path.startswith("/api/"):
                assert answer.status_code == status and answer.json()["detail"], path
                continue
            page = assert_error_page(answer, status)
            assert f"{status} " in page, path
            # the same request from a script (no text/html asked for) is JSON
            script = client.request(method.upper(), path, **arguments)
            assert script.status_code == status and script.json()["detail"], path
            # and so is a page's fetch() asking for JSON first
            fetched = client.request(
                method.upper(),
                path,
                headers={"Accept": "application/json, text/html;q=0.5"},
                **arguments,
            )
            assert fetched.json()["detail"], path
        # the API keeps JSON even for a browser, and feeds keep theirs
        for path in ("/api/no/such", "/api/papers/0000.00000", "/feeds/daily.json"):
            assert client.get(path, headers=BROWSER).json()["detail"], path


def test_a_503_reaches_a_browser_as_a_page(app, monkeypatch):
    monkeypatch.setattr(docs, "SWAGGER_UI", docs.SWAGGER_UI.parent / "not-vendored")
    with TestClient(app) as client:
        page = assert_error_page(client.get("/docs", headers=BROWSER), 503)
        assert "scripts/vendor.sh" in page and "/openapi.json" in page


def test_an_internal_error_is_a_page_for_browsers_and_json_for_scripts(app, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(queries, "stats", broken)
    with TestClient(app, raise_server_exceptions=True) as client:
        page = assert_error_page(client.get("/about", headers=BROWSER), 500)
        assert "incident " in page and "fire" not in page
        assert client.get("/about").json()["detail"].startswith("internal error (incident ")


def test_docs_loads_swagger_ui_from_the_package_not_a_cdn(app):
    with TestClient(app) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == POLICY
        assert "http" not in POLICY  # 'self' only: no CDN, no other host
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in sources
        assert not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
        assert "<script>" not in page.text  # no inline start-up script
        for asset in ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-dist/swagger-ui.css"):
            assert client.get(f"/static/vendor/{asset}").status_code == 200, asset
        assert client.get("/static/docs.js").status_code == 200
        assert client.get("/redoc").status_code == 404  # not offered: see web/docs.py


@pytest.fixture
def sink():
    handler = Sink()
    handler.port = free_port()
    handler.start()
    yield handler
    handler.release()
    handler.stop()


def test_get_subscribe_is_a_page_with_the_double_opt_in_form_not_a_405(db_url, sink, monkeypatch):
    monkeypatch.setenv("PAPERTIDE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERTIDE_SMTP_PORT", str(sink.port))
    monkeypatch.setenv("PAPERTIDE_SMTP_RETRY_SECONDS", "0")
    with TestClient(create_app(db_url)) as client:
        page = client.get("/subscribe", headers=BROWSER)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        form = re.search(
            r'<form[^>]*action="/subscribe"[^>]*method="post".*?</form>', page.text, re.S
        )
        assert form, page.text
        for field in ('name="csrf_token"', 'name="email"', 'value="daily"', 'value="weekly"'):
            assert field in form.group(0), field
        token = csrf_of(client, "/subscribe")
        refused = client.post(
            "/subscribe", data={"email": "not an address", "period": "daily", "csrf_token": token}
        )
        assert refused.status_code == 400 and 'value="not an address"' in refused.text
        assert 'action="/subscribe"' in refused.text  # the form again, with what was typed
        sent = client.post(
            "/subscribe", data={"email": "new@example.org", "period": "weekly", "csrf_token": token}
        )
        assert sent.status_code == 200 and "Check your inbox" in sent.text
        (confirmation,) = sink.messages  # double opt-in: a link to follow, nothing else yet
        assert confirmation["To"] == "new@example.org" and "/confirm?token=" in str(confirmation)
        assert client.post("/subscribe", data={"email": "x@example.org"}).status_code == 403

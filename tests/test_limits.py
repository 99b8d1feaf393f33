"""Bounds on what one user can send (issue 10, item 4): follows, request bodies, uploads, and
imports that run beside page requests instead of holding them up."""

import threading

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES
from papertide.ingest.runner import import_file
from papertide.limits import MAX_BODY_BYTES, MAX_FOLLOW_CHARS, MAX_FOLLOWS
from papertide.security import hash_password, new_token
from papertide.store import accounts
from papertide.store.engine import open_engine
from papertide.web import library as web_library
from papertide.web.app import create_app
from test_web_accounts import csrf_of, sign_up


@pytest.fixture
def token_and_app(db_url):
    engine = open_engine(db_url)
    import_file(engine, FIXTURES / "hf_daily.json")
    token, hashed = new_token()
    with engine.begin() as conn:
        user = accounts.create_user(conn, "limited", hash_password("password123"))
        accounts.create_api_token(conn, hashed, user, "test")
    engine.dispose()
    return token, create_app(db_url)


def test_a_huge_followed_search_is_refused_not_stored(token_and_app):
    token, app = token_and_app
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    too_long = client.post("/api/me/follows", json={"kind": "query", "value": "x" * 20_000})
    assert too_long.status_code == 400 and str(MAX_FOLLOW_CHARS) in too_long.json()["detail"]
    whole_body = client.post(
        "/api/me/follows", json={"kind": "query", "value": "x" * (MAX_BODY_BYTES + 1)}
    )
    assert whole_body.status_code == 413  # refused before it is parsed into memory
    assert client.get("/api/me/follows").json() == []
    browser = TestClient(app)
    sign_up(browser, "former")
    form = browser.post(
        "/follow",
        data={"kind": "author", "value": "y" * 5000, "csrf_token": csrf_of(browser, "/for-you")},
        follow_redirects=False,
    )
    assert form.status_code == 400


def test_follows_per_user_are_bounded_and_refollowing_at_the_bound_is_fine(token_and_app):
    token, app = token_and_app
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    for n in range(MAX_FOLLOWS):
        assert client.post("/api/me/follows", json={"kind": "author", "value": f"A{n}"}).is_success
    one_more = client.post("/api/me/follows", json={"kind": "author", "value": "One More"})
    assert one_more.status_code == 400
    assert client.post("/api/me/follows", json={"kind": "author", "value": "A0"}).is_success
    assert len(client.get("/api/me/follows").json()) == MAX_FOLLOWS


def test_a_library_import_does_not_hold_up_page_requests(token_and_app, monkeypatch):
    """With one request thread (PAPERTIDE_REQUEST_THREADS=1), a page is answered while an
    import is still running: the import has a thread of its own."""
    token, app = token_and_app
    importing, release = threading.Event(), threading.Event()
    real_seed = web_library.seed_library

    def slow_seed(*args):
        importing.set()
        release.wait(60)
        return real_seed(*args)

    monkeypatch.setattr(web_library, "seed_library", slow_seed)

    async def scenario() -> tuple[int, int, bool]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as c:
            upload = (FIXTURES / "zotero.bib").read_bytes()
            async with anyio.create_task_group() as tasks:
                results = {}

                async def post_import() -> None:
                    response = await c.post(
                        "/api/me/library-import", files={"file": ("l.bib", upload)}
                    )
                    results["import"] = response.status_code

                tasks.start_soon(post_import)
                with anyio.fail_after(60):
                    while not importing.is_set():
                        await anyio.sleep(0.01)
                page = await c.get("/api/papers")  # answered while the import waits
                still_importing = not release.is_set() and "import" not in results
                release.set()
        return page.status_code, results["import"], still_importing

    page_status, import_status, answered_during_import = anyio.run(scenario)
    assert page_status == 200 and import_status == 200 and answered_during_import


def test_an_upload_without_an_account_is_refused_before_its_body_is_read(
    token_and_app, monkeypatch
):
    """Attack review: the upload used to be parsed (spooled to disk) before the token check."""
    _, app = token_and_app
    from starlette.requests import Request

    forms_read = []
    real_form = Request.form

    def counting_form(self, *args, **kwargs):
        forms_read.append(self.url.path)
        return real_form(self, *args, **kwargs)

    monkeypatch.setattr(Request, "form", counting_form)
    client = TestClient(app)
    upload = {"file": ("lib.bib", (FIXTURES / "zotero.bib").read_bytes())}
    assert client.post("/api/me/library-import", files=upload).status_code == 401
    assert client.post("/library/import", files=upload, follow_redirects=False).status_code in (
        401,
        303,
        403,
    )
    assert forms_read == []

"""Library, follows, "For you" and their JSON API, through the FastAPI test client."""

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES, index_database
from papertide.ingest.runner import import_file
from papertide.security import hash_password, new_token
from papertide.store import accounts
from papertide.store.engine import open_engine
from papertide.web.app import create_app
from test_web_accounts import csrf_of, sign_up


@pytest.fixture
def app(db_url, embedder):
    engine = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml"):
        import_file(engine, FIXTURES / name)
    index_database(db_url)
    engine.dispose()
    return create_app(db_url)


def post_form(client: TestClient, path: str, **fields) -> int:
    fields["csrf_token"] = client.cookies.get("pt_csrf")
    return client.post(path, data=fields, follow_redirects=False).status_code


def test_save_rate_follow_and_for_you_in_the_browser_forms(app):
    client = TestClient(app)
    sign_up(client, "reader")
    assert "Save" in client.get("/papers/2407.05528").text
    assert post_form(client, "/papers/2407.05528/library", action="save") == 303
    page = client.get("/papers/2407.05528").text
    assert 'value="unsave" aria-pressed="true"' in page
    assert post_form(client, "/papers/2611.00005/library", action="down") == 303
    for_you = client.get("/for-you").text
    assert "Your library (2)" in for_you and "close to “" in for_you
    assert "2611.00005" not in for_you.split("Digest by email")[0]  # thumbs-down: never picked
    assert post_form(client, "/follow", kind="query", value="radiance fields") == 303
    assert "query: radiance fields" in client.get("/for-you").text
    assert post_form(client, "/follow", kind="planet", value="x") == 400
    assert post_form(client, "/papers/2407.05528/library", action="explode") == 400
    # forms without the CSRF token are refused
    refused = client.post("/papers/2407.05528/library", data={"action": "save"})
    assert refused.status_code == 403


def test_library_import_upload(app):
    client = TestClient(app)
    sign_up(client, "importer")
    token = csrf_of(client, "/for-you")
    with (FIXTURES / "zotero.bib").open("rb") as handle:
        page = client.post(
            "/library/import",
            data={"csrf_token": token},
            files={"file": ("My Library.bib", handle, "application/x-bibtex")},
        )
    assert page.status_code == 200 and "newly saved to your library" in page.text
    assert "Your library (0)" not in page.text


def test_signed_out_for_you_goes_to_log_in(app):
    response = TestClient(app).get("/for-you", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_library_api_with_a_token(app, db_url):
    engine = open_engine(db_url)
    token, hashed = new_token()
    with engine.begin() as conn:
        user = accounts.create_user(conn, "api", hash_password("password123"))
        accounts.create_api_token(conn, hashed, user, "test")
    engine.dispose()
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/me/library").json() == []
    saved = client.post("/api/me/library/2407.05528", json={"action": "save"}).json()
    assert saved == {"id": "2407.05528", "saved": True, "rating": 0}
    assert client.post("/api/me/library/2407.05528", json={"action": "up"}).json()["rating"] == 1
    assert client.post("/api/me/library/0000.00000", json={"action": "up"}).status_code == 404
    follows = client.post("/api/me/follows", json={"kind": "author", "value": "Ada Lovelace"})
    assert follows.json() == [{"kind": "author", "value": "Ada Lovelace"}]
    picks = client.get("/api/me/recommendations?k=5&days=3650").json()
    assert picks and all(p["reason"] and p["id"] != "2407.05528" for p in picks)
    assert client.get("/api/me/recommendations?k=0").status_code == 400
    with (FIXTURES / "zotero.bib").open("rb") as handle:
        report = client.post("/api/me/library-import", files={"file": ("lib.bib", handle)}).json()
    assert report["saved"] >= 1
    assert TestClient(app).get("/api/me/library").status_code == 401  # no token
    from papertide.web import library as web_library

    web_library.MAX_UPLOAD_BYTES, limit = 1000, web_library.MAX_UPLOAD_BYTES
    try:
        big = client.post("/api/me/library-import", files={"file": ("x.bib", b"@" * 1001)})
    finally:
        web_library.MAX_UPLOAD_BYTES = limit
    assert big.status_code == 413

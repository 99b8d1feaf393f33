"""Accounts, sessions, CSRF, votes, API tokens, rate limiting and admin actions."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES
from papertide.clock import FixedClock
from papertide.ingest.runner import import_file
from papertide.security import hash_password, new_token
from papertide.store import accounts
from papertide.store.engine import open_engine
from papertide.web.app import create_app

PAPER = "2611.00005"  # 57 upstream upvotes in the fixture


@pytest.fixture
def app(db_url):
    engine = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json"):
        import_file(engine, FIXTURES / name)
    with engine.begin() as conn:
        accounts.create_user(conn, "root", hash_password("rootpass1"), "admin")
    engine.dispose()
    return create_app(db_url)


def browser(app) -> TestClient:
    return TestClient(app, base_url="http://testserver")


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_up(client: TestClient, name: str, password: str = "password123") -> None:
    token = csrf_of(client, "/signup")
    response = client.post(
        "/signup",
        data={"username": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def log_in(client: TestClient, name: str, password: str) -> int:
    token = csrf_of(client)
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    ).status_code


def vote(client: TestClient, paper: str = PAPER) -> dict:
    token = client.cookies.get("pt_csrf")
    response = client.post(
        f"/papers/{paper}/vote", data={"csrf_token": token}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_signup_login_logout_and_cookie_flags(app):
    with browser(app) as client:
        sign_up(client, "ada")
        assert "ada" in client.get("/account").text
        token = csrf_of(client, "/account")
        client.post("/logout", data={"csrf_token": token})
        assert client.get("/account").status_code == 401
        assert log_in(client, "ada", "password123") == 303
        assert client.get("/account").status_code == 200
        assert log_in(client, "ada", "wrong-password") == 400


def test_session_cookie_attributes(app):
    with browser(app) as client:
        token = csrf_of(client, "/signup")
        response = client.post(
            "/signup",
            data={"username": "eve", "password": "password123", "csrf_token": token},
            follow_redirects=False,
        )
        header = response.headers["set-cookie"].lower()
        assert "httponly" in header and "samesite=lax" in header
    with TestClient(app, base_url="https://testserver") as secure:
        token = csrf_of(secure, "/signup")
        response = secure.post(
            "/signup",
            data={"username": "sec", "password": "password123", "csrf_token": token},
            follow_redirects=False,
        )
        assert "secure" in response.headers["set-cookie"].lower()


def test_missing_or_wrong_csrf_is_403(app):
    with browser(app) as client:
        sign_up(client, "ada")
        for data in ({}, {"csrf_token": "forged"}):
            assert client.post(f"/papers/{PAPER}/vote", data=data).status_code == 403
            assert client.post("/logout", data=data).status_code == 403
        fresh = browser(app)
        assert (
            fresh.post("/login", data={"username": "ada", "password": "password123"}).status_code
            == 403
        )
        assert (
            fresh.post(
                "/signup", data={"username": "x", "password": "password123", "csrf_token": "nope"}
            ).status_code
            == 403
        )


def test_votes_toggle_and_count_exactly(app):
    with browser(app) as ada, browser(app) as bob:
        sign_up(ada, "ada")
        sign_up(bob, "bob")
        assert vote(ada) == {"id": PAPER, "voted": True, "votes": 1}
        assert vote(bob)["votes"] == 2
        assert vote(ada) == {"id": PAPER, "voted": False, "votes": 1}  # toggled back
        assert ada.get(f"/api/papers/{PAPER}").json()["votes"] == 1
        page = ada.get("/day/2026-11-22").text
        assert ">58<" in page  # 57 upstream + bob's vote
        anonymous = browser(app)
        token = csrf_of(anonymous, "/")
        assert (
            anonymous.post(f"/papers/{PAPER}/vote", data={"csrf_token": token}).status_code == 401
        )


def test_api_token_votes_only_its_own_user(app, db_url):
    engine = open_engine(db_url)
    with engine.begin() as conn:
        ada = accounts.create_user(conn, "ada", hash_password("password123"))
        accounts.create_user(conn, "bob", hash_password("password123"))
        ada_token, ada_hash = new_token()
        accounts.create_api_token(conn, ada_hash, ada, "test")
    engine.dispose()
    with browser(app) as client:
        headers = {"Authorization": f"Bearer {ada_token}"}
        assert client.get("/api/me", headers=headers).json()["username"] == "ada"
        assert client.post(f"/api/papers/{PAPER}/vote", headers=headers).json()["voted"]
        assert (
            client.post(
                f"/api/papers/{PAPER}/vote", headers={"Authorization": "Bearer stolen"}
            ).status_code
            == 401
        )
        assert client.post(f"/api/papers/{PAPER}/vote").status_code == 401
        # bob, logged in, toggles his own vote; ada's stays
        assert log_in(client, "bob", "password123") == 303
        assert vote(client)["votes"] == 2
        assert vote(client)["votes"] == 1
        assert client.get(f"/api/papers/{PAPER}").json()["votes"] == 1


def test_login_rate_limit(app):
    with browser(app) as client:
        sign_up(client, "ada")
        client.cookies.delete("pt_session")
        for _ in range(5):
            assert log_in(client, "ada", "nope-nope") == 400
        assert log_in(client, "ada", "password123") == 429  # even the right password waits


def test_retrying_while_locked_out_does_not_prolong_the_lockout(db_url):
    clock = FixedClock(datetime(2026, 3, 1, 9, 0))
    with browser(create_app(db_url, clock=clock)) as client:
        sign_up(client, "ada")
        client.cookies.delete("pt_session")
        for _ in range(5):
            assert log_in(client, "ada", "nope-nope") == 400
        clock.advance(minutes=10)
        for _ in range(3):  # refused before any password is checked
            assert log_in(client, "ada", "password123") == 429
        clock.advance(minutes=6)  # 16 minutes after the last checked guess
        assert log_in(client, "ada", "password123") == 303


def test_admin_hides_papers_and_votes(app):
    with browser(app) as admin, browser(app) as ada:
        sign_up(ada, "ada")
        assert vote(ada)["votes"] == 1
        token = csrf_of(ada, f"/papers/{PAPER}")
        assert ada.post("/admin/users/ada/votes", data={"csrf_token": token}).status_code == 403
        assert log_in(admin, "root", "rootpass1") == 303
        token = csrf_of(admin, f"/papers/{PAPER}")
        assert "Hide this paper" in admin.get(f"/papers/{PAPER}").text
        admin.post("/admin/users/ada/votes", data={"csrf_token": token})
        assert admin.get(f"/api/papers/{PAPER}").json()["votes"] == 0
        admin.post(f"/admin/papers/{PAPER}/hide", data={"csrf_token": token})
        assert PAPER not in admin.get("/day/2026-11-22").text
        assert PAPER not in [p["id"] for p in admin.get("/api/papers").json()]
        assert PAPER not in [
            h["id"] for h in admin.get("/api/search?q=radiant&mode=keyword").json()
        ]


def test_concurrent_votes_are_all_counted(app, db_url):
    engine = open_engine(db_url)
    tokens = []
    with engine.begin() as conn:
        for i in range(20):
            user = accounts.create_user(conn, f"user{i}", hash_password("password123"))
            token, hashed = new_token()
            accounts.create_api_token(conn, hashed, user, "load")
            tokens.append(token)
    engine.dispose()
    papers = ["2611.00001", "2611.00002", "2611.00005", "2407.05528"]
    jobs = [(t, p) for t in tokens for p in papers]
    with browser(app) as client, ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda job: (
                    client.post(
                        f"/api/papers/{job[1]}/vote", headers={"Authorization": f"Bearer {job[0]}"}
                    ).status_code
                ),
                jobs,
            )
        )
        assert results == [200] * len(jobs)
        for paper in papers:
            assert client.get(f"/api/papers/{paper}").json()["votes"] == len(tokens)

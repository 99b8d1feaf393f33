"""Account hardening: one rule for names, old accounts kept by the migration, redirects that stay
on the site, API tokens listed and revoked, password changes, bounded fields, and the login rate
limit behind (and without) a reverse proxy."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient

from conftest import Cli, free_port, wait_for_server
from papertide.store import dialect
from papertide.store.engine import _alembic_config, open_engine
from papertide.web.app import create_app
from test_web_accounts import PAPER, app, browser, csrf_of, log_in, sign_up  # noqa: F401

CYRILLIC_ALICE = "\u0430lice"  # the first letter is Cyrillic


def sign_up_status(client: TestClient, name: str, password: str = "password123") -> int:
    token = csrf_of(client, "/signup")
    return client.post(
        "/signup",
        data={"username": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    ).status_code


# -- names -------------------------------------------------------------------------------------


def test_signup_refuses_case_variants_of_an_existing_name(app):  # noqa: F811
    with browser(app) as client:
        sign_up(client, "alice")
    for variant in ("Alice", "ALICE", " alice ", "\uff41lice"):  # the last: full-width a
        with browser(app) as client:
            assert sign_up_status(client, variant) == 400, variant


def test_login_by_any_case_variant_finds_the_one_account(app):  # noqa: F811
    with browser(app) as client:
        sign_up(client, "Erin")  # stored as the canonical 'erin'
    with browser(app) as client:
        for variant in ("erin", "ERIN", "Erin"):
            assert log_in(client, variant, "password123") == 303, variant
        assert "erin" in client.get("/account").text


def test_failed_logins_as_a_case_variant_count_against_the_one_account(app):  # noqa: F811
    with browser(app) as client:
        sign_up(client, "erin")
        client.cookies.delete("pt_session")
        for variant in ("ERIN", "Erin", "eRIN", "ERin", "erIN"):
            assert log_in(client, variant, "wrong-password") == 400
        assert log_in(client, "erin", "password123") == 429  # one bucket: the canonical name


@pytest.mark.parametrize(
    "name",
    [CYRILLIC_ALICE, "<b>x</b>", "a", "x" * 200, "al ice", ".alice", "alice.", "ali\u202ece"],
)
def test_users_create_refuses_names_outside_the_rule(cli, name):
    created = cli.run(
        "users", "create", name, "--password-stdin", stdin="password123\n", check=False
    )
    assert created.returncode == 2
    assert created.stderr.startswith("error: a name has 2-32 characters")
    assert len(created.stderr.strip().splitlines()) == 1


def test_signup_refuses_names_outside_the_rule(app):  # noqa: F811
    for name in (CYRILLIC_ALICE, "<b>x</b>", "a", "x" * 200):
        with browser(app) as client:
            answer = client.post(
                "/signup",
                data={"username": name, "password": "password123", "csrf_token": csrf_of(client)},
            )
            assert answer.status_code == 400 and "a name has 2-32 characters" in answer.text


def _database_at_0005(url: str) -> sa.Engine:
    raw = sa.create_engine(url)
    dialect.configure(raw)
    command.upgrade(_alembic_config(raw), "0005")
    return raw


@pytest.mark.empty_database
def test_migration_keeps_old_accounts_whose_names_break_the_rule(db_url, backend):
    from papertide.security import hash_password

    # PostgreSQL held names to their declared VARCHAR(64) then; SQLite held any length
    longest = 200 if backend == "sqlite" else 64
    old_names = ["alice", "ALICE", CYRILLIC_ALICE, "<b>x</b>", "a", "y" * longest, "b\u043eb"]
    raw = _database_at_0005(db_url)
    with raw.begin() as conn:
        for i, name in enumerate(old_names):
            conn.execute(
                sa.text(
                    "INSERT INTO users (username, password_hash, role, created_at, votes_hidden)"
                    " VALUES (:name, :hash, 'user', '2026-01-01', false)"
                ),
                {"name": name, "hash": hash_password(f"password-{i}")},
            )
    raw.dispose()
    web = create_app(db_url)  # migrates to the newest schema
    for i, name in enumerate(old_names):
        with browser(web) as client:
            assert log_in(client, name, f"password-{i}") == 303, name  # each its own account
    with browser(web) as client:
        assert log_in(client, "Alice", "password-0") == 303  # a variant: the first 'alice'
    # taken: the names themselves, their variants, and 'bob', which imitates the Cyrillic one
    for name, status in (("alice", 400), ("Alice", 400), ("bob", 400), ("b-x-b", 303)):
        with browser(web) as client:
            assert sign_up_status(client, name) == status, name


@pytest.mark.empty_database
def test_migration_folds_subscriber_addresses_differing_in_case(db_url):
    raw = _database_at_0005(db_url)
    with raw.begin() as conn:
        for email, confirmed in (
            ("Reader@Example.org", datetime(2026, 1, 1)),
            ("reader@example.org", None),
            ("READER@example.org", None),
            ("Other@Example.org", None),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO subscribers (email, period, created_at, confirmed_at)"
                    " VALUES (:email, 'daily', '2026-01-01', :confirmed)"
                ),
                {"email": email, "confirmed": confirmed},
            )
        for subscriber_id, period_key in ((1, "daily:2026-01-02"), (2, "daily:2026-01-03")):
            conn.execute(
                sa.text(
                    "INSERT INTO outbox (subscriber_id, period_key, status, message_id, message,"
                    " paper_ids, attempts, next_try_at, created_at) VALUES (:s, :k, 'sent',"
                    " 'm', :message, '[]', 1, '2026-01-01', '2026-01-01')"
                ),
                {"s": subscriber_id, "k": period_key, "message": b"\x00"},
            )
    raw.dispose()
    engine = open_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, email, confirmed_at FROM subscribers")).all()
        outbox = conn.execute(sa.text("SELECT subscriber_id, period_key FROM outbox")).all()
    engine.dispose()
    by_email = {email: (row_id, confirmed) for row_id, email, confirmed in rows}
    assert set(by_email) == {"reader@example.org", "other@example.org"}
    keeper = by_email["reader@example.org"][0]
    assert keeper == 1 and by_email["reader@example.org"][1] is not None  # the active one
    assert sorted(outbox) == [(keeper, "daily:2026-01-02"), (keeper, "daily:2026-01-03")]


# -- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "referer",
    [
        "http://testserver//evil.example/x",
        "http://testserver/\\evil.example/x",
        "http://testserver/\t/evil.example/x",
        "http://testserver.evil.example/x",
        "https://testserver/x",
        "http://[testserver/x",
        "javascript:alert(1)",
    ],
)
def test_referer_with_double_slash_path_does_not_redirect_off_site(app, referer):  # noqa: F811
    with browser(app) as client:
        sign_up(client, "ada")
        answer = client.post(
            f"/papers/{PAPER}/vote",
            data={"csrf_token": client.cookies.get("pt_csrf")},
            headers={"Referer": referer},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/papers/{PAPER}"  # the fallback, on this site


def test_referer_on_this_site_is_where_a_form_returns(app):  # noqa: F811
    with browser(app) as client:
        sign_up(client, "ada")
        answer = client.post(
            f"/papers/{PAPER}/vote",
            data={"csrf_token": client.cookies.get("pt_csrf")},
            headers={"Referer": "http://testserver/day/2026-11-22?sort=trending"},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/day/2026-11-22?sort=trending"


# -- API tokens and passwords ------------------------------------------------------------------


def _token_ids(client: TestClient) -> list[str]:
    return re.findall(r'action="/account/tokens/([0-9a-f]+)/revoke"', client.get("/account").text)


def test_api_tokens_can_be_listed_and_revoked(app):  # noqa: F811
    with browser(app) as client:
        sign_up(client, "ada")
        created = []
        for name in ("zotero", "script"):
            page = client.post(
                "/account/tokens", data={"name": name, "csrf_token": csrf_of(client, "/account")}
            )
            created.append(page.text.split('class="token">')[1].split("<")[0])
        bearer = {"Authorization": f"Bearer {created[0]}"}
        listed = client.get("/api/me/tokens", headers=bearer).json()
        assert sorted(t["name"] for t in listed) == ["script", "zotero"]
        assert all(created[0] not in str(t) for t in listed)  # never the token itself
        by_name = {t["name"]: t["id"] for t in listed}
        assert sorted(_token_ids(client)) == sorted(by_name.values())
        # revoke 'script' on the account page; its token stops working at once
        answer = client.post(
            f"/account/tokens/{by_name['script']}/revoke",
            data={"csrf_token": csrf_of(client, "/account")},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert (
            client.get("/api/me", headers={"Authorization": f"Bearer {created[1]}"}).status_code
            == 401
        )
        # revoke 'zotero' through the API, with itself
        gone = client.delete(f"/api/me/tokens/{by_name['zotero']}", headers=bearer)
        assert gone.status_code == 204
        assert client.get("/api/me", headers=bearer).status_code == 401
        assert _token_ids(client) == []
        # someone else's or a malformed id: a clear 404, never a 500
        for bad in ("0" * 16, "not-hex", "x" * 5000):
            answer = client.post(
                f"/account/tokens/{bad}/revoke", data={"csrf_token": csrf_of(client, "/account")}
            )
            assert answer.status_code == 404


def test_cli_lists_and_revokes_api_tokens(cli):
    cli.run("users", "create", "ada", "--password-stdin", stdin="password123\n")
    cli.run("users", "token", "ada", "--name", "zotero")
    (token,) = cli.json("users", "tokens", "ada")
    assert token["name"] == "zotero" and token["last_used_at"] is None
    assert "revoked" in cli.run("users", "revoke-token", "ADA", token["id"]).stdout
    assert cli.json("users", "tokens", "ada") == []
    again = cli.run("users", "revoke-token", "ada", token["id"], check=False)
    assert again.returncode == 2 and again.stderr.startswith("error: no API token")


def test_password_change_needs_the_current_password_and_ends_other_sessions(app):  # noqa: F811
    with browser(app) as laptop, browser(app) as phone:
        sign_up(laptop, "ada", "old-password")
        assert log_in(phone, "ada", "old-password") == 303
        wrong = laptop.post(
            "/account/password",
            data={
                "current_password": "not-it-at-all",
                "new_password": "new-password",
                "csrf_token": csrf_of(laptop, "/account"),
            },
        )
        assert wrong.status_code == 400 and "current password is wrong" in wrong.text
        changed = laptop.post(
            "/account/password",
            data={
                "current_password": "old-password",
                "new_password": "new-password",
                "csrf_token": csrf_of(laptop, "/account"),
            },
        )
        assert changed.status_code == 200 and "Password changed" in changed.text
        assert laptop.get("/account").status_code == 200  # this browser stays signed in
        assert phone.get("/account").status_code == 401  # the other session ended
        assert log_in(phone, "ada", "old-password") == 400
        assert log_in(phone, "ada", "new-password") == 303


def test_api_password_change_with_token_revocation(app):  # noqa: F811
    with browser(app) as client:
        sign_up(client, "ada", "old-password")
        page = client.post(
            "/account/tokens", data={"name": "api", "csrf_token": csrf_of(client, "/account")}
        )
        bearer = {"Authorization": "Bearer " + page.text.split('class="token">')[1].split("<")[0]}
        wrong = client.post(
            "/api/me/password",
            json={"current_password": "nope-nope", "new_password": "new-password"},
            headers=bearer,
        )
        assert wrong.status_code == 400
        done = client.post(
            "/api/me/password",
            json={
                "current_password": "old-password",
                "new_password": "new-password",
                "revoke_tokens": True,
            },
            headers=bearer,
        )
        assert done.json() == {"sessions_revoked": 1, "tokens_revoked": 1}
        assert client.get("/account").status_code == 401
        assert client.get("/api/me", headers=bearer).status_code == 401


def test_cli_password_reset_ends_sessions(app, cli):  # noqa: F811
    with browser(app) as client:
        sign_up(client, "ada", "old-password")
        reset = cli.run("users", "password", "ada", "--password-stdin", stdin="new-password\n")
        assert "1 session(s) signed out" in reset.stdout
        assert client.get("/account").status_code == 401
        assert log_in(client, "ada", "new-password") == 303


# -- bounded fields ----------------------------------------------------------------------------


def test_oversized_account_fields_get_a_clear_4xx(app, cli):  # noqa: F811
    huge_password = "p" * 100_000
    with browser(app) as client:
        assert sign_up_status(client, "ada", huge_password) == 400
        assert sign_up_status(client, "n" * 300) == 400
        sign_up(client, "ada")
        page = client.post(
            "/account/tokens", data={"name": "t" * 101, "csrf_token": csrf_of(client, "/account")}
        )
        assert page.status_code == 400 and "a token name has 1-100 characters" in page.text
        assert _token_ids(client) == []
        client.cookies.delete("pt_session")
        assert log_in(client, "ada", huge_password) == 400
        assert log_in(client, "n" * 100_000, "password123") == 400
    cli.run("users", "create", "bob", "--password-stdin", stdin="password123\n")
    long_name = cli.run("users", "token", "bob", "--name", "t" * 101, check=False)
    assert long_name.returncode == 2 and "a token name has 1-100" in long_name.stderr
    long_password = cli.run(
        "users", "create", "eve", "--password-stdin", stdin=huge_password + "\n", check=False
    )
    assert long_password.returncode == 2 and "at most 1024" in long_password.stderr


# -- the login rate limit and forwarded headers ------------------------------------------------


def _failed_logins_then_right_one(base: str) -> int:
    """Five wrong passwords for 'erin', each claiming another client address in
    X-Forwarded-For, then the right one: the status of that last attempt."""
    with httpx.Client(base_url=base) as client:
        token = client.get("/login").cookies["pt_csrf"]
        for i in range(6):
            headers = {"X-Forwarded-For": f"203.0.113.{i}"}
            password = "password123" if i == 5 else "wrong-password"
            answer = client.post(
                "/login",
                data={"username": "erin", "password": password, "csrf_token": token},
                headers=headers,
            )
        return answer.status_code


def _serve(cli: Cli, *options: str) -> tuple[str, subprocess.Popen]:
    port = free_port()
    process = subprocess.Popen(
        cli.command("serve", "--port", str(port), *options),
        env=cli.process_env,
        cwd=cli.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for_server(base, process)
    return base, process


def test_rotating_x_forwarded_for_does_not_reset_the_login_rate_limit(cli):
    cli.run("users", "create", "erin", "--password-stdin", stdin="password123\n")
    base, process = _serve(cli)
    try:
        assert _failed_logins_then_right_one(base) == 429
    finally:
        process.terminate()
        process.wait(30)


def test_forwarded_for_is_believed_from_a_configured_proxy(cli):
    cli.run("users", "create", "erin", "--password-stdin", stdin="password123\n")
    base, process = _serve(cli, "--forwarded-allow-ips", "127.0.0.1")
    try:  # the proxy (here: this test, on loopback) names five different clients
        assert _failed_logins_then_right_one(base) == 303
    finally:
        process.terminate()
        process.wait(30)
    bad = cli.run("serve", "--forwarded-allow-ips", "proxy.example", check=False)
    assert bad.returncode == 2 and "not an IP address or network" in bad.stderr


def test_unsubscribe_links_from_before_generations_keep_working(db_url):
    from itsdangerous import URLSafeSerializer

    from papertide.store import digests

    raw = _database_at_0005(db_url)
    with raw.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO subscribers (email, period, created_at, confirmed_at)"
                " VALUES ('old@example.org', 'daily', '2026-01-01', '2026-01-01')"
            )
        )
    raw.dispose()
    web = create_app(db_url)
    with web.state.papertide.engine.begin() as conn:
        secret = digests.signing_secret(conn)
    old_link = "/unsubscribe?token=" + URLSafeSerializer(secret, salt="unsubscribe").dumps(1)
    with browser(web) as client:  # a digest mailed before the upgrade carries a bare id
        assert client.get(old_link).status_code == 200
        assert client.post(old_link).status_code == 200
    with web.state.papertide.engine.connect() as conn:
        assert digests.by_id(conn, 1)["unsubscribed_at"] is not None

"""Authorship claims: a member claims a paper, an admin approves or rejects it (or it is
approved at once through a confirmed address in a trusted domain), and the paper says who
claimed it."""

import pytest

from papertide.config import Settings
from papertide.security import hash_password, new_token
from papertide.store import accounts, digests
from papertide.store.engine import open_engine
from papertide.web.app import create_app
from test_authors import PAPERS, write_jsonl
from test_web_accounts import browser, csrf_of, log_in, sign_up

PAPER = "2611.10001"


def make_app(db_url, tmp_path, **settings):
    from papertide.ingest.runner import import_file

    engine = open_engine(db_url)
    import_file(engine, write_jsonl(tmp_path / "papers.jsonl", PAPERS))
    with engine.begin() as conn:
        accounts.create_user(conn, "root", hash_password("rootpass1"), "admin")
    engine.dispose()
    return create_app(Settings.load(db=db_url, **settings))


@pytest.fixture
def app(db_url, tmp_path):
    return make_app(db_url, tmp_path)


def claim(client, paper: str = PAPER, **extra) -> int:
    token = client.cookies.get("pt_csrf")
    data = {"csrf_token": token, **extra}
    return client.post(f"/papers/{paper}/claim", data=data, follow_redirects=False).status_code


def pending_ids(client) -> list[str]:
    import re

    return re.findall(r'action="/admin/claims/(\d+)"', client.get("/admin/claims").text)[::2]


def decide(client, claim_id: str, decision: str) -> int:
    token = client.cookies.get("pt_csrf")
    return client.post(
        f"/admin/claims/{claim_id}",
        data={"decision": decision, "csrf_token": token},
        follow_redirects=False,
    ).status_code


def api_token(db_url, username: str) -> str:
    engine = open_engine(db_url)
    token, hashed = new_token()
    with engine.begin() as conn:
        user = accounts.user_by_name(conn, username)
        accounts.create_api_token(conn, hashed, user["id"], "test")
    engine.dispose()
    return token


def test_a_claim_waits_for_an_admin_who_approves_it(app):
    with browser(app) as member, browser(app) as admin:
        sign_up(member, "ada")
        assert "I am an author of this paper" in member.get(f"/papers/{PAPER}").text
        assert claim(member) == 303
        page = member.get(f"/papers/{PAPER}").text
        assert "Your authorship claim waits for an admin." in page
        assert "claimed by" not in page
        assert member.get("/admin/claims").status_code == 403  # members cannot decide

        assert log_in(admin, "root", "rootpass1") == 303
        listing = admin.get("/admin/claims").text
        assert "@ada" in listing and "Deep learning of representations" in listing
        [claim_id] = pending_ids(admin)
        assert decide(admin, claim_id, "approve") == 303
        assert pending_ids(admin) == []
        assert decide(admin, claim_id, "reject") == 404  # decided already

        shown = member.get(f"/papers/{PAPER}").text
        assert 'claimed by <a href="/users/ada">@ada</a>' in shown
        assert "You are listed as an author." in shown


def test_a_rejected_claim_cannot_be_made_again(app):
    with browser(app) as member, browser(app) as admin:
        sign_up(member, "ada")
        claim(member)
        log_in(admin, "root", "rootpass1")
        assert decide(admin, pending_ids(admin)[0], "reject") == 303
        assert "An admin rejected your authorship claim" in member.get(f"/papers/{PAPER}").text
        assert claim(member) == 409
        assert claim(member, undo="true") == 404  # a rejection stays
        assert "claimed by" not in member.get(f"/papers/{PAPER}").text


def test_claims_need_a_session_and_the_csrf_token(app):
    with browser(app) as client:
        assert client.post(f"/papers/{PAPER}/claim").status_code == 403  # no token at all
        csrf_of(client, f"/papers/{PAPER}")
        assert claim(client) == 401  # signed out
        sign_up(client, "ada")
        forged = client.post(f"/papers/{PAPER}/claim", data={"csrf_token": "forged"})
        assert forged.status_code == 403
        assert claim(client, paper="no-such-paper") == 404
        admin_form = client.post("/admin/claims/1", data={"decision": "approve"})
        assert admin_form.status_code == 403


def test_another_member_neither_decides_nor_withdraws_a_claim(app, db_url):
    with browser(app) as ada, browser(app) as bob, browser(app) as admin:
        sign_up(ada, "ada")
        sign_up(bob, "bob")
        claim(ada)
        log_in(admin, "root", "rootpass1")
        [claim_id] = pending_ids(admin)
        assert decide(bob, claim_id, "approve") == 403
        assert claim(bob, undo="true") == 404  # bob has no claim; ada's stays
        assert len(pending_ids(admin)) == 1
        assert claim(bob) == 303  # co-authors claim the same paper each
        for claim_id in pending_ids(admin):
            decide(admin, claim_id, "approve")
        assert "@ada</a>, <a href=\"/users/bob\">@bob</a>" in bob.get(f"/papers/{PAPER}").text
        assert claim(ada, undo="true") == 303  # her own, withdrawn
        assert "@ada" not in bob.get(f"/papers/{PAPER}").text
        token = api_token(db_url, "bob")
        headers = {"Authorization": f"Bearer {token}"}
        assert bob.get("/api/admin/claims", headers=headers).status_code == 403
        decision = {"decision": "reject"}
        decided = bob.post(f"/api/admin/claims/{claim_id}", json=decision, headers=headers)
        assert decided.status_code == 403


def confirm_address(db_url, username: str, address: str, confirmed: bool = True) -> None:
    engine = open_engine(db_url)
    with engine.begin() as conn:
        user = accounts.user_by_name(conn, username)
        change = digests.subscribe(conn, address, "daily", user["id"])
        if confirmed:
            digests.confirm(conn, change)
    engine.dispose()


@pytest.mark.parametrize(
    ("address", "confirmed", "status"),
    [
        ("ada@example.edu", True, "approved"),
        ("ada@cs.example.edu", True, "approved"),
        ("ada@example.edu", False, "pending"),  # asked for, never confirmed
        ("ada@badexample.edu", True, "pending"),
        ("ada@example.org", True, "pending"),
    ],
)
def test_a_confirmed_address_in_a_trusted_domain_approves_at_once(
    db_url, tmp_path, address, confirmed, status
):
    app = make_app(db_url, tmp_path, claim_email_domains="Example.edu, lab.example.net")
    with browser(app) as client:
        sign_up(client, "ada")
        confirm_address(db_url, "ada", address, confirmed)
        token = api_token(db_url, "ada")
        made = client.post(
            f"/api/papers/{PAPER}/claim", headers={"Authorization": f"Bearer {token}"}
        )
        assert made.status_code == 200, made.text
        assert made.json()["status"] == status
        assert made.json()["how"] == ("email" if status == "approved" else None)
        assert ("claimed by" in client.get(f"/papers/{PAPER}").text) == (status == "approved")


def test_without_trusted_domains_every_claim_waits(app, db_url):
    with browser(app) as client:
        sign_up(client, "ada")
        confirm_address(db_url, "ada", "ada@example.edu")
        claim(client)
        assert "waits for an admin" in client.get(f"/papers/{PAPER}").text


def test_the_claims_api(app, db_url):
    with browser(app) as client:
        sign_up(client, "ada")
        ada = {"Authorization": f"Bearer {api_token(db_url, 'ada')}"}
        root = {"Authorization": f"Bearer {api_token(db_url, 'root')}"}
        assert client.post(f"/api/papers/{PAPER}/claim").status_code == 401
        made = client.post(f"/api/papers/{PAPER}/claim", headers=ada).json()
        assert set(made) == {"id", "paper_id", "status", "how", "created_at", "decided_at"}
        assert (made["paper_id"], made["status"]) == (PAPER, "pending")
        again = client.post(f"/api/papers/{PAPER}/claim", headers=ada).json()
        assert again["id"] == made["id"]  # one claim per member and paper
        waiting = client.get("/api/admin/claims", headers=root).json()
        assert [(c["username"], c["title"]) for c in waiting] == [
            ("ada", "Deep learning of representations")
        ]
        decided = client.post(
            f"/api/admin/claims/{made['id']}", json={"decision": "approve"}, headers=root
        )
        assert decided.json()["status"] == "approved" and decided.json()["how"] == "admin"
        bad = client.post(f"/api/admin/claims/{made['id']}", json={"decision": "x"}, headers=root)
        assert bad.status_code == 422
        huge = client.post("/api/admin/claims/99999999999999999999", json={"decision": "approve"},
                           headers=root)  # fmt: skip
        assert huge.status_code == 422
        mine = client.get("/api/me/claims", headers=ada).json()
        assert [c["status"] for c in mine] == ["approved"]
        assert client.delete(f"/api/papers/{PAPER}/claim", headers=ada).status_code == 204
        assert client.get("/api/me/claims", headers=ada).json() == []

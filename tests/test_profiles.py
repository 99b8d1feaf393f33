"""Members' public profiles: claimed papers, and upvotes only when the member chooses."""

import pytest

from test_claims import PAPER, api_token, claim, decide, make_app, pending_ids
from test_web_accounts import browser, log_in, sign_up, vote

VOTED = "2611.10003"


@pytest.fixture
def app(db_url, tmp_path):
    return make_app(db_url, tmp_path)


def show_upvotes(client, shown: bool, token: str | None = None) -> int:
    data = {"csrf_token": client.cookies.get("pt_csrf") if token is None else token}
    if shown:
        data["show_upvotes"] = "true"
    return client.post("/account/profile", data=data, follow_redirects=False).status_code


def test_an_unknown_member_is_a_404_page(app):
    with browser(app) as client:
        page = client.get("/users/nobody", headers={"Accept": "text/html"})
        assert page.status_code == 404 and "<html" in page.text
        assert client.get("/api/users/nobody").status_code == 404
        assert client.get("/users/" + "x" * 5000).status_code == 404


def test_a_profile_shows_approved_claims_and_upvotes_only_when_chosen(app, db_url):
    with browser(app) as ada, browser(app) as admin, browser(app) as visitor:
        sign_up(ada, "ada")
        claim(ada)
        vote(ada, VOTED)
        empty = visitor.get("/users/ada").text
        assert "No claimed papers yet." in empty  # pending claims are not shown
        log_in(admin, "root", "rootpass1")
        decide(admin, pending_ids(admin)[0], "approve")

        profile = visitor.get("/users/ada").text
        assert "Deep learning of representations" in profile
        assert "Upvoted by" not in profile and "Attention at scale" not in profile
        assert visitor.get("/api/users/ada").json()["upvotes"] is None
        assert 'name="show_upvotes" value="true">' in ada.get("/account").text  # unchecked

        assert show_upvotes(ada, True) == 303
        assert 'value="true" checked>' in ada.get("/account").text
        shown = visitor.get("/users/ada").text
        assert "Upvoted by @ada" in shown and "Attention at scale" in shown
        api = visitor.get("/api/users/ada").json()
        assert [p["id"] for p in api["upvotes"]] == [VOTED]
        assert [p["id"] for p in api["claimed"]] == [PAPER]
        assert (api["username"], api["path"]) == ("ada", "/users/ada")

        assert show_upvotes(ada, False) == 303
        assert "Upvoted by" not in visitor.get("/users/ada").text


def test_the_upvote_switch_needs_a_session_and_the_csrf_token(app, db_url):
    with browser(app) as client:
        client.get("/login")
        assert show_upvotes(client, True) == 401
        sign_up(client, "ada")
        assert show_upvotes(client, True, token="forged") == 403
        assert "Upvoted by" not in client.get("/users/ada").text
        headers = {"Authorization": f"Bearer {api_token(db_url, 'ada')}"}
        switched = client.post("/api/me/profile", json={"show_upvotes": True}, headers=headers)
        assert switched.json() == {"show_upvotes": True}
        assert client.get("/api/users/ada").json()["upvotes"] == []
        assert client.post("/api/me/profile", json={"show_upvotes": True}).status_code == 401


def test_votes_an_admin_hid_are_not_shown(app, db_url):
    with browser(app) as ada, browser(app) as admin:
        sign_up(ada, "ada")
        vote(ada, VOTED)
        show_upvotes(ada, True)
        log_in(admin, "root", "rootpass1")
        admin.post(
            "/admin/users/ada/votes",
            data={"hidden": "true", "csrf_token": admin.cookies.get("pt_csrf")},
        )
        assert ada.get("/api/users/ada").json()["upvotes"] is None


def test_a_profile_lists_public_collections_only(app, db_url):
    from papertide.store import accounts, collections
    from papertide.store.engine import open_engine

    with browser(app) as ada, browser(app) as visitor:
        sign_up(ada, "ada")
        engine = open_engine(db_url)
        with engine.begin() as conn:
            ada_id = accounts.user_by_name(conn, "ada")["id"]
            collections.create(conn, ada_id, "Reading group <b>", "weekly picks", public=True)
            collections.create(conn, ada_id, "Secret drafts")
        engine.dispose()
        page = visitor.get("/users/ada").text
        assert "Reading group &lt;b&gt;" in page and "weekly picks" in page
        assert "Secret drafts" not in page
        listed = visitor.get("/api/users/ada").json()["collections"]
        assert [c["name"] for c in listed] == ["Reading group <b>"]

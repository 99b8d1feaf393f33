"""A paper an admin hid exists for admins only: 404 everywhere else, and it can be shown again."""

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES, index_database
from papertide.ingest.runner import import_file
from papertide.security import hash_password, new_token
from papertide.store import accounts
from papertide.store.engine import open_engine
from papertide.web.app import create_app
from test_web_accounts import csrf_of, log_in

PAPER = "2407.05528"  # in every fixture source, with similar papers around it


@pytest.fixture
def tokens(db_url, embedder):
    """API tokens of an admin (root) and a reader (ada), over indexed fixture papers."""
    engine = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml", "zotero.bib"):
        import_file(engine, FIXTURES / name)
    found = {}
    with engine.begin() as conn:
        for name, role in (("root", "admin"), ("ada", "user")):
            user = accounts.create_user(conn, name, hash_password("password123"), role)
            token, hashed = new_token()
            accounts.create_api_token(conn, hashed, user, "test")
            found[name] = {"Authorization": f"Bearer {token}"}
    engine.dispose()
    index_database(db_url)
    return found


@pytest.fixture
def app(db_url, tokens):
    return create_app(db_url)


def _hide(admin: TestClient, hidden: bool) -> None:
    token = csrf_of(admin, f"/papers/{PAPER}")
    response = admin.post(
        f"/admin/papers/{PAPER}/hide",
        data={"csrf_token": token, "hidden": str(hidden).lower()},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _answers_for_a_reader(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    token = client.cookies.get("pt_csrf") or csrf_of(client, "/")
    form = {"csrf_token": token}
    return {
        "page": client.get(f"/papers/{PAPER}").status_code,
        "api": client.get(f"/api/papers/{PAPER}", headers=headers).status_code,
        "similar": client.get(f"/api/papers/{PAPER}/similar", headers=headers).status_code,
        "vote form": client.post(f"/papers/{PAPER}/vote", data=form).status_code,
        "save form": client.post(
            f"/papers/{PAPER}/library", data={**form, "action": "save"}
        ).status_code,
        "vote api": client.post(f"/api/papers/{PAPER}/vote", headers=headers).status_code,
        "save api": client.post(
            f"/api/me/library/{PAPER}", json={"action": "save"}, headers=headers
        ).status_code,
    }


def _neighbour(client: TestClient) -> str:
    """A paper whose similar papers include PAPER."""
    for paper in client.get("/api/papers?limit=500").json():
        similar = client.get(f"/api/papers/{paper['id']}/similar?k=50").json()
        if PAPER in [hit["id"] for hit in similar]:
            return paper["id"]
    raise AssertionError(f"no paper has {PAPER} among its similar papers")


def _listed_anywhere(client: TestClient, neighbour: str) -> list[str]:
    places = {
        "list": "/api/papers?limit=500",
        "search": "/api/search?q=label+noise&mode=keyword",
        "similar": f"/api/papers/{neighbour}/similar?k=50",
        "feed": "/feeds/search.rss?q=label+noise&mode=keyword",
        "month": "/month/2024-07",
    }
    for topic in client.get("/api/topics").json():
        places[f"topic {topic['id']}"] = f"/api/topics/{topic['id']}?limit=500"
        places[f"topic page {topic['id']}"] = f"/topics/{topic['id']}"
    found = [name for name, url in places.items() if PAPER in client.get(url).text]
    return sorted({name.rsplit(" ", 1)[0] if name.startswith("topic") else name for name in found})


def test_hidden_paper_is_404_to_everyone_but_admins_on_every_route(app, tokens, cli):
    cli.run("topics", "build", "--k", "2")
    with TestClient(app) as admin, TestClient(app) as reader, TestClient(app) as anonymous:
        assert log_in(admin, "root", "password123") == 303
        assert log_in(reader, "ada", "password123") == 303
        assert reader.post(
            f"/api/me/library/{PAPER}", json={"action": "save"}, headers=tokens["ada"]
        ).json()["saved"]
        everywhere = sorted(["list", "search", "similar", "feed", "month", "topic", "topic page"])
        neighbour = _neighbour(anonymous)
        assert _listed_anywhere(anonymous, neighbour) == everywhere  # before it is hidden
        _hide(admin, True)
        for client, headers in ((reader, tokens["ada"]), (anonymous, {})):
            answers = _answers_for_a_reader(client, headers)
            expected = {name: 404 for name in answers}
            if client is anonymous:  # signed out: the forms and the API ask to log in first
                expected.update({"vote form": 401, "save form": 401, "vote api": 401})
                expected["save api"] = 401
            assert answers == expected
            assert _listed_anywhere(client, neighbour) == []
        assert PAPER not in reader.get("/api/me/library", headers=tokens["ada"]).text
        # admins still see it, marked, with the way back
        page = admin.get(f"/papers/{PAPER}")
        assert page.status_code == 200 and "Hidden: only admins see this paper" in page.text
        assert "Show this paper again" in page.text
        assert admin.get(f"/api/papers/{PAPER}", headers=tokens["root"]).json()["hidden"]


def test_hidden_paper_is_shown_again_through_the_web_and_the_api(app, tokens):
    with TestClient(app) as admin, TestClient(app) as anonymous:
        assert log_in(admin, "root", "password123") == 303
        _hide(admin, True)
        assert anonymous.get(f"/papers/{PAPER}").status_code == 404
        _hide(admin, False)
        assert anonymous.get(f"/papers/{PAPER}").status_code == 200
        assert "Hide this paper" in admin.get(f"/papers/{PAPER}").text

        url = f"/api/papers/{PAPER}/hidden"
        assert anonymous.put(url, json={"hidden": True}).status_code == 401
        assert anonymous.put(url, json={"hidden": True}, headers=tokens["ada"]).status_code == 403
        hidden = anonymous.put(url, json={"hidden": True}, headers=tokens["root"])
        assert hidden.json() == {"id": PAPER, "hidden": True}
        assert anonymous.get(f"/api/papers/{PAPER}").status_code == 404
        shown = anonymous.put(url, json={"hidden": False}, headers=tokens["root"])
        assert shown.json() == {"id": PAPER, "hidden": False}
        assert anonymous.get(f"/api/papers/{PAPER}").json()["hidden"] is False


def test_hidden_paper_shows_in_the_cli_marked_hidden(cli, tokens, db_url):
    engine = open_engine(db_url)
    with engine.begin() as conn:
        accounts.set_paper_hidden(conn, PAPER, True)
    engine.dispose()
    shown = cli.run("show", PAPER)
    assert shown.stdout.startswith("hidden: only admins see this paper")
    assert cli.json("show", PAPER)["hidden"] is True

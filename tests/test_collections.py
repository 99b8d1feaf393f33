"""Collections (issue 14, item 3): the store, the pages and forms, feeds, the JSON API, the
export downloads and `papertide export`, on SQLite and PostgreSQL."""

import json
import re

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from conftest import FIXTURES
from papertide.ingest.runner import import_file
from papertide.limits import MAX_COLLECTION_NAME, MAX_COLLECTIONS
from papertide.security import hash_password, new_token
from papertide.store import accounts, library
from papertide.store import collections as store
from papertide.store.engine import open_engine
from papertide.web.app import create_app
from test_links import assert_only_safe_links
from test_web_accounts import csrf_of, sign_up

HOSTILE_NAME = '<script>window.__xss=1</script> javascript:alert(1)'
HOSTILE_DESCRIPTION = '<img src=x onerror="window.__xss=2"> [x](javascript:alert(2)) "\'><b>'


@pytest.fixture
def engine(db_url):
    eng = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "zotero.bib"):
        import_file(eng, FIXTURES / name)
    yield eng
    eng.dispose()


def member(engine, name: str) -> tuple[int, str]:
    """A member and an API token of theirs."""
    token, hashed = new_token()
    with engine.begin() as conn:
        user_id = accounts.create_user(conn, name, hash_password("password123"))
        accounts.create_api_token(conn, hashed, user_id, "test")
    return user_id, token


def api(app, token: str | None = None) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(app, headers=headers)


# -- store -----------------------------------------------------------------------------------


def test_store_keeps_each_members_collections_apart(engine):
    alice, _ = member(engine, "alice")
    bob, _ = member(engine, "bob")
    with engine.begin() as conn:
        reading = store.create(conn, alice, "  Reading   list ", "first\nsecond", public=True)
        assert reading["name"] == "Reading list" and reading["description"] == "first\nsecond"
        assert store.add_paper(conn, alice, reading["id"], "2407.05528")
        assert not store.add_paper(conn, alice, reading["id"], "2407.05528")  # already there
        secret = store.create(conn, alice, "Secret", "")
        store.add_paper(conn, alice, secret["id"], "2611.00001")
        with pytest.raises(store.NotFound):  # bob cannot touch alice's collections
            store.add_paper(conn, bob, reading["id"], "2611.00002")
        with pytest.raises(store.NotFound):
            store.edit(conn, bob, reading["id"], name="mine now")
        with pytest.raises(store.NotFound):
            store.remove(conn, bob, secret["id"])
        with pytest.raises(store.CollectionError, match="already have"):
            store.create(conn, alice, "reading LIST")
        with pytest.raises(store.CollectionError, match="at most"):
            store.create(conn, alice, "x" * (MAX_COLLECTION_NAME + 1))
        with pytest.raises(store.CollectionError):
            store.create(conn, alice, " \u200f ")
        store.create(conn, bob, "Reading list")  # a name is per member
    with engine.connect() as conn:
        mine = store.of_user(conn, alice)
        assert [c["name"] for c in mine] == ["Saved", "Reading list", "Secret"]
        assert mine[0]["id"] == store.DEFAULT and mine[0]["default"]
        assert [c["name"] for c in store.public_collections(conn, alice)] == ["Reading list"]
        assert store.public_collections(conn, bob) == []
        assert store.visible(conn, reading["id"], None)["papers"] == 1
        assert store.visible(conn, secret["id"], alice)["name"] == "Secret"
        for viewer in (None, bob):
            with pytest.raises(store.NotFound):
                store.visible(conn, secret["id"], viewer)
        assert store.holding(conn, alice, ["2407.05528"]) == {"2407.05528": {reading["id"]}}


def test_the_library_is_the_default_collection_and_stays_the_library(engine):
    alice, _ = member(engine, "alice")
    with engine.begin() as conn:
        library.set_saved(conn, alice, "2611.00001", True)  # the Save button, as today
        assert store.add_paper(conn, alice, store.DEFAULT, "2407.05528")  # = Save
        default = store.owned(conn, alice, store.DEFAULT)
        assert default["papers"] == 2 and set(store.paper_ids(conn, default)) == {
            "2611.00001",
            "2407.05528",
        }
        assert library.signals(conn, alice).positive == ["2611.00001", "2407.05528"]
        assert store.remove_paper(conn, alice, store.DEFAULT, "2611.00001")  # = Unsave
        assert library.states(conn, alice, ["2611.00001"])["2611.00001"]["saved"] is False
        for change in (
            lambda: store.edit(conn, alice, store.DEFAULT, name="x"),
            lambda: store.remove(conn, alice, store.DEFAULT),
        ):
            with pytest.raises(store.CollectionError):
                change()
        with pytest.raises(store.CollectionError, match="library's name"):
            store.create(conn, alice, "saved")


def test_collection_counts_and_bounds(engine, monkeypatch):
    alice, _ = member(engine, "alice")
    monkeypatch.setattr(store, "MAX_COLLECTION_PAPERS", 1)
    with engine.begin() as conn:
        for n in range(MAX_COLLECTIONS):
            store.create(conn, alice, f"c{n}")
        with pytest.raises(store.CollectionError, match=f"at most {MAX_COLLECTIONS}"):
            store.create(conn, alice, "one too many")
        first = store.of_user(conn, alice)[1]["id"]
        store.add_paper(conn, alice, first, "2611.00001")
        with pytest.raises(store.CollectionError, match="at most 1 papers"):
            store.add_paper(conn, alice, first, "2611.00002")


def test_a_paper_keeps_its_collections_when_its_id_improves(db_url, tmp_path):
    engine = open_engine(db_url)
    title_only = tmp_path / "a.jsonl"
    title_only.write_text(json.dumps({"title": "A paper first seen without ids"}) + "\n")
    import_file(engine, title_only)
    alice, _ = member(engine, "alice")
    with engine.begin() as conn:
        mine = store.create(conn, alice, "Later")
        old_id = conn.exec_driver_sql("SELECT id FROM papers").scalar_one()
        store.add_paper(conn, alice, mine["id"], old_id)
    with_id = tmp_path / "b.jsonl"
    line = {"title": "A paper first seen without ids", "arxiv_id": "2611.09999"}
    with_id.write_text(json.dumps(line) + "\n")
    import_file(engine, with_id)
    with engine.connect() as conn:
        assert store.paper_ids(conn, store.owned(conn, alice, mine["id"])) == ["2611.09999"]
    engine.dispose()


# -- pages and forms -------------------------------------------------------------------------


def post_form(client: TestClient, path: str, **fields):
    fields["csrf_token"] = client.cookies.get("pt_csrf")
    return client.post(path, data=fields, follow_redirects=False)


def test_collections_in_the_browser_forms(engine, db_url):
    app = create_app(db_url)
    client = TestClient(app)
    sign_up(client, "carol")
    csrf_of(client, "/collections")
    made = post_form(client, "/collections", name=HOSTILE_NAME, description=HOSTILE_DESCRIPTION,
                     public="true")  # fmt: skip
    assert made.status_code == 303
    url = made.headers["location"]
    assert re.fullmatch(r"/collections/\d+", url)
    ref = url.rsplit("/", 1)[1]
    # every list card and paper page offers the collection
    day = client.get("/day/2026-11-20").text
    assert f'<option value="{ref}">' in day and "&lt;script&gt;" in day
    added = post_form(client, "/collections/papers", collection=ref, paper_id="2611.00001",
                      action="add")  # fmt: skip
    assert added.status_code == 303
    post_form(client, "/collections/papers", collection="library", paper_id="2407.05528")
    mine = client.get("/export/collections/library?format=ris")  # "For you"'s export button
    assert mine.status_code == 200 and "AN  - 2407.05528" in mine.text
    paper = client.get("/papers/2611.00001").text
    assert f'href="/collections/{ref}"' in paper.split("<form class=\"collect\"")[0]
    page = client.get(url)
    assert page.status_code == 200 and "Sparse Mixtures of Tiny Experts" in page.text
    assert "<script>window" not in page.text and "onerror=" not in page.text.replace(
        "onerror=&#34;", ""
    )
    assert_only_safe_links(page.text)
    tree = lxml_html.fromstring(page.text)
    assert tree.xpath('//h1[@class="collection-name"]')[0].text_content() == HOSTILE_NAME
    assert tree.xpath('//p[@class="description"]')[0].text_content() == HOSTILE_DESCRIPTION
    exports = [a.get("href") for a in tree.xpath('//p[@class="exports"]/a')]
    formats = ("bibtex", "csl-json", "ris")
    assert exports == [f"/export/collections/{ref}?format={f}" for f in formats]
    # anyone may see a public collection, signed in or not, with its feeds
    anonymous = TestClient(app)
    assert anonymous.get(url).status_code == 200
    feed = feedparser.parse(anonymous.get(f"/feeds/collections/{ref}.atom").text)
    assert not feed.bozo and feed.entries[0].title.startswith("Sparse Mixtures")
    rss = anonymous.get(f"/feeds/collections/{ref}.rss")
    assert rss.headers["content-type"].startswith("application/rss+xml")
    assert HOSTILE_NAME.split(">")[0] not in rss.text  # escaped in XML
    # made private: a 404 to everyone else, like a collection that does not exist
    edited = post_form(client, f"/collections/{ref}/edit", name="Quiet", description="")
    assert edited.status_code == 303
    assert client.get(url).status_code == 200 and "Private" in client.get(url).text
    hidden = (url, f"/feeds/collections/{ref}.atom", f"/export/collections/{ref}")
    for path in (*hidden, "/collections/999999"):
        answer = anonymous.get(path)
        assert answer.status_code == 404, path
    other = TestClient(app)
    sign_up(other, "dave")
    assert other.get(url).status_code == 404
    csrf_of(other, "/collections")
    # and nobody else may change it: every write answers as for a collection that is not there
    for path, fields in (
        ("/collections/papers", {"collection": ref, "paper_id": "2611.00002"}),
        (f"/collections/{ref}/edit", {"name": "taken over"}),
        (f"/collections/{ref}/delete", {}),
    ):
        assert post_form(other, path, **fields).status_code == 404, path
    assert "Quiet" in client.get(url).text and "Tiny Experts" in client.get(url).text
    # forms need the CSRF token
    assert client.post("/collections", data={"name": "x"}).status_code == 403
    assert post_form(client, f"/collections/{ref}/delete").status_code == 303
    assert client.get(url).status_code == 404


def test_collection_forms_refuse_bad_input_with_a_message(engine, db_url):
    client = TestClient(create_app(db_url))
    sign_up(client, "erin")
    csrf_of(client, "/collections")
    too_long = post_form(client, "/collections", name="x" * 5000)
    assert too_long.status_code == 400 and "at most 100 characters" in too_long.text
    assert post_form(client, "/collections", name="").status_code == 400
    odd = post_form(client, "/collections/papers", collection="../../x", paper_id="2611.00001")
    assert odd.status_code == 404
    unknown = post_form(client, "/collections/papers", collection="library", paper_id="nope")
    assert unknown.status_code == 404
    assert post_form(client, "/collections/papers", collection="library", paper_id="2611.00001",
                     action="explode").status_code == 400  # fmt: skip
    assert post_form(client, "/collections/library/delete").status_code == 400
    signed_out = TestClient(create_app(db_url)).get("/collections", follow_redirects=False)
    assert signed_out.status_code == 303


# -- JSON API --------------------------------------------------------------------------------


def test_collections_api_with_a_token(engine, db_url):
    app = create_app(db_url)
    _alice, token = member(engine, "alice")
    _bob, bob_token = member(engine, "bob")
    alice_api, bob_api, anonymous = api(app, token), api(app, bob_token), api(app)
    assert anonymous.get("/api/me/collections").status_code == 401
    listed = alice_api.get("/api/me/collections").json()
    assert listed == [
        {
            "id": "library",
            "name": "Saved",
            "description": store.DEFAULT_DESCRIPTION,
            "public": False,
            "default": True,
            "owner": "alice",
            "papers": 0,
            "url": "/collections/library",
        }
    ]
    made = alice_api.post("/api/me/collections", json={"name": "Diffusion", "public": True})
    assert made.status_code == 200
    ref = made.json()["id"]
    assert made.json()["url"] == f"/collections/{ref}"
    put = alice_api.put(f"/api/me/collections/{ref}/papers/arXiv:2611.00001v2")
    assert put.json() == {"collection": ref, "paper": "2611.00001", "member": True, "changed": True}
    assert alice_api.put(f"/api/me/collections/{ref}/papers/2611.00001").json()["changed"] is False
    saved = alice_api.put("/api/me/collections/library/papers/2407.05528").json()
    assert saved["collection"] == "library" and saved["changed"]
    assert alice_api.get("/api/me/library").json()[0]["paper_id"] == "2407.05528"  # = saved
    detail = anonymous.get(f"/api/collections/{ref}").json()
    assert [p["id"] for p in detail["items"]] == ["2611.00001"] and detail["owner"] == "alice"
    public = anonymous.get("/api/users/alice/collections").json()
    assert [c["name"] for c in public] == ["Diffusion"]
    renamed = alice_api.patch(f"/api/me/collections/{ref}", json={"name": "Quiet", "public": False})
    assert renamed.json()["name"] == "Quiet" and renamed.json()["public"] is False
    assert anonymous.get(f"/api/collections/{ref}").status_code == 404  # private now
    assert bob_api.get(f"/api/collections/{ref}").status_code == 404
    assert alice_api.get(f"/api/collections/{ref}").status_code == 200
    assert anonymous.get("/api/users/alice/collections").json() == []
    assert anonymous.get("/api/users/nobody/collections").status_code == 404
    # someone else's collection: every write is a 404 and changes nothing
    for call in (
        lambda: bob_api.put(f"/api/me/collections/{ref}/papers/2611.00002"),
        lambda: bob_api.delete(f"/api/me/collections/{ref}/papers/2611.00001"),
        lambda: bob_api.patch(f"/api/me/collections/{ref}", json={"public": True}),
        lambda: bob_api.delete(f"/api/me/collections/{ref}"),
        lambda: bob_api.get(f"/api/me/collections/{ref}"),
    ):
        assert call().status_code == 404
    assert [p["id"] for p in alice_api.get(f"/api/me/collections/{ref}").json()["items"]] == [
        "2611.00001"
    ]
    assert alice_api.post("/api/me/collections", json={"name": "y" * 101}).status_code == 400
    assert alice_api.post("/api/me/collections", json={"name": "quiet"}).status_code == 400
    assert alice_api.patch("/api/me/collections/library", json={"name": "z"}).status_code == 400
    assert alice_api.put(f"/api/me/collections/{ref}/papers/no-such-paper").status_code == 404
    assert alice_api.get("/api/me/collections/abc").status_code == 404
    removed = alice_api.delete(f"/api/me/collections/{ref}/papers/2611.00001").json()
    assert removed == {"collection": ref, "paper": "2611.00001", "member": False, "changed": True}
    assert alice_api.delete(f"/api/me/collections/{ref}").status_code == 204
    assert alice_api.get(f"/api/me/collections/{ref}").status_code == 404


# -- exports ---------------------------------------------------------------------------------


def test_export_downloads(engine, db_url):
    app = create_app(db_url)
    alice, token = member(engine, "alice")
    with engine.begin() as conn:
        shared = store.create(conn, alice, "Shared", public=True)["id"]
        store.add_paper(conn, alice, shared, "2611.00002")
        library.set_saved(conn, alice, "2407.05528", True)
    anonymous, alice_api = api(app), api(app, token)
    bib = anonymous.get("/export/papers/2611.00002?format=bibtex")
    assert bib.status_code == 200
    assert bib.headers["content-type"] == "application/x-bibtex; charset=utf-8"
    assert bib.headers["content-disposition"] == 'attachment; filename="2611.00002.bib"'
    assert "eprint = {2611.00002}" in bib.text and "$\\alpha$-Divergence" in bib.text
    csl = anonymous.get(f"/export/collections/{shared}?format=csl-json")
    assert csl.headers["content-type"] == "application/vnd.citationstyles.csl+json"
    assert csl.headers["content-disposition"] == f'attachment; filename="collection-{shared}.json"'
    assert [i["id"] for i in csl.json()] == ["2611.00002"]
    ris = alice_api.get("/export/collections/library?format=ris")
    assert ris.headers["content-type"] == "application/x-research-info-systems"
    assert ris.headers["content-disposition"] == 'attachment; filename="alice-library.ris"'
    assert "AN  - 2407.05528" in ris.text
    assert anonymous.get("/export/collections/library?format=ris").status_code == 404
    assert anonymous.get("/export/papers/2611.00002?format=docx").status_code == 400
    assert anonymous.get("/export/papers/1999.99999").status_code == 404
    doi = anonymous.get("/export/papers/10.1007/BF01700692?format=ris")
    assert doi.status_code == 200 and 'filename="doi-10.1007-bf01700692.ris"' in (
        doi.headers["content-disposition"]
    )


def test_search_export_follows_the_search(engine, db_url):
    from conftest import index_database

    index_database(db_url)
    client = TestClient(create_app(db_url))
    found = client.get("/export/search?q=tiny experts&mode=keyword&format=csl-json")
    assert found.status_code == 200 and found.json()[0]["id"] == "2611.00001"
    assert 'filename="search-tiny-experts.json"' in found.headers["content-disposition"]
    page = client.get("/search?q=tiny+experts&mode=keyword").text
    assert "/export/search?q=tiny%20experts&amp;mode=keyword" in page
    assert client.get("/export/search?q=x&format=pdf").status_code == 400


# -- CLI -------------------------------------------------------------------------------------


def test_export_command(engine, cli, tmp_path):
    alice, _ = member(engine, "alice")
    with engine.begin() as conn:
        mine = store.create(conn, alice, "Private one")["id"]
        store.add_paper(conn, alice, mine, "2611.00001")
        library.set_saved(conn, alice, "2407.05528", True)
    out = tmp_path / "lib.bib"
    done = cli.run("export", "library", "--user", "alice", "--format", "bibtex", "-o", str(out))
    assert "eprint = {2407.05528}" in out.read_text() and "1 paper(s) as bibtex" in done.stderr
    shown = cli.run("export", "collection", str(mine), "--format", "ris")
    assert "AN  - 2611.00001" in shown.stdout
    same = cli.run("export", "collection", "library", "--user", "alice", "-f", "csl-json")
    assert json.loads(same.stdout)[0]["id"] == "2407.05528"
    paper = cli.run("export", "paper", "2611.00002", "10.1007/BF01700692", "-f", "csl-json")
    assert [i["id"] for i in json.loads(paper.stdout)] == ["2611.00002", "doi:10.1007/bf01700692"]
    for args in (
        ("export", "paper", "2611.00002", "--format", "docx"),
        ("export", "paper", "1999.99999"),
        ("export", "collection", "library"),
        ("export", "collection", "12345"),
        ("export", "collection", str(mine), "--user", "nobody"),
        ("export", "library", "--user", "nobody"),
    ):
        failed = cli.run(*args, check=False)
        assert failed.returncode == 2 and failed.stderr.startswith("error:"), (args, failed)
    member(engine, "bob")
    other = cli.run("export", "collection", str(mine), "--user", "bob", check=False)
    assert other.returncode == 2 and "of bob" in other.stderr


def test_export_search_takes_the_search_commands_filters(engine, cli):
    cli.run("index", "--keyword-only")

    def exported(*options: str) -> list[str]:
        found = cli.run("export", "search", "tiny experts", "--mode", "keyword", *options)
        return [item["id"] for item in json.loads(found.stdout)]

    assert exported("-f", "csl-json")[0] == "2611.00001"
    assert exported("-f", "csl-json", "--author", "Lovelace") == ["2611.00001"]
    assert exported("-f", "csl-json", "--author", "Hopper", "-k", "5") == []
    assert exported("-f", "csl-json", "--until", "2000-01-01") == []


def test_names_differing_only_in_case_are_one_name_whatever_the_script(engine):
    """SQLite's lower() folds ASCII only: 'ÐR' and 'ðr' must still count as one name (found by
    schemathesis as a 500 from the unique key)."""
    alice, _ = member(engine, "alice")
    with engine.begin() as conn:
        store.create(conn, alice, "WCÐRñ")
        with pytest.raises(store.CollectionError, match="already have"):
            store.create(conn, alice, "wcðrÑ")
        with pytest.raises(store.CollectionError, match="already have"):
            store.create(conn, alice, "WCÐRñ")


def test_a_hidden_paper_leaves_every_collection_view(engine, db_url):
    alice, _ = member(engine, "alice")
    with engine.begin() as conn:
        shared = store.create(conn, alice, "Shared", public=True)["id"]
        for paper_id in ("2611.00001", "2611.00002"):
            store.add_paper(conn, alice, shared, paper_id)
        accounts.set_paper_hidden(conn, "2611.00002", True)
    client = api(create_app(db_url))
    assert "Calibrated Uncertainty" not in client.get(f"/collections/{shared}").text
    assert "Tiny Experts" in client.get(f"/collections/{shared}").text
    assert [p["id"] for p in client.get(f"/api/collections/{shared}").json()["items"]] == [
        "2611.00001"
    ]
    assert "2611.00002" not in client.get(f"/feeds/collections/{shared}.atom").text
    assert "2611.00002" not in client.get(f"/export/collections/{shared}?format=ris").text
    assert client.get("/api/users/alice/collections").json()[0]["papers"] == 1


def test_a_paper_whose_id_improves_takes_every_row_that_refers_to_it(db_url, tmp_path):
    """Comments, derived extracts and collection entries (tables added by later features)
    follow a paper renamed to its arXiv id: the rename moves every column that refers to it."""
    from datetime import datetime

    from papertide.store import comments, extracts

    engine = open_engine(db_url)
    title_only = tmp_path / "a.jsonl"
    title_only.write_text(json.dumps({"title": "A paper that gains its id later"}) + "\n")
    import_file(engine, title_only)
    alice, _ = member(engine, "alice")
    with engine.begin() as conn:
        old_id = conn.exec_driver_sql("SELECT id FROM papers").scalar_one()
        comments.post(conn, old_id, alice, "first!", datetime(2026, 1, 1), per_hour=10)
        extracts.save(
            conn,
            [
                {
                    "paper_id": old_id,
                    "content_hash": "0" * 16,
                    "keywords": ["gains"],
                    "keyword_method": "tfidf",
                    "summary": "A paper.",
                    "summary_kind": "extractive",
                    "summary_model": None,
                    "summary_error": None,
                }
            ],
        )
        mine = store.create(conn, alice, "Later")
        store.add_paper(conn, alice, mine["id"], old_id)
    with_id = tmp_path / "b.jsonl"
    line = {"title": "A paper that gains its id later", "arxiv_id": "2611.09998"}
    with_id.write_text(json.dumps(line) + "\n")
    import_file(engine, with_id)  # failed on the comments' foreign key before
    with engine.connect() as conn:
        assert [c["body"] for c in comments.thread(conn, "2611.09998")] == ["first!"]
        assert extracts.of_papers(conn, ["2611.09998"])["2611.09998"]["keywords"] == ["gains"]
        assert store.paper_ids(conn, store.owned(conn, alice, mine["id"])) == ["2611.09998"]
    engine.dispose()

"""Discussions on papers: the store's rules, the forms (CSRF, sign-in, ownership, the rate
limit), admins' hiding and reports, and the JSON API with its comment counts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from conftest import FIXTURES
from papertide.clock import FixedClock
from papertide.config import Settings
from papertide.ingest.runner import import_file
from papertide.security import hash_password, new_token
from papertide.store import accounts, comments
from papertide.store.engine import open_engine
from papertide.web.app import create_app
from test_web_accounts import csrf_of, log_in

PAPER = "2611.00005"  # of 2026-11-22 in hf_daily.json
OTHER = "2407.05528"
START = datetime(2026, 11, 22, 12, 0)
PASSWORD = "password123"


@dataclass
class Site:
    app: object
    clock: FixedClock
    engine: object
    tokens: dict

    def member(self, name: str) -> TestClient:
        client = TestClient(self.app, base_url="http://testserver")
        assert log_in(client, name, PASSWORD) == 303
        return client

    def api(self, name: str | None = None) -> TestClient:
        headers = {"Authorization": f"Bearer {self.tokens[name]}"} if name else {}
        return TestClient(self.app, base_url="http://testserver", headers=headers)


def make_site(db_url: str, **settings) -> Site:
    engine = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json"):
        import_file(engine, FIXTURES / name)
    tokens = {}
    hashed = hash_password(PASSWORD)
    with engine.begin() as conn:
        for name, role in (("root", "admin"), ("ada", "user"), ("bob", "user")):
            user_id = accounts.create_user(conn, name, hashed, role)
            token, token_hash = new_token()
            accounts.create_api_token(conn, token_hash, user_id, "test")
            tokens[name] = token
    clock = FixedClock(START)
    app = create_app(Settings.load(db=db_url, **settings), clock)
    return Site(app, clock, engine, tokens)


@pytest.fixture
def site(db_url):
    made = make_site(db_url)
    yield made
    made.engine.dispose()


def post_form(client: TestClient, path: str, **data) -> object:
    token = client.cookies.get("pt_csrf") or csrf_of(client, f"/papers/{PAPER}")
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def comment_on(client: TestClient, body: str, paper: str = PAPER, **extra) -> int:
    response = post_form(client, f"/papers/{paper}/comments", body=body, **extra)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"/papers/{paper}#comment-")
    return int(location.rsplit("-", 1)[1])


def discussion_of(client: TestClient, paper: str = PAPER) -> lxml_html.HtmlElement:
    page = lxml_html.fromstring(client.get(f"/papers/{paper}").text)
    (section,) = page.xpath("//section[@id='discussion']")
    return section


def stored(site: Site, comment_id: int) -> dict:
    with site.engine.connect() as conn:
        return comments.get(conn, comment_id)


def test_post_reply_edit_and_delete_through_the_forms(site):
    ada, bob = site.member("ada"), site.member("bob")
    first = comment_on(
        ada, "Nice *result*: $E=mc^2$ holds, see [the code](https://github.com/x/y)."
    )
    section = discussion_of(bob)
    comment = section.get_element_by_id(f"comment-{first}")
    assert comment.xpath(".//strong[@class='author']/text()") == ["ada"]
    body = lxml_html.tostring(comment.find_class("comment-body")[0], encoding="unicode")
    assert "<em>result</em>" in body and '<span class="math">$E=mc^2$</span>' in body
    assert 'href="https://github.com/x/y" rel="nofollow ugc"' in body

    site.clock.advance(minutes=5)
    reply = comment_on(bob, "Agreed, and `code` too.", parent_id=str(first))
    assert stored(site, reply)["parent_id"] == first
    reply_node = discussion_of(ada).get_element_by_id(f"comment-{reply}")
    assert reply_node.getparent().get("class") == "replies"

    site.clock.advance(minutes=30)
    edited = post_form(ada, f"/comments/{first}/edit", body="Nice **result**, edited.")
    assert edited.status_code == 303
    marker = discussion_of(bob).get_element_by_id(f"comment-{first}").find_class("edited")[0]
    assert marker.text_content().strip() == "edited 2026-11-22 12:35 UTC"
    assert stored(site, first)["edited_at"] == START + timedelta(minutes=35)

    assert post_form(ada, f"/comments/{first}/delete").status_code == 303
    section = discussion_of(bob)
    gone = section.get_element_by_id(f"comment-{first}")
    assert gone.find_class("gone")[0].text == "[deleted]"
    assert "edited" not in gone.text_content() and not gone.find_class("comment-body")
    assert section.get_element_by_id(f"comment-{reply}") is not None  # the reply stays
    assert stored(site, first)["body"] == ""  # the text is gone, not just hidden

    assert post_form(bob, f"/comments/{reply}/delete").status_code == 303
    assert "No comments yet." in discussion_of(bob).text_content()  # nothing left to show


def test_every_comment_form_needs_a_matching_csrf_token(site):
    ada = site.member("ada")
    first = comment_on(ada, "mine")
    forms = {
        f"/papers/{PAPER}/comments": {"body": "forged"},
        f"/comments/{first}/edit": {"body": "forged"},
        f"/comments/{first}/delete": {},
        f"/comments/{first}/report": {"reason": "forged"},
        f"/admin/comments/{first}/hide": {"hidden": "true"},
    }
    root = site.member("root")
    for client in (ada, root):
        for path, data in forms.items():
            for token in ({}, {"csrf_token": "forged"}):
                response = client.post(path, data={**data, **token}, follow_redirects=False)
                assert response.status_code == 403, path
    with site.engine.connect() as conn:
        assert [c["body"] for c in comments.thread(conn, PAPER, admin=True)] == ["mine"]
        assert comments.reports(conn) == []


def test_signed_out_visitors_read_but_cannot_write(site):
    first = comment_on(site.member("ada"), "visible to all")
    visitor = TestClient(site.app, base_url="http://testserver")
    section = discussion_of(visitor)
    assert "visible to all" in section.text_content()
    assert not section.xpath(".//form") and section.xpath(".//a[@href='/login']")
    assert discussion_of(site.member("bob")).xpath(".//textarea/@maxlength")[0] == "10000"
    for path, data in (
        (f"/papers/{PAPER}/comments", {"body": "anonymous"}),
        (f"/comments/{first}/edit", {"body": "anonymous"}),
        (f"/comments/{first}/delete", {}),
        (f"/comments/{first}/report", {"reason": "x"}),
    ):
        assert post_form(visitor, path, **data).status_code == 401, path
    api = site.api()
    assert api.get(f"/api/papers/{PAPER}/comments").status_code == 200
    assert api.post(f"/api/papers/{PAPER}/comments", json={"body": "x"}).status_code == 401
    assert api.post(f"/api/comments/{first}/replies", json={"body": "x"}).status_code == 401
    assert api.patch(f"/api/comments/{first}", json={"body": "x"}).status_code == 401
    assert api.delete(f"/api/comments/{first}").status_code == 401
    forged = TestClient(site.app, headers={"Authorization": "Bearer not-a-token"})
    assert forged.post(f"/api/papers/{PAPER}/comments", json={"body": "x"}).status_code == 401
    assert stored(site, first)["body"] == "visible to all"


def test_another_members_comment_cannot_be_changed(site):
    first = comment_on(site.member("ada"), "ada's words")
    bob = site.member("bob")
    mine = comment_on(bob, "bob's words")
    assert post_form(bob, f"/comments/{first}/edit", body="bob's now").status_code == 403
    assert post_form(bob, f"/comments/{first}/delete").status_code == 403
    assert post_form(bob, f"/admin/comments/{first}/hide", hidden="true").status_code == 403
    api = site.api("bob")
    assert api.patch(f"/api/comments/{first}", json={"body": "bob's now"}).status_code == 403
    assert api.delete(f"/api/comments/{first}").status_code == 403
    # an admin hides, but does not edit or delete, a member's words either
    root = site.api("root")
    assert root.patch(f"/api/comments/{first}", json={"body": "root's"}).status_code == 403
    assert root.delete(f"/api/comments/{first}").status_code == 403
    assert stored(site, first)["body"] == "ada's words" and stored(site, first)["edited_at"] is None
    # bob's page offers him edit and delete on his comment only, and report on ada's
    section = discussion_of(bob)
    actions = {
        cid: section.get_element_by_id(f"comment-{cid}").xpath(".//form/@action")
        for cid in (first, mine)
    }
    assert actions[first] == [f"/comments/{first}/report"]
    assert actions[mine] == [f"/comments/{mine}/edit", f"/comments/{mine}/delete"]


def test_comments_per_hour_are_limited_with_the_injected_clock(db_url):
    site = make_site(db_url, comments_per_hour=3)
    try:
        ada = site.api("ada")
        made = [ada.post(f"/api/papers/{PAPER}/comments", json={"body": f"n{i}"}) for i in range(3)]
        assert [r.status_code for r in made] == [201, 201, 201]
        assert ada.delete(f"/api/comments/{made[0].json()['id']}").status_code == 204
        over = ada.post(f"/api/papers/{PAPER}/comments", json={"body": "one more"})
        assert over.status_code == 429 and "3 comments an hour" in over.json()["detail"]
        reply = ada.post(f"/api/comments/{made[1].json()['id']}/replies", json={"body": "r"})
        assert reply.status_code == 429  # replies count too; deleting freed nothing
        # the form keeps the text the member wrote, with the reason
        form = post_form(site.member("ada"), f"/papers/{PAPER}/comments", body="my long draft")
        assert form.status_code == 429
        page = lxml_html.fromstring(form.text)
        assert page.xpath("//section[@id='discussion']//p[@role='alert']")
        assert "my long draft" in page.xpath("//textarea/text()")
        # another member is not limited by ada's comments
        assert (
            site.api("bob").post(f"/api/papers/{PAPER}/comments", json={"body": "b"}).status_code
            == 201
        )
        site.clock.advance(minutes=59)
        assert ada.post(f"/api/papers/{PAPER}/comments", json={"body": "x"}).status_code == 429
        site.clock.advance(minutes=2)  # an hour after the first three
        assert ada.post(f"/api/papers/{PAPER}/comments", json={"body": "x"}).status_code == 201
    finally:
        site.engine.dispose()


def test_admins_hide_comments_and_read_members_reports(site):
    first = comment_on(site.member("ada"), "Buy cheap pills at https://spam.example")
    reply = comment_on(site.member("root"), "a reply", parent_id=str(first))
    bob = site.member("bob")
    reported = post_form(bob, f"/comments/{first}/report", reason="spam <b>obviously</b>")
    assert reported.status_code == 200 and "Comment reported" in reported.text
    assert post_form(bob, f"/comments/{first}/report", reason="again").status_code == 200
    assert post_form(site.member("ada"), f"/comments/{first}/report").status_code == 400  # own
    assert bob.get("/admin/reports").status_code == 403
    root = site.member("root")
    page = lxml_html.fromstring(root.get("/admin/reports").text)
    (entry,) = page.find_class("report-entry")
    assert entry.xpath(".//li/text()") == ["bob: spam <b>obviously</b>"]  # once, as text
    assert "Buy cheap pills" in entry.text_content()
    assert entry.xpath(".//a/@href") == [f"/papers/{PAPER}#comment-{first}"]

    assert post_form(root, f"/admin/comments/{first}/hide", hidden="true").status_code == 303
    for reader in (bob, TestClient(site.app)):
        section = discussion_of(reader)
        assert "cheap pills" not in section.text_content()
        placeholder = section.get_element_by_id(f"comment-{first}")  # kept for its reply
        assert placeholder.find_class("gone")[0].text == "[hidden]"
        assert section.get_element_by_id(f"comment-{reply}") is not None
    assert discussion_of(root).xpath(".//a[@href='/admin/reports']")
    assert not discussion_of(bob).xpath(".//a[@href='/admin/reports']")
    admin_view = discussion_of(root).get_element_by_id(f"comment-{first}")
    assert "cheap pills" in admin_view.text_content()
    assert "hidden by an admin" in admin_view.text_content()
    assert site.api().get(f"/api/papers/{PAPER}").json()["num_comments"] == 1  # the reply
    api_first = site.api().get(f"/api/papers/{PAPER}/comments").json()[0]
    assert api_first["hidden"] and api_first["body"] == "" and api_first["author"] is None
    assert site.api("root").get(f"/api/papers/{PAPER}/comments").json()[0]["body"]
    assert post_form(bob, f"/comments/{first}/report", reason="x").status_code == 404
    assert post_form(root, f"/admin/comments/{first}/hide", hidden="false").status_code == 303
    assert "cheap pills" in discussion_of(bob).text_content()


def test_the_json_api_lists_posts_replies_edits_and_deletes(site):
    ada, bob = site.api("ada"), site.api("bob")
    made = ada.post(f"/api/papers/{PAPER}/comments", json={"body": "Is $\\alpha_1$ *fixed*?"})
    assert made.status_code == 201
    top = made.json()
    assert top["author"] == "ada" and top["parent_id"] is None and top["replies"] == []
    assert top["html"] == '<p>Is <span class="math">$\\alpha_1$</span> <em>fixed</em>?</p>\n'
    assert top["created_at"] == "2026-11-22T12:00:00Z" and top["edited_at"] is None
    answer = bob.post(f"/api/comments/{top['id']}/replies", json={"body": "Yes."})
    assert answer.status_code == 201 and answer.json()["parent_id"] == top["id"]
    deeper = ada.post(f"/api/comments/{answer.json()['id']}/replies", json={"body": "no"})
    assert deeper.status_code == 400 and "one level" in deeper.json()["detail"]
    assert ada.post("/api/comments/999999/replies", json={"body": "x"}).status_code == 404

    site.clock.advance(hours=1)
    changed = ada.patch(f"/api/comments/{top['id']}", json={"body": "Is it fixed?"})
    assert changed.status_code == 200 and changed.json()["edited_at"] == "2026-11-22T13:00:00Z"
    (listed,) = site.api().get(f"/api/papers/{PAPER}/comments").json()
    assert listed["body"] == "Is it fixed?" and [r["body"] for r in listed["replies"]] == ["Yes."]

    assert ada.delete(f"/api/comments/{top['id']}").status_code == 204
    assert ada.delete(f"/api/comments/{top['id']}").status_code == 404  # already gone
    assert ada.patch(f"/api/comments/{top['id']}", json={"body": "back"}).status_code == 404
    (listed,) = site.api().get(f"/api/papers/{PAPER}/comments").json()
    assert listed["deleted"] and listed["body"] == listed["html"] == ""
    assert listed["author"] is None and len(listed["replies"]) == 1
    reply_to_deleted = bob.post(f"/api/comments/{top['id']}/replies", json={"body": "x"})
    assert reply_to_deleted.status_code == 404


def test_bad_comment_input_is_a_4xx_never_a_500(site):
    ada = site.api("ada")
    path = f"/api/papers/{PAPER}/comments"
    assert ada.post(path, json={"body": ""}).status_code == 422
    assert ada.post(path, json={"body": "x" * 10_001}).status_code == 422
    assert ada.post(path, json={"body": " \n\u202e\n "}).status_code == 400
    assert ada.post(path, json={"nobody": 1}).status_code == 422
    assert (
        ada.post(
            path, content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )
    assert ada.post("/api/papers/no-such-paper/comments", json={"body": "x"}).status_code == 404
    assert ada.patch("/api/comments/not-a-number", json={"body": "x"}).status_code == 422
    assert ada.delete(f"/api/comments/{2**70}").status_code == 422
    assert ada.delete("/api/comments/0").status_code == 422
    member = site.member("ada")
    assert post_form(member, f"/papers/{PAPER}/comments", body="").status_code == 400
    assert post_form(member, f"/papers/{PAPER}/comments", body="y" * 20_001).status_code == 400
    odd = post_form(member, f"/papers/{PAPER}/comments", body="ok", parent_id="x")
    assert odd.status_code == 422
    assert post_form(member, "/comments/12345/edit", body="x").status_code == 404


def test_hostile_comment_text_reaches_pages_inert(site):
    hostile = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) "
        "[y](data:text/html,<script>alert(4)</script>) $</span><script>alert(5)</script>$"
    )
    comment_on(site.member("ada"), hostile)
    section = discussion_of(site.member("bob"))
    assert not section.xpath(".//script | .//img | .//*[@onerror]")
    hrefs = section.xpath(".//div[@class='comment-body']//a/@href")
    assert hrefs == []
    assert "<script>alert(1)</script>" in section.text_content()  # shown, as text


def test_comments_on_a_hidden_paper_are_as_hidden_as_it(site):
    first = comment_on(site.member("ada"), "about to vanish")
    with site.engine.begin() as conn:
        accounts.set_paper_hidden(conn, PAPER, True)
    ada = site.member("ada")
    assert ada.get(f"/api/papers/{PAPER}/comments").status_code == 404
    assert (
        site.api("ada").post(f"/api/papers/{PAPER}/comments", json={"body": "x"}).status_code == 404
    )
    assert post_form(ada, f"/comments/{first}/edit", body="x").status_code == 404
    assert post_form(ada, f"/papers/{PAPER}/comments", body="x").status_code == 404
    assert site.api("root").get(f"/api/papers/{PAPER}/comments").status_code == 200


def test_comment_counts_in_every_paper_json(site):
    ada = site.api("ada")
    ids = [
        ada.post(f"/api/papers/{PAPER}/comments", json={"body": f"c{i}"}).json()["id"]
        for i in range(3)
    ]
    site.api("bob").post(f"/api/comments/{ids[0]}/replies", json={"body": "r"})
    ada.delete(f"/api/comments/{ids[2]}")
    ada.post(f"/api/papers/{OTHER}/comments", json={"body": "elsewhere"})
    with site.engine.connect() as conn:
        assert comments.comment_counts(conn, [PAPER, OTHER, "none"]) == {PAPER: 3, OTHER: 1}
    visitor = site.api()
    daily = {
        i["paper"]["id"]: i["numComments"]
        for i in visitor.get("/api/daily_papers?date=2026-11-22").json()
    }
    assert daily[PAPER] == 3
    listed = {p["id"]: p["num_comments"] for p in visitor.get("/api/papers?limit=500").json()}
    assert listed[PAPER] == 3 and listed[OTHER] == 1
    assert sorted(set(listed.values())) == [0, 1, 3]
    assert visitor.get(f"/api/papers/{OTHER}").json()["num_comments"] == 1
    page = lxml_html.fromstring(visitor.get(f"/papers/{PAPER}").text)
    assert page.get_element_by_id("discussion-heading").text_content() == "Discussion (3)"


def test_store_rules_without_the_web(engine):
    import_file(engine, FIXTURES / "hf_daily.json")
    with engine.begin() as conn:
        ada = accounts.create_user(conn, "ada", "x")
        bob = accounts.create_user(conn, "bob", "x")
        top = comments.post(conn, PAPER, ada, "top", START, per_hour=10)
        with pytest.raises(comments.UnknownComment):  # a reply stays on its comment's paper
            comments.post(conn, "2611.00001", bob, "r", START, per_hour=10, parent_id=top)
        reply = comments.post(conn, PAPER, bob, "r", START, per_hour=10, parent_id=top)
        with pytest.raises(comments.NotYours):
            comments.edit(conn, top, bob, "mine now", START)
        with pytest.raises(comments.NotYours):
            comments.delete(conn, top, bob, START)
        with pytest.raises(comments.CommentError):
            comments.post(conn, PAPER, ada, "\u202e \u2066", START, per_hour=10)
        comments.report(conn, top, bob, "x", START)
        comments.report(conn, top, bob, "twice", START)  # one report per member and comment
        assert [len(r["reports"]) for r in comments.reports(conn)] == [1]
        comments.delete(conn, reply, bob, START)
        comments.delete(conn, top, ada, START)
        assert comments.thread(conn, PAPER) == []  # nothing visible hangs under it
        assert comments.comment_counts(conn, [PAPER]) == {}

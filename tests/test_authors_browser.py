"""Authors, claims and profiles in a real browser (Debian's chromium through Playwright) against
`papertide serve`: from a paper to its author's page, follow, claim, an admin's approval, the
member's profile; hostile author names stay text on every page they reach."""

import json

import pytest

from test_browser import launched_chromium, shot
from test_browser import pytestmark as needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]

HOSTILE = ["<img src=x onerror=window.__xss=1>", '"><script>window.__xss=2</script>',
           "<img src=x onerror=alert(1)>"]  # fmt: skip
PAPERS = [
    {"title": "Deep learning of representations", "date": "2026-11-20", "arxiv_id": "2611.30001",
     "authors": ["Yoshua Bengio", "Jürgen Schmidhuber"]},
    {"title": "Hostile names in an author list", "date": "2026-11-21", "arxiv_id": "2611.30002",
     "authors": ["Y. Bengio", *HOSTILE]},
]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import Cli, served

    folder = tmp_path_factory.mktemp("authors-served")
    papers = folder / "papers.jsonl"
    papers.write_text("".join(json.dumps(p) + "\n" for p in PAPERS), encoding="utf-8")
    cli = Cli(f"sqlite:///{folder / 'papertide.db'}", folder)
    cli.run("import", str(papers))
    cli.run("users", "create", "root", "--admin", "--password-stdin", stdin="rootpass123\n")
    with served(cli, folder) as base:
        yield base


@pytest.fixture(scope="module")
def chromium():
    with launched_chromium() as browser:
        yield browser


def new_page(chromium):
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page


def log_in(page, server: str, name: str, password: str, signup: bool = False) -> None:
    page.goto(server + ("/signup" if signup else "/login"))
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("form.auth button")
    page.wait_for_url(server + "/**")


def assert_inert(page) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []


def test_author_page_follow_claim_and_profile(chromium, server):
    page = new_page(chromium)
    log_in(page, server, "reader", "password123", signup=True)
    page.goto(server + "/papers/2611.30001")
    page.get_by_role("link", name="Yoshua Bengio").click()
    page.wait_for_url("**/authors/Yoshua%20Bengio")
    assert page.locator("h1").inner_text() == "Yoshua Bengio"
    assert "Also written: Y. Bengio" in page.locator(".variants").inner_text()
    items = page.locator("article.item h2 a")
    assert items.all_inner_texts() == ["Hostile names in an author list",
                                       "Deep learning of representations"]  # fmt: skip
    page.get_by_role("button", name="Follow Yoshua Bengio").click()
    page.wait_for_url("**/authors/Yoshua%20Bengio")
    assert page.get_by_role("button", name="Following · unfollow").is_visible()
    shot(page, "author-page")
    page.locator(".co-authors").get_by_role("link", name="Jürgen Schmidhuber").click()
    page.wait_for_url("**/authors/J%C3%BCrgen%20Schmidhuber")

    page.goto(server + "/papers/2611.30001")
    page.get_by_role("button", name="I am an author of this paper").click()
    assert page.get_by_text("Your authorship claim waits for an admin.").is_visible()

    admin = new_page(chromium)
    log_in(admin, server, "root", "rootpass123")
    admin.goto(server + "/admin/claims")
    admin.get_by_role("button", name="Approve the claim of reader").click()
    admin.wait_for_url("**/admin/claims")
    assert admin.get_by_text("No claim is waiting.").is_visible()

    page.reload()
    page.get_by_role("link", name="@reader").click()
    page.wait_for_url("**/users/reader")
    assert page.locator("h1").inner_text() == "@reader"
    assert page.get_by_role("link", name="Deep learning of representations").is_visible()
    shot(page, "profile-page")
    assert_inert(page)
    admin.context.close()
    page.context.close()


def test_hostile_author_names_stay_text(chromium, server):
    page = new_page(chromium)
    page.goto(server + "/papers/2611.30002")
    for name in HOSTILE:
        assert page.get_by_role("link", name=name, exact=True).count() == 1
    assert_inert(page)
    page.get_by_role("link", name=HOSTILE[1], exact=True).click()
    page.wait_for_url("**/authors/%22%3E%3Cscript%3E*")
    assert page.locator("h1").inner_text() == HOSTILE[1]
    assert_inert(page)
    page.get_by_role("link", name="Yoshua Bengio").click()  # a co-author's page
    page.wait_for_url("**/authors/Yoshua%20Bengio")
    assert_inert(page)
    page.goto(server + "/day/2026-11-21")
    assert page.locator(".authors a").count() == 4
    assert_inert(page)
    page.context.close()

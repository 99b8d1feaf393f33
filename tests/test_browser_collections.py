"""Collections in a real browser (Debian's chromium through Playwright, against `papertide
serve`): make a public collection with a hostile name and description, add a paper from a
list card, see the public page signed out and download its export. No script may run."""

from pathlib import Path

import pytest

from conftest import FIXTURES, Cli, served
from test_browser import CHROMIUM, NON_HTTP_LINKS, launched_chromium, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]
NAME = "<script>window.__xss=1</script> javascript:window.__xss=2"
DESCRIPTION = '<img src=x onerror="window.__xss=3"> <a href="javascript:window.__xss=4">x</a>'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("collections-served")
    cli = Cli(f"sqlite:///{folder / 'papertide.db'}", folder)
    cli.run("import", *(str(FIXTURES / n) for n in ("arxiv_atom.xml", "hf_daily.json")))
    cli.run("index", "--keyword-only")
    with served(cli, folder) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


def new_page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page


def assert_inert(page) -> None:
    assert page.evaluate("window.__xss === undefined")
    assert page.evaluate(NON_HTTP_LINKS) == []
    assert page.dialogs == []


def test_make_a_collection_add_from_a_list_card_and_share_it(browser, server, tmp_path):
    page = new_page(browser)
    page.goto(server + "/signup")
    page.fill("input[name=username]", "collector")
    page.fill("input[name=password]", "password123")
    page.click("form.auth button")
    page.wait_for_url(server + "/**")
    page.get_by_role("link", name="Collections").click()
    page.fill("form.collection-form input[name=name]", NAME)
    page.fill("form.collection-form textarea[name=description]", DESCRIPTION)
    page.check("form.collection-form input[name=public]")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/collections/*")
    collection_url = page.url
    assert page.locator("h1").inner_text() == NAME  # shown as text, not run
    assert page.locator("p.description").inner_text() == DESCRIPTION
    assert_inert(page)

    page.goto(server + "/day/2026-11-20")
    card = page.locator("article.item", has_text="Sparse Mixtures of Tiny Experts")
    card.locator("details.collect summary").click()
    card.locator("select[name=collection]").select_option(label=NAME)
    shot(page, "collections-list-card")
    card.get_by_role("button", name="Add").click()
    page.wait_for_url("**/day/2026-11-20")
    assert_inert(page)

    visitor = new_page(browser)  # signed out: the public page, its feed and export
    visitor.goto(collection_url)
    assert visitor.locator("h1").inner_text() == NAME
    assert "Sparse Mixtures of Tiny Experts" in visitor.locator("article.item h2").inner_text()
    assert visitor.locator("#content").get_by_role("link", name="Atom").is_visible()
    shot(visitor, "collections-public-page")
    assert_inert(visitor)
    with visitor.expect_download() as waiting:
        visitor.get_by_role("link", name="BibTeX").click()
    download = waiting.value
    assert download.suggested_filename.endswith(".bib")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text()
    assert "eprint = {2611.00001}" in text and "Sparse Mixtures of Tiny Experts" in text
    assert_inert(visitor)

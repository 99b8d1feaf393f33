"""Submitting a paper from a list page in a real browser (chromium through Playwright) against
`papertide serve`: it shows on the Submitted view, and a hostile comment stays text."""

import os
from pathlib import Path

import pytest

from conftest import FIXTURES, Cli, free_port, served
from test_browser import CHROMIUM, launched_chromium, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(  # as test_browser.py: a missing browser fails in CI only
        not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
        reason="chromium is not installed",
    ),
]

COMMENT = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> read it'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submitting")
    cli = Cli(f"sqlite:///{folder / 'papertide.db'}", folder)
    cli.run("import", str(FIXTURES / "arxiv_atom.xml"), str(FIXTURES / "hf_daily.json"))
    cli.run("users", "create", "ada", "--password-stdin", stdin="ada-password1\n")
    cli.env.update(
        # the served app runs on today's date: any age passes, so the test does not depend on it
        PAPERTIDE_SUBMISSION_MAX_AGE_DAYS="36500",
        PAPERTIDE_ARXIV_API_URL=f"http://127.0.0.1:{free_port()}/api/query",  # never asked
    )
    with served(cli, folder) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


def test_submit_from_the_list_and_see_it_in_submitted(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server + "/login")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "ada-password1")
    page.click("form.auth button")
    page.wait_for_url(server + "/day/**")
    page.goto(server + "/day/2026-11-20")
    page.get_by_role("link", name="Submitted", exact=True).click()
    page.wait_for_url("**/day/2026-11-20?view=submitted")
    assert page.get_by_text("Nobody has submitted a paper here yet.").is_visible()

    page.fill("form.submit input[name=paper]", "https://arxiv.org/abs/2611.00001v1")
    page.fill("form.submit input[name=comment]", COMMENT)
    page.click("form.submit button")
    page.wait_for_url("**?view=submitted")
    card = page.locator("article.item").filter(has_text="submitted by ada")
    assert card.count() == 1
    assert card.locator("h2").inner_text().strip() != ""
    # shown as the text it is
    assert card.locator(".submission-comment").inner_text() == f"“{COMMENT}”"
    assert page.evaluate("window.__xss") is None and dialogs == []
    assert page.locator("nav.views a[aria-current=page]").inner_text() == "Submitted"
    shot(page, "submitted-desktop")  # test-artifacts/, for people to look at

    page.fill("form.submit input[name=paper]", "2611.00001")  # a second time: refused, named
    page.click("form.submit button")
    assert "already submitted by ada" in page.locator("p.error").inner_text()
    context.close()

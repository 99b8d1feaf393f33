"""A real browser (Debian's chromium, driven by Playwright) against `papertide serve` on 127.0.0.1.

Screenshots of the main pages, desktop (1280x800) and phone (375x812), go to test-artifacts/
for people to look at (test_screenshots_of_every_main_page).
"""

import itertools
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES
from test_links import planted_files

PLANTED_DAY = "2026-11-19"  # away from the days the other tests look at

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Outside CI a machine without chromium skips these; in CI (scripts/test.sh installs it) a
# missing browser is a failure, not a silent skip.
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason="chromium is not installed",
)

HOSTILE = {
    "title": 'Inert <script>window.__xss=1</script><img src=x onerror="window.__xss=2"> title',
    "abstract": "Text </p><script>window.__xss=3</script> with $x</script><script>"
    'window.__xss=4</script>$ math and <a href="javascript:window.__xss=5">link</a>.',
    "authors": ['<svg onload="window.__xss=6">'],
    "date": "2026-11-21",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("served")
    (folder / "hostile.jsonl").write_text(json.dumps(HOSTILE) + "\n")
    from conftest import Cli, served

    cli = Cli(f"sqlite:///{folder / 'papertide.db'}", folder)
    cli.run(
        "import",
        *(str(FIXTURES / n) for n in ("arxiv_atom.xml", "hf_daily.json")),
        str(folder / "hostile.jsonl"),
        *(str(path) for path in planted_files(folder, PLANTED_DAY)),
    )
    cli.run("index")
    cli.run("topics", "build")  # for the topics page's screenshot
    with served(cli, folder) as base:
        yield base


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright (skips the test without Playwright)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_reader_journey(page, server):
    page.goto(server + "/")
    assert page.locator("h1").inner_text().startswith("Papers of Sunday 22 November 2026")
    page.get_by_role("link", name="← previous day").click()
    assert "21 November" in page.locator("h1").inner_text()
    page.get_by_role("link", name="next day →").click()
    assert "22 November" in page.locator("h1").inner_text()
    page.fill("form.quick input[name=q]", "label noise web data")
    page.press("form.quick input[name=q]", "Enter")
    page.wait_for_url("**/search?q=*")
    first = page.locator("article.item h2 a").first
    assert "label noise" in first.inner_text()
    first.click()
    page.wait_for_url("**/papers/2407.05528")
    assert page.get_by_role("link", name="github.com/PaulAlbert31/LSA").is_visible()
    assert page.get_by_role("heading", name="Similar papers").is_visible()


def test_sign_up_log_in_upvote_log_out(page, server):
    page.goto(server + "/signup")
    page.fill("input[name=username]", "reader1")
    page.fill("input[name=password]", "password123")
    page.click("form.auth button")
    page.wait_for_url(server + "/**")
    assert page.get_by_role("link", name="reader1").is_visible()
    page.get_by_role("button", name="Log out").click()
    page.goto(server + "/login")
    page.fill("input[name=username]", "reader1")
    page.fill("input[name=password]", "password123")
    page.click("form.auth button")
    page.goto(server + "/papers/2611.00005")
    count = page.locator(".paper .vote .count")
    before = int(count.inner_text())
    page.locator(".paper .vote button").click()
    # a function, not an expression string: Playwright evals strings in the page, which the
    # Content-Security-Policy (rightly) refuses
    page.wait_for_function(
        "n => document.querySelector('.paper .vote .count').textContent == n", arg=str(before + 1)
    )
    assert page.locator(".paper .vote button").get_attribute("aria-pressed") == "true"
    page.reload()
    assert int(count.inner_text()) == before + 1  # stored, not just drawn
    page.get_by_role("button", name="Log out").click()
    assert page.get_by_role("link", name="Log in").is_visible()


def test_hostile_text_renders_inert(page, server):
    for path in ("/day/2026-11-21", "/search?q=inert+title&mode=keyword"):
        page.goto(server + path)
        assert page.evaluate("window.__xss === undefined")
    page.locator("article.item h2 a", has_text="Inert").first.click()
    assert page.evaluate("window.__xss === undefined")
    assert "<script>" in page.locator("h1").inner_text()  # shown as text, not run
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.dialogs == []


# Every link target on the page that is not http(s), as the browser resolved it.
NON_HTTP_LINKS = """() => [...document.querySelectorAll('[href], [src], [action], [formaction]')]
  .flatMap(e => ['href', 'src', 'action', 'formaction'].map(a => e.getAttribute(a)))
  .filter(v => v !== null)
  .filter(v => { try { return !['http:', 'https:'].includes(new URL(v, location.href).protocol); }
                 catch { return true; } })"""


def test_planted_script_links_in_every_source_neither_show_nor_run(page, server):
    page.goto(f"{server}/day/{PLANTED_DAY}")
    titles = page.locator("article.item h2 a", has_text="planted links")
    assert titles.count() >= 3 * 7  # JSONL, CSV and Hugging Face papers of that day
    paths = [titles.nth(i).get_attribute("href") for i in range(titles.count())]
    for path in [f"/day/{PLANTED_DAY}", "/search?q=planted+links&mode=keyword", *paths]:
        page.goto(server + path)
        assert page.evaluate(NON_HTTP_LINKS) == [], path
        for link in page.locator("a[href]").all():  # what a click on each would open
            assert link.evaluate("a => a.protocol") in ("http:", "https:"), path
    page.goto(server + paths[0])
    assert page.get_by_role("link", name="project page").count() == 0
    assert page.evaluate("window.__xss === undefined") and page.dialogs == []


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
# Every main page: (screenshot name, path, signed in); "For you" with picks needs a member.
PAGES = [
    ("home", "/", False),
    ("paper", "/papers/2407.05528", False),
    ("search", "/search?q=label+noise+web+data", False),
    ("topics", "/topics", False),
    ("for-you", "/for-you", True),
    ("subscribe", "/subscribe", False),
    ("docs", "/docs", False),
    ("error-404", "/no/such/page", False),
]
SCROLLS_SIDEWAYS = "() => document.documentElement.scrollWidth > window.innerWidth"
# The top of every link in the header's navigation row: one value when they share one row.
NAV_ROWS = """() => new Set(
  [...document.querySelectorAll('header.top :is(nav a, .who a, .who button)')]
    .map(e => Math.round(e.getBoundingClientRect().top))).size"""


MEMBERS = itertools.count(1)


def member_with_picks(browser, server, viewport: dict):
    """A signed-in browser context whose library holds a paper, so For you has picks."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(server + "/signup")
    page.fill("input[name=username]", f"member{next(MEMBERS)}")
    page.fill("input[name=password]", "password123")
    page.click("form.auth button")
    page.goto(server + "/papers/2611.00005")
    page.get_by_role("button", name="Save", exact=True).click()
    # Closing a page while the form's answer still loads hung Chromium 156 for good (seen twice)
    page.wait_for_load_state("networkidle")
    page.close()
    return context


def open_settled(context, url: str):
    """A new page of CONTEXT at URL once it has drawn itself (Swagger UI draws after load)."""
    page = context.new_page()
    page.goto(url)
    if url.endswith("/docs"):
        page.wait_for_selector(".opblock", timeout=10_000)
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_screenshots_of_every_main_page(browser, server, viewport):
    contexts = {False: browser.new_context(viewport=viewport)}
    contexts[True] = member_with_picks(browser, server, viewport)
    suffix = "phone" if viewport is PHONE else "desktop"
    for name, path, signed_in in PAGES:
        page = open_settled(contexts[signed_in], server + path)
        if name == "for-you":
            assert page.locator("article.pick").count() > 0
        shot(page, f"{name}-{suffix}")
        page.close()
    for context in contexts.values():
        context.close()


def test_phone_width_never_scrolls_sideways_and_the_navigation_is_one_row(browser, server):
    contexts = {False: browser.new_context(viewport=PHONE)}
    contexts[True] = member_with_picks(browser, server, PHONE)
    more = [("day", "/day/2026-11-22?page=1", False), ("account", "/account", True)]
    for name, path, signed_in in [*PAGES, *more]:
        page = open_settled(contexts[signed_in], server + path)
        assert not page.evaluate(SCROLLS_SIDEWAYS), name
        assert page.evaluate(NAV_ROWS) == 1, name  # one row that scrolls, never 2 or 3 lines
        page.close()
    for context in contexts.values():
        context.close()


def test_api_docs_list_the_operations_with_every_off_machine_request_blocked(page, server):
    refused = []

    def only_this_machine(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_machine)
    page.goto(server + "/docs")
    page.wait_for_selector(".opblock", timeout=10_000)
    operations = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/daily_papers" in operations and "/api/search" in operations, operations
    assert refused == []  # it did not even try: nothing on /docs comes from elsewhere


def test_math_renders_with_vendored_katex(page, server):
    page.goto(server + "/papers/2611.00002")  # "Calibrated Uncertainty for $\alpha$-Divergence"
    page.wait_for_selector("h1 .katex", timeout=5000)
    assert "\u03b1" in page.locator("h1 .katex").first.inner_text()  # alpha, typeset
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.reload()
    page.wait_for_selector("h1 .katex", timeout=5000)
    assert requests and all(url.startswith(server) for url in requests)  # nothing off-site
    page.goto(server + "/day/2026-11-21")
    assert page.evaluate("window.__xss === undefined")


def test_keyboard_alone_reaches_everything_with_visible_focus(page, server):
    page.goto(server + "/day/2026-11-22")
    seen = []
    for _ in range(80):  # every focusable element, until focus leaves the page
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
                 return {text: (e.innerText || e.getAttribute('aria-label') || '').trim(),
                         tag: e.tagName, outline: s.outlineStyle, width: s.outlineWidth}; }"""
        )
        if focused["tag"] == "BODY":
            break
        assert focused["outline"] != "none" and focused["width"] != "0px", focused
        seen.append(focused["text"])
    assert len(seen) > 10 and seen[0] == "Skip to content"
    assert "Search papers" in seen and "← previous day" in seen
    assert any("Radiant Fields" in text for text in seen)  # the paper titles themselves
    # a whole search, by keyboard only
    while page.evaluate("document.activeElement.name") != "q":
        page.keyboard.press("Shift+Tab")
    page.keyboard.type("label noise web data")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    while "label noise" not in page.evaluate("document.activeElement.innerText || ''"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/papers/2407.05528")


def test_save_a_paper_follow_a_search_and_see_picks_for_you(page, server):
    page.goto(server + "/signup")
    page.fill("input[name=username]", "reader2")
    page.fill("input[name=password]", "password123")
    page.click("form.auth button")
    page.goto(server + "/papers/2611.00005")
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.get_by_role("button", name="Saved").get_attribute("aria-pressed") == "true"
    page.get_by_role("link", name="For you").click()
    assert "Your library (1)" in page.content()
    picks = page.locator("article.pick")
    assert picks.count() > 0 and "in your library" in picks.first.locator(".reason").inner_text()
    page.fill("input[name=value]", "radiance fields")
    page.get_by_role("button", name="Follow", exact=True).click()
    assert page.get_by_text("query: radiance fields").is_visible()
    shot(page, "for-you")
    page.goto(server + "/topics")
    assert page.get_by_role("heading", name="Topics").is_visible()


def test_a_paper_shows_its_key_sentence_and_keywords_and_a_keyword_searches(page, server):
    page.goto(server + "/papers/2407.05528")
    summary = page.locator("article.paper p.tldr")
    assert summary.is_visible() and summary.locator(".tldr-kind").inner_text().lower() == (
        "key sentence"
    )
    assert "Training a classifier on web-crawled data" in summary.inner_text()
    keyword = page.locator("article.paper a.keyword", has_text="label noise")
    assert keyword.is_visible()
    shot(page, "paper-keywords")
    keyword.click()
    page.wait_for_url("**/search?q=*")
    assert "label noise" in page.locator("article.item h2 a").first.inner_text()
    markdown = page.request.get(server + "/papers/2407.05528.md")
    assert markdown.ok and markdown.text().startswith("# An accurate detection")

"""A real browser (Debian's chromium, driven by Playwright) against `papertide serve` on 127.0.0.1.

Screenshots of the main pages go to test-artifacts/ for people to look at.
"""

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

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
    from conftest import Cli, wait_for_server

    cli = Cli(f"sqlite:///{folder / 'papertide.db'}", folder)
    cli.run(
        "import",
        *(str(FIXTURES / n) for n in ("arxiv_atom.xml", "hf_daily.json")),
        str(folder / "hostile.jsonl"),
        *(str(path) for path in planted_files(folder, PLANTED_DAY)),
    )
    cli.run("index")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        cli.command("serve", "--port", str(port)),
        env=cli.process_env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for_server(base, process)
    yield base
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


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
    shot(page, "daily")
    page.get_by_role("link", name="← previous").click()
    assert "21 November" in page.locator("h1").inner_text()
    page.get_by_role("link", name="next →").click()
    assert "22 November" in page.locator("h1").inner_text()
    page.fill("form.quick input[name=q]", "label noise web data")
    page.press("form.quick input[name=q]", "Enter")
    page.wait_for_url("**/search?q=*")
    first = page.locator("article.item h2 a").first
    assert "label noise" in first.inner_text()
    shot(page, "search")
    first.click()
    page.wait_for_url("**/papers/2407.05528")
    assert page.get_by_role("link", name="github.com/PaulAlbert31/LSA").is_visible()
    assert page.get_by_role("heading", name="Similar papers").is_visible()
    shot(page, "paper")


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
    shot(page, "voted")
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


def test_phone_width_has_no_horizontal_scroll(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(server + "/papers/2407.05528")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "paper-phone")
    context.close()


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
    assert "Search papers" in seen and "← previous" in seen
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

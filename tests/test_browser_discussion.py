"""A paper's discussion in a real browser (Debian's chromium through Playwright, as
test_browser.py): Markdown and KaTeX math render, reply, edit and delete work without any
script of the page's own, and hostile comment text runs nothing."""


import pytest

from conftest import FIXTURES, Cli, served
from test_browser import PHONE, SCROLLS_SIDEWAYS, launched_chromium, shot
from test_browser import pytestmark as skipped_without_chromium

pytestmark = [pytest.mark.browser, skipped_without_chromium]

PAPER = "2611.00005"
HOSTILE = (
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> '
    "[click](javascript:window.__xss=3) <svg onload=alert(4)> "
    "$</span><script>window.__xss=5</script>$ [data](data:text/html,<script>alert(6)</script>)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("discussion")
    cli = Cli(f"sqlite:///{folder / 'papertide.db'}", folder)
    cli.run("import", str(FIXTURES / "hf_daily.json"))
    cli.run("users", "create", "ada", "--password-stdin", stdin="password123\n")
    with served(cli, folder) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.goto(server + "/login")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "password123")
    page.click("form.auth button")
    page.wait_for_url(server + "/**")
    yield page
    context.close()


def post_comment(page, text: str) -> str:
    """Post TEXT as a new comment; the id of its element."""
    form = page.locator("section.discussion > form.comment-form")
    form.locator("textarea").fill(text)
    submit(page, form.get_by_role("button", name="Post comment"))
    return page.url.rsplit("#", 1)[1]


def submit(page, button) -> None:
    """Click a form's BUTTON and wait for the page its post redirects to."""
    with page.expect_navigation():
        button.click()


def test_comment_with_markdown_and_math_then_reply_edit_delete(page, server):
    page.goto(f"{server}/papers/{PAPER}")
    anchor = post_comment(page, "Is **this** right: $E=mc^2$?\n\n- one\n- two")
    comment = page.locator(f"#{anchor}")
    body = comment.locator(".comment-body")
    assert body.locator("strong").inner_text() == "this"
    assert body.locator("li").count() == 2
    # KaTeX drew the math: its markup is there and the raw "$E=mc^2$" text is not
    body.locator(".katex").first.wait_for()
    assert body.locator(".katex-mathml annotation").text_content() == "E=mc^2"
    assert "$E=mc^2$" not in body.inner_text()

    thread = comment.locator("xpath=..")
    thread.locator("details.reply summary").click()
    long_line = "a_very_long_identifier_" * 12
    thread.locator("details.reply textarea").fill(
        f"A reply with `code` and $x_1$\n\n```\n{long_line}\n```\n\nhttps://e.example/{long_line}"
    )
    submit(page, thread.locator("details.reply").get_by_role("button", name="Reply"))
    reply = page.locator(".replies .comment")
    assert reply.count() == 1
    assert reply.locator("p code").inner_text() == "code"
    reply.locator(".katex").first.wait_for()

    comment.locator("details.edit summary").click()
    comment.locator("details.edit textarea").fill("Is *this* right after all?")
    submit(page, comment.get_by_role("button", name="Save changes"))
    assert comment.locator(".comment-body em").inner_text() == "this"
    assert comment.locator(".edited").inner_text().startswith("edited ")

    shot(page, "paper-discussion-desktop")
    page.set_viewport_size(PHONE)  # a long word or code line scrolls inside, not the page
    assert not page.evaluate(SCROLLS_SIDEWAYS)
    shot(page, "paper-discussion-phone")

    submit(page, comment.get_by_role("button", name="Delete"))
    assert comment.locator(".gone").inner_text() == "[deleted]"
    assert page.locator(".replies .comment").count() == 1  # the reply stays under it
    assert page.dialogs == [] and page.console_errors == []


def test_hostile_comment_text_runs_nothing(page, server):
    page.goto(f"{server}/papers/{PAPER}")
    anchor = post_comment(page, HOSTILE)
    page.reload()
    page.wait_for_load_state("load")
    body = page.locator(f"#{anchor} .comment-body")
    # nothing became an element, a link or a handler (the page's CSP is a second wall)
    assert body.locator("script, img, svg, iframe, [onerror], [onload]").count() == 0
    assert page.locator("a[href^='javascript:'], a[href^='data:']").count() == 0
    assert body.locator("a").count() == 0  # neither link survived
    assert page.evaluate("() => window.__xss === undefined")
    assert page.dialogs == []
    assert "<script>window.__xss=1</script>" in body.inner_text()  # shown as text

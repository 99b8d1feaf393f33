"""Comment Markdown: the subset renders, math survives untouched, and no input, however
hostile, gets a script, an event attribute, a style or a non-http(s) link into the HTML."""

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from papertide.comment_markup import ATTRIBUTES, CLASSES, TAGS, clean_body, render, sanitise
from papertide.limits import MAX_COMMENT_CHARS
from papertide.links import http_url


def check_safe(markup: str) -> None:
    """Every element of MARKUP is an allowed tag with allowed attributes; links are http(s)
    and carry rel="nofollow ugc"; math spans hold text only."""
    # a fragment parsed as a browser would (lxml's HTML parser, html5-ish recovery)
    root = lxml_html.fragment_fromstring(markup or "<p></p>", create_parent="div")
    for element in root.iterdescendants():
        tag = element.tag
        assert isinstance(tag, str), f"comment or processing instruction in {markup!r}"
        assert tag in TAGS, f"<{tag}> in {markup!r}"
        for name, value in element.attrib.items():
            if tag == "a" and name == "rel":
                assert value == "nofollow ugc"
            elif name == "class":
                assert set(value.split()) <= CLASSES.get(tag, set()), markup
            else:
                assert name in ATTRIBUTES.get(tag, set()), f"{tag}[{name}] in {markup!r}"
            if name == "href":
                assert http_url(value) == value, f"href {value!r}"
        if tag == "a" and "href" in element.attrib:
            assert element.get("rel") == "nofollow ugc"
        if "math" in (element.get("class") or ""):
            assert len(element) == 0, f"markup inside math: {markup!r}"
    lowered = markup.lower()
    for bad in ("<script", "<style", "<iframe", "<img", "<svg", "<object", "<!--"):
        assert bad not in lowered, f"{bad} in {markup!r}"
    assert not re.search(r"<[^>]*\son\w+\s*=", lowered), f"event attribute in {markup!r}"


def test_the_markdown_subset_renders():
    out = render("Some *emphasis*, **strong**, `code` and [a link](https://example.org/x?a=1&b=2).")
    assert "<em>emphasis</em>" in out and "<strong>strong</strong>" in out
    assert "<code>code</code>" in out
    assert '<a href="https://example.org/x?a=1&amp;b=2" rel="nofollow ugc">a link</a>' in out
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in render("- one\n- two")
    assert '<ol start="3">' in render("3. three\n4. four")
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in render("> quoted")
    assert render("one\n\ntwo").count("<p>") == 2
    assert "<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre>" in render("```\n<b>x</b>\n```")
    assert '<a href="https://a.org" rel="nofollow ugc">' in render("<https://a.org>")


def test_math_survives_markdown_untouched():
    """Underscores, stars and backslashes inside math are not emphasis or escapes."""
    out = render(r"Energy $E=mc^2$, indices $a_b_c$, $x*y*z$ and $$\int_0^1 f(x)\,dx$$")
    assert '<span class="math">$E=mc^2$</span>' in out
    assert '<span class="math">$a_b_c$</span>' in out
    assert '<span class="math">$x*y*z$</span>' in out
    assert r'<span class="math math-display">$$\int_0^1 f(x)\,dx$$</span>' in out
    assert "<em>" not in out
    block = render("$$\n\\sum_{i=1}^n i_k\n$$")
    assert r'<span class="math math-display">$$\sum_{i=1}^n i_k$$</span>' in block
    assert render("$5 and $10") == "<p>$5 and $10</p>\n"  # money, not math
    assert "math" not in render(r"\$x\$") and "math" not in render("`$x$`")


def test_math_holding_markup_stays_text():
    out = render("$<script>alert(1)</script>$ and $\\href{javascript:alert(1)}{x}$")
    check_safe(out)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](//evil.example)",
    "[x](/admin/users/root/votes)",
    '[x](https://ok.example "title" onmouseover="alert(1)")',
    "[x](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "![img](https://evil.example/p.png)",
    "![x](javascript:alert(1))",
    "[x]: javascript:alert(1)\n\n[x]",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<iframe src=https://evil.example></iframe>",
    "<!-- <script>alert(1)</script> -->",
    "<style>body{display:none}</style>",
    "**<script>alert(1)</script>**",
    "*[x](javascript:alert(1))*",
    "[**x**](javascript:alert(1))",
    "[[x](javascript:a)](javascript:b)",
    "`<script>` and ``<img src=x onerror=alert(1)>``",
    "> <script>alert(1)</script>\n>> [x](javascript:alert(1))",
    "- <b onclick=alert(1)>x</b>\n  - nested",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&amp;lt;script&amp;gt;",
    "\\<script>alert(1)\\</script>",
    "$</span><script>alert(1)</script>$",
    '$" onmouseover="alert(1)$',
    "$$</span><img src=x onerror=alert(1)>$$",
    "[x](https://a.example/\" onmouseover=\"alert(1))",
    "[x](https://user:pass@evil.example)",
    "https://plain.example/not-a-link-without-brackets",
    "\u202eevil\u202c [x](https://ok.example)",
    "\u0000<script>\u0000alert(1)</script>",
    "\uff33\uff43\uff52\uff49\uff50\uff54 \uff1cscript\uff1ealert(1)\uff1c/script\uff1e",  # wide
    "\ud800 lone surrogate",
    "e\u0301\u0301\u0301\u0301 zalgo " + "\u0336" * 50,
    ">" * 200 + " deep quote",
    "- " * 200 + "deep list",
    "*" * 5000 + "x" + "*" * 5000,
    "[" * 3000 + "x" + "](https://a.example)" * 100,
    "`" * 4000,
    "$" * 4000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_comments_render_inert(text):
    check_safe(render(clean_body(text)))


# What a parser bug could let through: the sanitiser alone must stop it.
RAW_HTML = [
    '<a href="javascript:alert(1)">x</a>',
    '<a href=" JAVASCRIPT:alert(1)">x</a>',
    '<a href="data:text/html,x">x</a>',
    '<a href="/admin/reports">x</a>',
    '<a href="//evil.example">x</a>',
    '<a href="https://user:pw@evil.example">x</a>',
    '<a href="https://ok.example" onclick="alert(1)" target="_blank" rel="opener">x</a>',
    '<p onmouseover="alert(1)" style="position:fixed" id="x" class="math">x</p>',
    '<span class="math evil">x</span>',
    "<script>alert(1)</script><style>*{}</style><iframe src=https://e.example></iframe>",
    '<img src="https://e.example/x.png"><svg onload="alert(1)"></svg><form><input></form>',
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    '<ol start="1 onload=alert(1)"><li>x</li></ol>',
    "<!-- comment --><![CDATA[x]]>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
]


@pytest.mark.parametrize("markup", RAW_HTML)
def test_the_sanitiser_alone_stops_what_the_parser_might_let_through(markup):
    check_safe(sanitise(markup))


def test_huge_input_renders_quickly():
    """The longest comment allowed, in shapes that make naive parsers backtrack."""
    for text in (
        "*a" * (MAX_COMMENT_CHARS // 2),
        "[" * MAX_COMMENT_CHARS,
        "> " * (MAX_COMMENT_CHARS // 2),
        "$a" * (MAX_COMMENT_CHARS // 2),
        "<" * MAX_COMMENT_CHARS,
        "`a" * (MAX_COMMENT_CHARS // 2),
    ):
        started = time.perf_counter()
        check_safe(render(text))
        assert time.perf_counter() - started < 2.0


def test_clean_body_keeps_lines_and_drops_what_cannot_be_shown():
    assert clean_body("one\r\ntwo\rthree\n") == "one\ntwo\nthree"
    assert clean_body("\u202eright-to-left\u202c") == "right-to-left"
    assert clean_body("a\x00b\tc") == "a b    c"
    assert clean_body("\ud800") == "\ufffd"


# Markdown's own punctuation and HTML's, so generated text hits the parsers' edges.
PIECES = st.sampled_from(
    [
        "<", ">", "&", '"', "'", "`", "*", "_", "$", "$$", "[", "]", "(", ")", "!", "\\", "\n",
        "\n\n", "> ", "- ", "1. ", "    ", "```", "<script>", "</script>", "<a href=", "<img ",
        "onerror=", "javascript:", "data:", "https://x.example", "&#x3C;", "&lt;", "&#0;",
        "<!--", "-->", "<![CDATA[", "]]>", "<style>", "<svg", "onload=", "=", "/", "\u202e",
        "\u0000", "x", "y ",
    ]
)
HOSTILE_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(HOSTILE_TEXT)
def test_no_generated_text_yields_unsafe_html(text):
    check_safe(render(clean_body(text)))

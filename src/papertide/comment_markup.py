"""Comment text: members write a small Markdown subset, pages show it as sanitised HTML.

markdown-it (raw HTML off) turns the text into HTML, and nh3 then keeps only the tags of that
subset with the attributes it needs, so whatever the parser lets through (a future version, a
trick nobody thought of), no script, event attribute or non-http(s) link reaches a page. Math
(`$...$`, `$$...$$`) is cut out by the dollarmath rule before emphasis or escapes can touch it
and written back as escaped text in a `math` span, which KaTeX renders in the browser
(static/app.js); outside those spans a `$` is just a dollar.
"""

from __future__ import annotations

import html
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from papertide.links import http_url
from papertide.records import strip_unsafe

LINK_REL = "nofollow ugc"
TAGS = {"p", "br", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "blockquote", "span"}
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}  # span classes: CLASSES
CLASSES = {"span": {"math", "math-display"}}
# The block rules and inline rules of the subset; everything else (headings, tables, images,
# raw HTML) stays text.
RULES = [
    "paragraph",
    "blockquote",
    "list",
    "code",
    "fence",
    "emphasis",
    "backticks",
    "link",
    "autolink",
    "escape",
    "entity",
    "newline",
]


def _math_inline(_renderer: object, tokens: list, idx: int, *_: object) -> str:
    return f'<span class="math">${html.escape(tokens[idx].content.strip())}$</span>'


def _math_display(_renderer: object, tokens: list, idx: int, *_: object) -> str:
    return f'<span class="math math-display">$${html.escape(tokens[idx].content.strip())}$$</span>'


def _math_block(_renderer: object, tokens: list, idx: int, *_: object) -> str:
    return f"<p>{_math_display(None, tokens, idx)}</p>\n"


def _parser() -> MarkdownIt:
    parser = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    parser.enable(RULES)
    # No digits right after the opening `$`: "$5 and $10" is money, not math.
    dollarmath_plugin(parser, allow_labels=False, allow_digits=False, double_inline=True)
    # The math as text with its delimiters (escaped: it is text), for auto-render to find.
    parser.add_render_rule("math_inline", _math_inline)
    parser.add_render_rule("math_inline_double", _math_display)
    parser.add_render_rule("math_block", _math_block)
    parser.validateLink = lambda url: http_url(url) is not None
    return parser


PARSER = _parser()


def _only_http_links(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return http_url(value)
    if tag == "ol" and attribute == "start":
        return value if value.isdigit() and len(value) < 10 else None
    return value


def sanitise(markup: str) -> str:
    """HTML cut down to the comment subset: allowed tags and attributes only, links http(s)
    with rel="nofollow ugc", everything else dropped (and script or style with its content)."""
    return nh3.clean(
        markup,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_only_http_links,
        allowed_classes=CLASSES,
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
        clean_content_tags={"script", "style"},
    )


@lru_cache(maxsize=512)  # a busy thread is rendered on every view; its text rarely changes
def render(text: str) -> str:
    """Safe HTML for a comment's Markdown TEXT."""
    return sanitise(PARSER.render(text))


def clean_body(text: str) -> str:
    """What is stored of a comment: line ends as \\n, per line what records.strip_unsafe keeps
    (no controls, bidi overrides or lone surrogates), no blank lines around it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ").split("\n")
    return "\n".join(strip_unsafe(line).rstrip() for line in lines).strip("\n")

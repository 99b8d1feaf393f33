"""The one rule for links papertide stores or renders: absolute http(s) URLs, nothing else.

Sources and users supply link fields (abstract pages, PDFs, code, project pages). A
`javascript:`, `data:` or `vbscript:` value rendered as an `href` runs script on papertide's
origin, so every such value passes `http_url` on the way into the store (records.py) and again
on the way into a page, feed or email (the `href` template filter), which also covers rows stored
before this rule existed.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from papertide.names import parse

MAX_URL_CHARS = 2_048
# Browsers drop tabs and newlines inside URLs and trim control characters, which turns
# "java\tscript:" into "javascript:"; a link with any of them (or a space) is refused outright.
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\\]")
# Letters, digits, dots and hyphens (Unicode letters too, for internationalised names), or an
# IPv6 literal (urlsplit returns it without its brackets).
_HOST = re.compile(r"^(?:[\w.-]+|[0-9a-f:.]+)$", re.IGNORECASE)


def http_url(value: object) -> str | None:
    """VALUE if it is an absolute http:// or https:// URL with a plausible host, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_URL_CHARS or _UNSAFE_CHARS.search(value):
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not _HOST.match(host):
        return None
    if "@" in parts.netloc:
        return None  # user:password@ in a link only serves to disguise where it goes
    return value


def local_path(value: object) -> str | None:
    """VALUE if it is a path on this site ("/day/2024-01-02?sort=x"), else None: "//host" and
    "/\\host" are other sites to a browser, and control characters can smuggle either."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_URL_CHARS:
        return None
    if value[1:2] in ("/", "\\") or _UNSAFE_CHARS.search(value):
        return None
    return value


def paper_path(paper_id: object) -> str:
    """The page of a paper, its id percent-encoded as one path segment ('/' included): a DOI
    may hold '../', '?' or '#', which would otherwise point a link or a form's action at
    another route of this site (as a member's import could, at an admin's buttons)."""
    return "/papers/" + quote(str(paper_id), safe=":")


def href_filter(value: object) -> str:
    """The `href` template filter: an http(s) link, or "" (templates test it with `if`)."""
    return http_url(value) or ""


def path_filter(value: object) -> str:
    """The `path` template filter: a same-site path, or ""."""
    return local_path(value) or ""


def author_path(name: object) -> str:
    """The page of an author, the name percent-encoded as one path segment (names are upstream
    data: '/', '?', '#' or '..' in one must not aim the link elsewhere); "" for a name that
    has no page (names.parse finds no name in it)."""
    if not isinstance(name, str) or parse(name) is None:
        return ""
    return "/authors/" + quote(name, safe="")


def user_path(username: object) -> str:
    """A member's public profile, the name percent-encoded as one path segment."""
    return "/users/" + quote(str(username), safe="")

"""What a member may type to name an arXiv paper, read strictly: an id or an arxiv.org link.

Accepted: new-style ids (`2401.01234`, `2401.01234v2`, `arXiv:1412.6980`), old-style ids
(`hep-th/9901001`, `math.AG/0101001v1`), and abs/pdf links to either (`https://arxiv.org/abs/ID`,
`arxiv.org/pdf/ID.pdf`, `export.arxiv.org/abs/ID?context=cs`). Anything else is refused with a
reason, rather than searched for an id somewhere inside it as importers do (records.py): a typo
must not submit some other paper.

The answer is the id as the store keys papers (records.normalize_arxiv_id): without its version,
and an old-style id without its subject class (`math.AG/0101001` is arXiv's `math/0101001`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from papertide.limits import MAX_ARXIV_REF_CHARS

# The archives of old-style ids (1991-2007): arXiv's list, so `foo/9901001` is refused.
OLD_ARCHIVES = frozenset(
    "acc-phys adap-org alg-geom ao-sci astro-ph atom-ph bayes-an chao-dyn chem-ph cmp-lg "
    "comp-gas cond-mat cs dg-ga funct-an gr-qc hep-ex hep-lat hep-ph hep-th math math-ph "
    "mtrl-th nlin nucl-ex nucl-th patt-sol physics plasm-ph q-alg q-bio quant-ph solv-int "
    "supr-con".split()
)
# YYMM.NNNN from April 2007 to December 2014, YYMM.NNNNN since January 2015.
_NEW_ID = re.compile(r"(?P<yy>\d\d)(?P<mm>\d\d)\.(?P<number>\d{4,5})(?:v[1-9]\d{0,3})?")
_OLD_ID = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Z]{2})?/(?P<yy>\d\d)(?P<mm>\d\d)(?P<number>\d{3})"
    r"(?:v[1-9]\d{0,3})?"
)
_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org"}
_PATH = re.compile(r"/(?P<kind>abs|pdf)/(?P<id>.+?)(?P<pdf>\.pdf)?/?")
RULE = (
    "give an arXiv id (2401.01234, 2401.01234v2, hep-th/9901001) or its arxiv.org/abs or "
    "arxiv.org/pdf link"
)


class NotAnArxivRef(ValueError):
    """The text names no arXiv paper; the message says why, for the member who typed it."""


def parse_arxiv_ref(text: str) -> str:
    """The arXiv id TEXT names (see the module docstring), or NotAnArxivRef."""
    value = text.strip()
    if not value:
        raise NotAnArxivRef(f"nothing given: {RULE}")
    if len(value) > MAX_ARXIV_REF_CHARS:
        raise NotAnArxivRef(f"too long for an arXiv id or link ({MAX_ARXIV_REF_CHARS} at most)")
    if "://" in value or value.split("/", 1)[0].lower() in _HOSTS:
        return _from_link(value)
    return _from_id(re.sub(r"^arxiv:", "", value, flags=re.IGNORECASE))


def _from_link(value: str) -> str:
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise NotAnArxivRef(f"not a link papertide can read: {RULE}") from None
    if parts.scheme.lower() not in ("http", "https") or host not in _HOSTS:
        raise NotAnArxivRef(f"not an arxiv.org link: {RULE}")
    if parts.username or parts.password or parts.port not in (None, 80, 443):
        raise NotAnArxivRef(f"not an arxiv.org link: {RULE}")
    match = _PATH.fullmatch(parts.path)
    if match is None:
        raise NotAnArxivRef(f"an arxiv.org link to a paper is /abs/ID or /pdf/ID: {RULE}")
    if match["pdf"] and match["kind"] != "pdf":
        raise NotAnArxivRef(f"an abs link has no .pdf: {RULE}")
    return _from_id(match["id"])


def _from_id(value: str) -> str:
    new = _NEW_ID.fullmatch(value)
    if new is not None:
        yymm = int(new["yy"] + new["mm"])
        # four-digit numbers until 1412, five from 1501; new-style ids start in April 2007
        digits = 4 if yymm < 1501 else 5
        if not 1 <= int(new["mm"]) <= 12 or yymm < 704 or len(new["number"]) != digits:
            raise NotAnArxivRef(f"{value!r} is not a possible arXiv id: {RULE}")
        return f"{new['yy']}{new['mm']}.{new['number']}"
    old = _OLD_ID.fullmatch(value)
    if old is not None:
        year = int(old["yy"])
        if old["archive"] not in OLD_ARCHIVES or not 1 <= int(old["mm"]) <= 12:
            raise NotAnArxivRef(f"{value!r} is not a possible arXiv id: {RULE}")
        if not (year >= 91 or year <= 7):  # old-style ids ran from 1991 to March 2007
            raise NotAnArxivRef(f"{value!r} is not a possible arXiv id: {RULE}")
        return f"{old['archive']}/{old['yy']}{old['mm']}{old['number']}"
    raise NotAnArxivRef(f"{value[:60]!r} is not an arXiv id: {RULE}")

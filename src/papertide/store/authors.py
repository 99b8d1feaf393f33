"""Reading author pages from the author-name table (paper_authors, see store/author_rows.py).

Every read goes through its indexes (name_key, signature), so an author page costs the author's
own rows, not a scan of the papers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from papertide import names
from papertide.store.queries import FEED_COLUMNS, counted_votes, sql_int
from papertide.store.schema import paper_authors, papers, upvotes

CO_AUTHOR_PAPERS = 500  # co-authors are counted over the author's newest papers
CO_AUTHOR_POSITIONS = 100  # ... and their first authors: a 3,000-author paper stays cheap


def keys_with_signature(conn: Connection, signature: str) -> list[str]:
    """Every stored name key with this surname and first initial (names.group's input)."""
    query = (
        select(paper_authors.c.name_key)
        .where(paper_authors.c.signature == signature)
        .distinct()
        .order_by(paper_authors.c.name_key)
    )
    return list(conn.execute(query).scalars())


def author_of(conn: Connection, name: str) -> names.Author | None:
    """The author whose page NAME leads to, by the rule of names.py; None for no stored name."""
    parsed = names.parse(name)
    if parsed is None:
        return None
    stored = keys_with_signature(conn, parsed.signature)
    if parsed.key not in stored:
        return None
    return names.group(parsed, stored)


def _visible_rows(keys: Sequence[str]) -> Any:
    return (
        select(paper_authors.c.paper_id)
        .join(papers, papers.c.id == paper_authors.c.paper_id)
        .where(paper_authors.c.name_key.in_(list(keys)), papers.c.hidden.is_(False))
    )


def _plainness(name: str, uses: int) -> tuple[int, int, int, str]:
    """How a spelling ranks for showing: words not in capitals ('Yoshua Bengio' before
    'Yoshua BENGIO'), then accents kept ('Jürgen' before 'Jurgen'), then the most used."""
    shouted = sum(1 for word in name.split() if len(word) > 1 and word.isupper())
    accented = sum(1 for char in name if not char.isascii())
    return (shouted, -accented, -uses, name)


def spellings(conn: Connection, keys: Sequence[str]) -> dict[str, list[str]]:
    """How each name key is written on stored papers, the spelling to show first."""
    query = (
        select(paper_authors.c.name_key, paper_authors.c.name, func.count())
        .where(paper_authors.c.name_key.in_(list(keys)))
        .group_by(paper_authors.c.name_key, paper_authors.c.name)
    )
    counted: dict[str, Counter[str]] = {}
    for key, name, n in conn.execute(query):
        counted.setdefault(key, Counter())[name] = n
    return {
        key: sorted(uses, key=lambda name: _plainness(name, uses[name]))
        for key, uses in counted.items()
    }


def count_papers(conn: Connection, keys: Sequence[str]) -> int:
    """How many visible papers have any of KEYS among their authors."""
    visible = _visible_rows(keys).distinct().subquery()
    return conn.execute(select(func.count()).select_from(visible)).scalar_one()


def papers_of(conn: Connection, keys: Sequence[str], offset: int, limit: int) -> list[dict]:
    """Visible papers with any of KEYS among their authors, newest first (undated last), with
    their counted votes."""
    votes = (
        select(upvotes.c.paper_id, func.count().label("votes"))
        .select_from(counted_votes())
        .where(upvotes.c.paper_id.in_(_visible_rows(keys)))
        .group_by(upvotes.c.paper_id)
        .subquery()
    )
    query = (
        select(*FEED_COLUMNS, func.coalesce(votes.c.votes, 0).label("votes"))
        .select_from(papers.outerjoin(votes, votes.c.paper_id == papers.c.id))
        .where(papers.c.id.in_(_visible_rows(keys)))
        .order_by(papers.c.published_at.is_(None), papers.c.published_at.desc(), papers.c.id)
        .offset(sql_int(offset))
        .limit(sql_int(limit))
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def co_authors(conn: Connection, keys: Sequence[str], limit: int) -> list[tuple[str, int]]:
    """(name key, papers together) of the people who wrote most often with KEYS' author, most
    papers first, over the author's newest CO_AUTHOR_PAPERS papers."""
    newest = (
        select(papers.c.id)
        .where(papers.c.id.in_(_visible_rows(keys)))
        .order_by(papers.c.published_at.is_(None), papers.c.published_at.desc(), papers.c.id)
        .limit(CO_AUTHOR_PAPERS)
        .subquery()
    )
    together = func.count(func.distinct(paper_authors.c.paper_id))
    query = (
        select(paper_authors.c.name_key, together)
        .where(
            paper_authors.c.paper_id.in_(select(newest.c.id)),
            paper_authors.c.position < CO_AUTHOR_POSITIONS,
            paper_authors.c.name_key.not_in(list(keys)),
        )
        .group_by(paper_authors.c.name_key)
        .order_by(together.desc(), paper_authors.c.name_key)
        .limit(sql_int(limit))
    )
    return [(key, n) for key, n in conn.execute(query)]


def keys_with_signatures(conn: Connection, signatures: Sequence[str]) -> dict[str, list[str]]:
    """keys_with_signature for many signatures in one query."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(signatures), 900):
        query = (
            select(paper_authors.c.signature, paper_authors.c.name_key)
            .where(paper_authors.c.signature.in_(list(signatures[start : start + 900])))
            .distinct()
        )
        for signature, key in conn.execute(query):
            found.setdefault(signature, []).append(key)
    return found

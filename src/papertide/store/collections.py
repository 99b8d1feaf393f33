"""Members' collections of papers: named, public or private, with a description.

Every member also has a default collection, the library (`store/library.py`: saved papers,
which the recommender learns from). It is not stored here: it is shown as the collection
`DEFAULT` ("library"), private and impossible to rename or delete, and adding a paper to it
saves the paper, exactly as the Save button does.

Every write takes the acting member's id and touches only that member's collections; a
collection someone else owns is `NotFound` to them whether or not it exists, public or not
(the web answers 404 either way, so private collections cannot be discovered).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from papertide.limits import (
    MAX_COLLECTION_DESCRIPTION,
    MAX_COLLECTION_NAME,
    MAX_COLLECTION_PAPERS,
    MAX_COLLECTIONS,
)
from papertide.records import clean_text
from papertide.store import dialect
from papertide.store import library as library_store
from papertide.store.schema import collection_papers, collections, library, papers, users
from papertide.store.writer import utcnow

DEFAULT = "library"
DEFAULT_NAME = "Saved"
DEFAULT_DESCRIPTION = "Papers you saved: your recommendations learn from them."


class CollectionError(ValueError):
    """A request the member can fix (a name too long or taken, too many collections)."""


class NotFound(LookupError):
    """No such collection for this member (absent, or someone else's)."""


def collection_ref(value: object) -> int | str:
    """A collection id as given in a URL or a command: DEFAULT or a number; NotFound else."""
    text = str(value).strip()
    if text == DEFAULT:
        return DEFAULT
    if text.isascii() and text.isdigit() and len(text) < 19:
        return int(text)
    raise NotFound(f"no collection {text[:40]!r}")


def clean_name(name: str) -> str:
    cleaned = clean_text(name)
    if not cleaned:
        raise CollectionError("a collection needs a name")
    if len(cleaned) > MAX_COLLECTION_NAME:
        raise CollectionError(f"a collection's name is at most {MAX_COLLECTION_NAME} characters")
    return cleaned


def clean_description(text: str) -> str:
    """Printable text, line breaks kept (paragraphs), within the bound."""
    lines = [clean_text(line) for line in (text or "").splitlines()]
    cleaned = "\n".join(lines).strip()
    if len(cleaned) > MAX_COLLECTION_DESCRIPTION:
        raise CollectionError(
            f"a description is at most {MAX_COLLECTION_DESCRIPTION} characters"
        )
    return cleaned


def _counted() -> Any:
    """Visible papers per collection."""
    return (
        select(collection_papers.c.collection_id, func.count().label("papers"))
        .select_from(collection_papers.join(papers, papers.c.id == collection_papers.c.paper_id))
        .where(papers.c.hidden.is_(False))
        .group_by(collection_papers.c.collection_id)
        .subquery()
    )


def _query() -> Any:
    counts = _counted()
    return select(
        collections,
        users.c.username.label("owner"),
        func.coalesce(counts.c.papers, 0).label("papers"),
    ).select_from(
        collections.join(users, users.c.id == collections.c.user_id).outerjoin(
            counts, counts.c.collection_id == collections.c.id
        )
    )


def _row(row: Any) -> dict[str, Any]:
    return {**dict(row), "default": False}


def default_collection(conn: Connection, user_id: int) -> dict[str, Any]:
    """The member's library, shaped like a collection."""
    owner = conn.execute(select(users.c.username).where(users.c.id == user_id)).scalar_one()
    return {
        "id": DEFAULT,
        "user_id": user_id,
        "owner": owner,
        "name": DEFAULT_NAME,
        "description": DEFAULT_DESCRIPTION,
        "public": False,
        "default": True,
        "papers": len(saved_paper_ids(conn, user_id)),
        "created_at": None,
        "updated_at": None,
    }


def of_user(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The member's collections: the default one first, then the others by name."""
    query = _query().where(collections.c.user_id == user_id).order_by(collections.c.name)
    return [default_collection(conn, user_id), *(_row(r) for r in conn.execute(query).mappings())]


def public_collections(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The member's public collections, the most recently changed first (for profile pages)."""
    query = _query().where(collections.c.user_id == user_id, collections.c.public.is_(True))
    query = query.order_by(collections.c.updated_at.desc(), collections.c.id.desc())
    return [_row(r) for r in conn.execute(query).mappings()]


def owned(conn: Connection, user_id: int, ref: int | str) -> dict[str, Any]:
    """The member's own collection REF (DEFAULT included); NotFound when it is not theirs."""
    if ref == DEFAULT:
        return default_collection(conn, user_id)
    row = conn.execute(
        _query().where(collections.c.id == ref, collections.c.user_id == user_id)
    ).mappings().first()
    if row is None:
        raise NotFound(f"no collection {ref}")
    return _row(row)


def by_id(conn: Connection, collection_id: int) -> dict[str, Any]:
    """Collection COLLECTION_ID whoever owns it (the operator's commands); NotFound if none."""
    row = conn.execute(_query().where(collections.c.id == collection_id)).mappings().first()
    if row is None:
        raise NotFound(f"no collection {collection_id}")
    return _row(row)


def visible(conn: Connection, ref: int | str, viewer_id: int | None) -> dict[str, Any]:
    """Collection REF as VIEWER (None: signed out) may see it: public, or their own."""
    if ref == DEFAULT:
        if viewer_id is None:
            raise NotFound("no collection library")
        return default_collection(conn, viewer_id)
    row = conn.execute(_query().where(collections.c.id == ref)).mappings().first()
    if row is None or not (row["public"] or row["user_id"] == viewer_id):
        raise NotFound(f"no collection {ref}")
    return _row(row)


def create(
    conn: Connection, user_id: int, name: str, description: str = "", public: bool = False
) -> dict[str, Any]:
    name, description = clean_name(name), clean_description(description)
    have = conn.execute(
        select(func.count()).where(collections.c.user_id == user_id)
    ).scalar_one()
    if have >= MAX_COLLECTIONS:
        raise CollectionError(f"at most {MAX_COLLECTIONS} collections: delete one first")
    _check_name_free(conn, user_id, name, None)
    now = utcnow()
    row = {"user_id": user_id, "name": name, "description": description, "public": bool(public)}
    with _name_taken(name):
        result = conn.execute(collections.insert().values(**row, created_at=now, updated_at=now))
    return owned(conn, user_id, result.inserted_primary_key[0])


@contextmanager
def _name_taken(name: str) -> Iterator[None]:
    """The unique (member, name) key refusing a name another request took meanwhile (the
    caller's transaction then rolls back, as for any CollectionError)."""
    try:
        yield
    except IntegrityError as exc:
        raise CollectionError(f"you already have a collection called {name!r}") from exc


def _check_name_free(conn: Connection, user_id: int, name: str, other_than: int | None) -> None:
    if name.casefold() == DEFAULT_NAME.casefold():
        raise CollectionError(f"{DEFAULT_NAME!r} is your library's name: choose another")
    # Compared here, not in SQL: SQLite's lower() folds ASCII only. A member has few names.
    query = select(collections.c.id, collections.c.name).where(collections.c.user_id == user_id)
    for other_id, other_name in conn.execute(query):
        if other_id != other_than and other_name.casefold() == name.casefold():
            raise CollectionError(f"you already have a collection called {name!r}")


def edit(
    conn: Connection,
    user_id: int,
    ref: int | str,
    name: str | None = None,
    description: str | None = None,
    public: bool | None = None,
) -> dict[str, Any]:
    """Rename, describe or publish the member's collection REF (what is not None changes)."""
    if ref == DEFAULT:
        raise CollectionError("your library cannot be renamed, described or made public")
    owned(conn, user_id, ref)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = clean_name(name)
        _check_name_free(conn, user_id, values["name"], int(ref))
    if description is not None:
        values["description"] = clean_description(description)
    if public is not None:
        values["public"] = bool(public)
    if values:
        values["updated_at"] = utcnow()
        with _name_taken(values.get("name", "")):
            conn.execute(update(collections).where(collections.c.id == ref).values(**values))
    return owned(conn, user_id, ref)


def remove(conn: Connection, user_id: int, ref: int | str) -> None:
    """Delete the member's collection REF (its papers stay in papertide and other collections)."""
    if ref == DEFAULT:
        raise CollectionError("your library cannot be deleted: unsave its papers instead")
    owned(conn, user_id, ref)
    conn.execute(delete(collection_papers).where(collection_papers.c.collection_id == ref))
    conn.execute(delete(collections).where(collections.c.id == ref))


def add_paper(conn: Connection, user_id: int, ref: int | str, paper_id: str) -> bool:
    """Put PAPER_ID (a stored paper's id) in the member's collection REF; False if it was."""
    if ref == DEFAULT:
        was = library_store.states(conn, user_id, [paper_id]).get(paper_id, {}).get("saved")
        library_store.set_saved(conn, user_id, paper_id, True)
        return not was
    owned(conn, user_id, ref)
    held = select(func.count()).where(collection_papers.c.collection_id == ref)
    if conn.execute(held).scalar_one() >= MAX_COLLECTION_PAPERS:
        raise CollectionError(f"a collection holds at most {MAX_COLLECTION_PAPERS} papers")
    added = conn.execute(
        dialect.insert_ignoring_conflicts(collection_papers, conn.engine.name),
        [{"collection_id": ref, "paper_id": paper_id, "added_at": utcnow()}],
    ).rowcount
    conn.execute(update(collections).where(collections.c.id == ref).values(updated_at=utcnow()))
    return bool(added)


def remove_paper(conn: Connection, user_id: int, ref: int | str, paper_id: str) -> bool:
    """Take PAPER_ID out of the member's collection REF; False if it was not there."""
    if ref == DEFAULT:
        was = library_store.states(conn, user_id, [paper_id]).get(paper_id, {}).get("saved")
        library_store.set_saved(conn, user_id, paper_id, False)
        return bool(was)
    owned(conn, user_id, ref)
    gone = conn.execute(
        delete(collection_papers).where(
            collection_papers.c.collection_id == ref, collection_papers.c.paper_id == paper_id
        )
    ).rowcount
    if gone:
        conn.execute(
            update(collections).where(collections.c.id == ref).values(updated_at=utcnow())
        )
    return bool(gone)


def saved_paper_ids(conn: Connection, user_id: int) -> list[str]:
    """The library's saved, visible papers, the most recently saved first."""
    query = (
        select(library.c.paper_id)
        .select_from(library.join(papers, papers.c.id == library.c.paper_id))
        .where(library.c.user_id == user_id, library.c.saved, papers.c.hidden.is_(False))
        .order_by(library.c.updated_at.desc(), library.c.paper_id)
    )
    return list(conn.execute(query).scalars())


def paper_ids(conn: Connection, collection: dict[str, Any]) -> list[str]:
    """The visible papers of COLLECTION (a row from `owned` / `visible`), newest addition first."""
    if collection["default"]:
        return saved_paper_ids(conn, collection["user_id"])
    query = (
        select(collection_papers.c.paper_id)
        .select_from(collection_papers.join(papers, papers.c.id == collection_papers.c.paper_id))
        .where(collection_papers.c.collection_id == collection["id"], papers.c.hidden.is_(False))
        .order_by(collection_papers.c.added_at.desc(), collection_papers.c.paper_id)
    )
    return list(conn.execute(query).scalars())


def holding(conn: Connection, user_id: int, paper_ids: list[str]) -> dict[str, set[int | str]]:
    """For each of PAPER_IDS, which of the member's collections hold it (DEFAULT: saved)."""
    found: dict[str, set[int | str]] = {}
    for paper_id, state in library_store.states(conn, user_id, paper_ids).items():
        if state["saved"]:
            found.setdefault(paper_id, set()).add(DEFAULT)
    for start in range(0, len(paper_ids), 900):
        query = (
            select(collection_papers.c.paper_id, collection_papers.c.collection_id)
            .select_from(
                collection_papers.join(
                    collections, collections.c.id == collection_papers.c.collection_id
                )
            )
            .where(
                collections.c.user_id == user_id,
                collection_papers.c.paper_id.in_(paper_ids[start : start + 900]),
            )
        )
        for paper_id, collection_id in conn.execute(query):
            found.setdefault(paper_id, set()).add(collection_id)
    return found

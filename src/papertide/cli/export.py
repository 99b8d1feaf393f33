"""`papertide export paper|collection|library|search`: papers as BibTeX, CSL-JSON or RIS.

The file goes to stdout, or to `-o FILE`; a line on stderr says how many papers it holds.
The operator's command: it exports any member's collection, private ones included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from sqlalchemy.engine import Engine

from papertide import export as formats
from papertide.cli.common import application, engine, err, fail, user_named, writing_to
from papertide.cli.framework import CommandGroup
from papertide.cli.search import (
    AUTHOR,
    CATEGORY,
    MODE,
    QUERY,
    SINCE,
    UNTIL,
    _ready_to_search,
    results_option,
    search_filters,
)
from papertide.search.hybrid import SearchError
from papertide.search.hybrid import search as run_search
from papertide.store import collections, queries
from papertide.store.exports import papers_for_export

export_app = CommandGroup(
    help="Export papers as BibTeX, CSL-JSON (Zotero) or RIS.", no_args_is_help=True
)
FORMAT = typer.Option("bibtex", "--format", "-f", metavar="FORMAT", help="bibtex, csl-json or ris.")
OUTPUT = typer.Option(
    None, "--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."
)
USER = typer.Option(..., "--user", "-u", metavar="USER", help="The member's login name.")


def _write(eng: Engine, ids: list[str], fmt: str, output: Path | None) -> None:
    try:
        chosen = formats.get(fmt)
    except ValueError as exc:
        fail(f"--format {exc}")
        return
    with eng.connect() as conn:
        rows = papers_for_export(conn, ids)
    text = chosen.write([formats.Reference.of(row) for row in rows])
    if output is None:
        sys.stdout.write(text)
    else:
        with writing_to(output):
            output.write_text(text, encoding="utf-8")
    where = f" to {output}" if output else ""
    err.print(f"{len(rows)} paper(s) as {chosen.name}{where}", highlight=False, markup=False)


def _check_format(fmt: str) -> None:
    """Before any work: a wrong --format is a status-2 line."""
    if fmt not in formats.FORMAT_NAMES:
        fail(f"--format is one of {', '.join(formats.FORMAT_NAMES)}, not {fmt!r}")


@export_app.command("paper")
def export_paper(
    ctx: typer.Context,
    papers: list[str] = typer.Argument(
        ..., metavar="ID", help="Paper ids (arXiv ids, DOIs, papertide ids)."
    ),
    fmt: str = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Export one paper, or several."""
    _check_format(fmt)
    eng = engine(ctx)
    with eng.connect() as conn:
        found = {ref: queries.resolve_id(conn, ref) for ref in papers}
    missing = [ref for ref, pid in found.items() if pid is None]
    if missing:
        fail(f"no paper with id {', '.join(map(repr, missing))}")
    _write(eng, [pid for pid in found.values() if pid], fmt, output)


@export_app.command("collection")
def export_collection(
    ctx: typer.Context,
    ref: str = typer.Argument(
        ..., metavar="ID", help="The collection's number (its page's URL), or \"library\"."
    ),
    user: str | None = typer.Option(
        None, "--user", "-u", metavar="USER", help="Its owner (needed for library)."
    ),
    fmt: str = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Export a collection (any member's: this is the operator's command)."""
    _check_format(fmt)
    eng = engine(ctx)
    try:
        target = collections.collection_ref(ref)
    except collections.NotFound as exc:
        fail(f"{exc}: give its number or library")
        return
    if target == collections.DEFAULT and user is None:
        fail("export collection library needs --user (whose library)")
    owner = user_named(eng, user)["id"] if user else None
    with eng.connect() as conn:
        try:
            if owner is not None:
                found = collections.owned(conn, owner, target)
            else:
                found = collections.by_id(conn, target)  # type: ignore[arg-type]
        except collections.NotFound as exc:
            fail(f"{exc}" + (f" of {user}" if user else ""))
            return
        ids = collections.paper_ids(conn, found)
    _write(eng, ids, fmt, output)


@export_app.command("library")
def export_library(
    ctx: typer.Context, user: str = USER, fmt: str = FORMAT, output: Path | None = OUTPUT
) -> None:
    """Export a member's library (their saved papers, the default collection)."""
    _check_format(fmt)
    eng = engine(ctx)
    user_id = user_named(eng, user)["id"]
    with eng.connect() as conn:
        ids = collections.saved_paper_ids(conn, user_id)
    _write(eng, ids, fmt, output)


@export_app.command("search")
def export_search(
    ctx: typer.Context,
    query: str = QUERY,
    mode: str = MODE,
    k: int = results_option(50),
    since: str | None = SINCE,
    until: str | None = UNTIL,
    category: str | None = CATEGORY,
    author: str | None = AUTHOR,
    fmt: str = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Export the best results of a search, in their order."""
    _check_format(fmt)
    filters = search_filters(ctx, since, until, category, author)
    eng, indexes, embedder, mode = _ready_to_search(ctx, mode)
    try:
        hits = run_search(
            eng, indexes, query, mode, k, filters, embedder, now=application(ctx).clock.now()
        )  # type: ignore[arg-type]
    except SearchError as exc:
        fail(str(exc))
        return
    _write(eng, [hit.id for hit in hits], fmt, output)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")

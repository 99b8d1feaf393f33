"""`papertide init`, `import`, `list`, `show`, `stats`: the stored papers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Connection

from papertide.cli.common import (
    AS_JSON,
    EXIT_NOTHING_DONE,
    application,
    byte_progress,
    emit_json,
    engine,
    fail,
    out,
    print_summary,
    shown_date,
)
from papertide.ingest import sources
from papertide.ingest.runner import ImportSummary, import_file
from papertide.periods import PeriodError, period_range
from papertide.store import queries
from papertide.store.engine import current_revision

MAX_LIST = 1_000_000_000  # far below SQLite's 64-bit LIMIT, far above any database


def init(ctx: typer.Context) -> None:
    """Create the database (or migrate it to the current schema)."""
    eng = engine(ctx, create=True)
    url = application(ctx).settings.database_url
    out.print(f"database ready: {url} (schema {current_revision(eng)})", highlight=False)


def import_(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ..., metavar="PATH", help="Files to import.", exists=True, dir_okay=False
    ),
    fmt: str = typer.Option(
        "auto",
        "--format",
        "-f",
        metavar="FORMAT",
        help="auto (detect from the content) or a source's name (a wrong one lists them).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import papers from files: listing pages, JSONL, CSV, BibTeX, HF JSON, arXiv Atom, OAI-PMH."""
    formats = ["auto", *sources.format_names()]
    if fmt not in formats:
        fail(f"unknown format {fmt!r}; choose one of: {', '.join(formats)}")
    eng = engine(ctx, create=True)
    summary = ImportSummary()
    with byte_progress() as progress:
        for path in paths:
            size = path.stat().st_size if path.is_file() else None
            task = progress.add_task(f"importing {path.name}", total=size)
            import_file(
                eng, path, fmt, summary, lambda done, t=task: progress.update(t, completed=done)
            )
            progress.remove_task(task)
    print_summary(summary, as_json)
    if summary.accepted == 0 and summary.rejected_count > 0:
        raise typer.Exit(EXIT_NOTHING_DONE)


def _period(
    ctx: typer.Context, day: str | None, week: str | None, month: str | None
) -> tuple[Any, Any]:
    try:
        return period_range(day, week, month, application(ctx).clock.now().date())
    except PeriodError as exc:
        fail(str(exc))
        raise


def list_(
    ctx: typer.Context,
    day: str | None = typer.Option(
        None, "--day", metavar="DAY", help="YYYY-MM-DD, today or yesterday."
    ),
    week: str | None = typer.Option(
        None, "--week", metavar="WEEK", help="ISO week YYYY-Www or a day in it."
    ),
    month: str | None = typer.Option(None, "--month", metavar="MONTH", help="YYYY-MM or this."),
    limit: int | None = typer.Option(None, "--limit", "-n", metavar="N", help="At most N papers."),
    as_json: bool = AS_JSON,
) -> None:
    """List papers, newest first (undated last); optionally those of one day, week or month."""
    if limit is not None and not 1 <= limit <= MAX_LIST:
        fail(f"--limit is a number from 1 to {MAX_LIST:,}")
    start, end = _period(ctx, day, week, month)
    with engine(ctx).connect() as conn:
        rows = queries.list_papers(conn, start, end, limit)
        precision = {} if as_json else queries.published_precision(conn, [r["id"] for r in rows])
    if as_json:
        emit_json(rows)
        return
    if not rows:
        out.print("no papers" + (" in that period" if start else " yet: try `papertide import`"))
        return
    table = Table(show_lines=False, box=None, pad_edge=False)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("published", no_wrap=True)
    table.add_column("title")
    for row in rows:
        published = shown_date(row["published_at"], precision.get(row["id"], "day"))
        table.add_row(Text(row["id"]), published, Text(row["title"]))  # text, not markup
    out.print(table)


def show(
    ctx: typer.Context,
    paper_id: str = typer.Argument(..., metavar="ID", help="Paper id, arXiv id or DOI."),
    as_json: bool = AS_JSON,
) -> None:
    """Show one paper with its links and sources."""
    with engine(ctx).connect() as conn:  # the command line is the admin's: hidden papers too
        paper = queries.get_paper(conn, paper_id, include_hidden=True)
        precision = queries.published_precision(conn, [paper["id"]]) if paper else {}
    if paper is None:
        fail(f"no paper with id {paper_id!r}")
        return
    if as_json:
        emit_json(paper)
        return
    if paper["hidden"]:
        out.print("[yellow]hidden:[/] only admins see this paper", highlight=False)
    out.print(f"[bold]{escape(paper['title'])}[/]", highlight=False)
    out.print(f"id: {paper['id']}", highlight=False, markup=False)
    if paper["authors"]:
        out.print(", ".join(paper["authors"]), highlight=False, markup=False)
    dates = []
    if paper["published_at"]:
        known = precision.get(paper["id"], "day")
        dates.append(f"published {shown_date(paper['published_at'], known)}")
    if paper["updated_at"]:
        dates.append(f"updated {shown_date(paper['updated_at'])}")
    if dates:
        out.print("; ".join(dates))
    if paper["categories"]:
        out.print("categories: " + ", ".join(paper["categories"]), highlight=False, markup=False)
    for label, key in (("abs", "abs_url"), ("pdf", "pdf_url"), ("project", "project_url")):
        if paper[key]:
            out.print(f"{label}: {paper[key]}", highlight=False, markup=False)
    for url in paper["code_urls"]:
        out.print(f"code: {url}", highlight=False, markup=False)
    if paper["upstream_upvotes"] is not None:
        out.print(f"Hugging Face upvotes: {paper['upstream_upvotes']}")
    if paper["abstract"]:
        out.print()
        out.print(paper["abstract"], highlight=False, markup=False)
    out.print()
    for source in paper["sources"]:
        out.print(
            f"source {source['source']}:{source['source_id']} "
            f"(first seen {source['first_seen_at']:%Y-%m-%d %H:%M})",
            highlight=False,
            markup=False,
        )


def stats(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Counts of papers, sources, users and votes, and the last import."""
    with engine(ctx).connect() as conn:
        figures = queries.stats(conn)
        if as_json:
            emit_json(figures)
            return
        oldest, newest = (
            _date_as_known(conn, figures[end]) for end in ("oldest_published", "newest_published")
        )
    by_source = ", ".join(f"{name} {n}" for name, n in figures["papers_by_source"].items())
    lines = {
        "papers": figures["papers"],
        "sources": f"{figures['sources']}" + (f" ({by_source})" if by_source else ""),
        "with abstract": figures["with_abstract"],
        "with code": figures["with_code"],
        "published": f"{oldest} to {newest}" if figures["oldest_published"] else "-",
        "users": figures["users"],
        "upvotes": figures["upvotes"],
        "last import": _last_import(figures["last_import"]),
    }
    for label, value in lines.items():
        out.print(f"{label}: {value}", highlight=False, markup=False)


def _date_as_known(conn: Connection, when: datetime | None) -> str:
    """WHEN, a publication date in the store, as precisely as its paper's sources know it."""
    paper_id = queries.paper_published_at(conn, when) if when else None
    precision = queries.published_precision(conn, [paper_id]) if paper_id else {}
    return shown_date(when, precision.get(paper_id or "", "day"))


def _last_import(run: dict[str, Any] | None) -> str:
    if run is None:
        return "never"
    return (
        f"{run['finished_at']:%Y-%m-%d %H:%M} UTC, {run['what']}: {run['new']} new, "
        f"{run['updated']} updated, {run['duplicates']} duplicates, {run['rejected']} rejected"
    )


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command("import")(import_)
    app.command("list")(list_)
    app.command()(show)
    app.command()(stats)

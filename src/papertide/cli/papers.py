"""`papertide init`, `import`, `list`, `show`, `stats`: the stored papers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from papertide.cli.common import (
    EXIT_NOTHING_READ,
    application,
    byte_progress,
    emit_json,
    engine,
    fail,
    out,
    print_summary,
)
from papertide.ingest import sources
from papertide.ingest.runner import ImportSummary, import_file
from papertide.periods import PeriodError, period_range
from papertide.store import queries
from papertide.store.engine import current_revision

MAX_LIST = 1_000_000_000  # far below SQLite's 64-bit LIMIT, far above any database


def init(ctx: typer.Context) -> None:
    """Create the database (or migrate it to the current schema)."""
    eng = engine(ctx)
    url = application(ctx).settings.database_url
    out.print(f"database ready: {url} (schema {current_revision(eng)})", highlight=False)


def import_(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files to import."),
    fmt: str = typer.Option(
        "auto",
        "--format",
        "-f",
        help="auto (detect from the content) or a source's name (a wrong one lists them).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import papers from files: listing pages, JSONL, CSV, BibTeX, HF JSON, arXiv Atom, OAI-PMH."""
    formats = ["auto", *sources.format_names()]
    if fmt not in formats:
        fail(f"unknown format {fmt!r}; choose one of: {', '.join(formats)}")
    eng = engine(ctx)
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
        raise typer.Exit(EXIT_NOTHING_READ)


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
    day: str | None = typer.Option(None, "--day", help="YYYY-MM-DD, today or yesterday."),
    week: str | None = typer.Option(None, "--week", help="ISO week YYYY-Www or a day in it."),
    month: str | None = typer.Option(None, "--month", help="YYYY-MM."),
    limit: int | None = typer.Option(None, "--limit", "-n", help="At most N papers."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List papers, newest first (undated last); optionally those of one day, week or month."""
    if limit is not None and not 1 <= limit <= MAX_LIST:
        fail(f"--limit is a number from 1 to {MAX_LIST:,}")
    start, end = _period(ctx, day, week, month)
    with engine(ctx).connect() as conn:
        rows = queries.list_papers(conn, start, end, limit)
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
        published = row["published_at"].date().isoformat() if row["published_at"] else "-"
        table.add_row(Text(row["id"]), published, Text(row["title"]))  # text, not markup
    out.print(table)


def show(
    ctx: typer.Context,
    paper_id: str = typer.Argument(..., metavar="ID", help="Paper id, arXiv id or DOI."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show one paper with its links and sources."""
    with engine(ctx).connect() as conn:  # the command line is the admin's: hidden papers too
        paper = queries.get_paper(conn, paper_id, include_hidden=True)
    if paper is None:
        fail(f"no paper with id {paper_id!r}", EXIT_NOTHING_READ)
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
    dates = [
        f"{k.removesuffix('_at')} {paper[k]:%Y-%m-%d}"
        for k in ("published_at", "updated_at")
        if paper[k]
    ]
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


def stats(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Counts of papers, sources, users and votes."""
    with engine(ctx).connect() as conn:
        figures = queries.stats(conn)
    if as_json:
        emit_json(figures)
        return
    for key, value in figures.items():
        if isinstance(value, datetime):
            value = f"{value:%Y-%m-%d %H:%M}"
        elif isinstance(value, dict):
            value = ", ".join(
                f"{k} {v:%Y-%m-%d %H:%M}" if isinstance(v, datetime) else f"{k} {v}"
                for k, v in value.items()
            )
        out.print(f"{key}: {value}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command("import")(import_)
    app.command("list")(list_)
    app.command()(show)
    app.command()(stats)

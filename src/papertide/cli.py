"""The `papertide` command line."""

from __future__ import annotations

import html
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.engine import Engine

from papertide import __version__, cli_digest, cli_feed
from papertide.cli_common import (
    EXIT_NOTHING_READ,
    EXIT_UNREACHABLE,
    emit_json,
    engine,
    err,
    fail,
    indexes,
    out,
    print_summary,
    staged_progress,
    state,
)
from papertide.ingest import sync
from papertide.ingest.formats import FORMATS
from papertide.ingest.http import FetchError, SourceUnreachable
from papertide.ingest.runner import ImportSummary, import_file
from papertide.periods import PeriodError, parse_day, period_range
from papertide.search.embedder import (
    DEFAULT_MODEL,
    Embedder,
    EmbedderUnavailable,
    default_embedder,
    models_dir,
)
from papertide.search.hybrid import Boosts, Hit, SearchError, usable_mode
from papertide.search.hybrid import search as run_search
from papertide.search.hybrid import similar as run_similar
from papertide.search.keyword import Filters
from papertide.search.refresh import Indexes, refresh_all
from papertide.security import WeakPassword, hash_password, new_token
from papertide.store import accounts, queries
from papertide.store.engine import (
    current_revision,
    default_url,
    normalize_url,
)

app = typer.Typer(
    help="papertide: a self-hosted research-paper discovery engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sync_app = typer.Typer(help="Fetch new papers from live sources.", no_args_is_help=True)
app.add_typer(sync_app, name="sync")
users_app = typer.Typer(help="Accounts: create users and API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
model_app = typer.Typer(help="The embedding model used by semantic search.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@app.callback()
def main(
    db: str | None = typer.Option(
        None, "--db", envvar="PAPERTIDE_DB", help="Database URL or SQLite file path."
    ),
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        out.print(f"papertide {__version__}")
        raise typer.Exit()
    state.db_url = db


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@app.command()
def init() -> None:
    """Create the database (or migrate it to the current schema)."""
    url = state.db_url or default_url()
    eng = engine()
    out.print(f"database ready: {url} (schema {current_revision(eng)})", highlight=False)


@app.command("import")
def import_(
    paths: list[Path] = typer.Argument(..., help="Files to import."),
    fmt: str = typer.Option("auto", "--format", "-f", help="One of: " + ", ".join(FORMATS)),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import papers from files: listing pages, JSONL, CSV, BibTeX, HF JSON, arXiv Atom, OAI-PMH."""
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    eng = engine()
    summary = ImportSummary()
    with _progress() as progress:
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


SyncJob = Callable[[Callable[[ImportSummary], None]], ImportSummary]


def _run_sync(label: str, job: SyncJob, as_json: bool) -> None:
    """Run JOB with a live count of the papers it has stored so far."""
    try:
        with _progress() as progress:
            task = progress.add_task(f"syncing {label}", total=None)

            def show(summary: ImportSummary) -> None:
                stored = summary.accepted
                progress.update(task, description=f"syncing {label}: {stored} papers stored")

            summary = job(show)
    except SourceUnreachable as exc:
        fail(f"{label} is not reachable (offline?): {exc}", EXIT_UNREACHABLE)
    except FetchError as exc:
        fail(f"{label}: {exc}", EXIT_UNREACHABLE)
    print_summary(summary, as_json)


def _day_option(value: str | None, default: date) -> date:
    try:
        return parse_day(value) if value else default
    except PeriodError as exc:
        fail(str(exc))
        raise


@sync_app.command("arxiv")
def sync_arxiv(
    category: str = typer.Option("cs.LG", "--category", "-c", help="arXiv category, e.g. cs.CL."),
    since: str | None = typer.Option(
        None, help="First submission day (default: 3 days ago, or the last sync if older)."
    ),
    until: str | None = typer.Option(None, help="Last submission day (default: today)."),
    via: str = typer.Option("api", help="'api' (recent papers) or 'oai' (bulk harvests)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fetch papers of one arXiv category submitted in a date range."""
    today = datetime.now(UTC).date()
    eng = engine()
    start = _day_option(since, sync.default_since(eng, category, today))
    end = _day_option(until, today)
    if via == "oai":
        _run_sync(
            "arXiv OAI-PMH",
            lambda show: sync.sync_oai(eng, category, start, end, on_batch=show),
            as_json,
        )
    elif via == "api":
        _run_sync("arXiv", lambda show: sync.sync_arxiv(eng, category, start, end, show), as_json)
    else:
        fail("--via must be 'api' or 'oai'")


@sync_app.command("hf")
def sync_hf(
    day: str | None = typer.Option(None, "--date", help="Day YYYY-MM-DD (default: today)."),
    week: str | None = typer.Option(None, help="ISO week, e.g. 2026-W47."),
    month: str | None = typer.Option(None, help="Month, e.g. 2026-11."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fetch Hugging Face daily papers for a day, week or month."""
    chosen = {k: v for k, v in {"date": day, "week": week, "month": month}.items() if v}
    if len(chosen) > 1:
        fail("give at most one of --date, --week, --month")
    if not chosen:
        chosen = {"date": datetime.now(UTC).date().isoformat()}
    eng = engine()
    _run_sync("Hugging Face", lambda show: sync.sync_hf(eng, chosen, show), as_json)


def _period(day: str | None, week: str | None, month: str | None) -> tuple[Any, Any]:
    try:
        return period_range(day, week, month)
    except PeriodError as exc:
        fail(str(exc))
        raise


@app.command("list")
def list_(
    day: str | None = typer.Option(None, "--day", help="YYYY-MM-DD, today or yesterday."),
    week: str | None = typer.Option(None, "--week", help="ISO week YYYY-Www or a day in it."),
    month: str | None = typer.Option(None, "--month", help="YYYY-MM."),
    limit: int | None = typer.Option(None, "--limit", "-n", min=1, help="At most N papers."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List papers, newest first (undated last); optionally those of one day, week or month."""
    start, end = _period(day, week, month)
    with engine().connect() as conn:
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
        table.add_row(row["id"], published, row["title"])
    out.print(table)


@app.command()
def show(
    paper_id: str = typer.Argument(..., metavar="ID", help="Paper id, arXiv id or DOI."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show one paper with its links and sources."""
    with engine().connect() as conn:
        paper = queries.get_paper(conn, paper_id)
    if paper is None:
        fail(f"no paper with id {paper_id!r}", EXIT_NOTHING_READ)
        return
    if as_json:
        emit_json(paper)
        return
    out.print(f"[bold]{paper['title']}[/]", highlight=False)
    out.print(f"id: {paper['id']}", highlight=False)
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
        out.print("categories: " + ", ".join(paper["categories"]), highlight=False)
    for label, key in (("abs", "abs_url"), ("pdf", "pdf_url"), ("project", "project_url")):
        if paper[key]:
            out.print(f"{label}: {paper[key]}", highlight=False)
    for url in paper["code_urls"]:
        out.print(f"code: {url}", highlight=False)
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


@app.command()
def stats(as_json: bool = typer.Option(False, "--json")) -> None:
    """Counts of papers, sources, users and votes."""
    with engine().connect() as conn:
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


def _embedder_or_none(required: bool) -> Embedder | None:
    try:
        return default_embedder()
    except EmbedderUnavailable as exc:
        if required:
            fail(str(exc))
        err.print(f"[yellow]note:[/] {exc}; keyword search only", highlight=False)
        return None


def _refresh(eng: Engine, indexes: Indexes, embedder: Embedder | None, rebuild: bool) -> dict:
    with staged_progress() as show:
        return refresh_all(eng, indexes, embedder, rebuild, show)


@app.command()
def index(
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild every index from scratch."),
    keyword_only: bool = typer.Option(False, "--keyword-only", help="Skip embeddings."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Bring the search indexes up to date with the database (incremental unless --rebuild)."""
    eng = engine()
    embedder = None if keyword_only else _embedder_or_none(required=False)
    report = _refresh(eng, indexes(), embedder, rebuild)
    if as_json:
        emit_json(report)
    else:
        out.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in report.items()))


def _ready_to_search(mode: str) -> tuple[Engine, Indexes, Embedder | None, str]:
    """Database, up-to-date indexes and embedder for MODE; hybrid falls back to keyword (with a
    note) when the model is not prepared, semantic fails with a clear message."""
    try:
        usable_mode(mode, has_embedder=True)  # reject unknown modes before any work
    except SearchError as exc:
        fail(str(exc))
    eng = engine()
    embedder = None if mode == "keyword" else _embedder_or_none(required=mode == "semantic")
    mode = usable_mode(mode, embedder is not None)
    found = indexes()
    _refresh(eng, found, embedder, rebuild=False)
    return eng, found, embedder, mode


def _print_hits(hits: list[Hit], as_json: bool) -> None:
    if as_json:
        emit_json([h.as_json() for h in hits])
        return
    if not hits:
        out.print("no matching papers")
        return
    for rank, hit in enumerate(hits, 1):
        published = hit.paper.get("published_at")
        day = f" ({published:%Y-%m-%d})" if published else ""
        out.print(f"{rank:>2}. [bold]{hit.paper['title']}[/]{day}", highlight=False)
        out.print(
            f"    {hit.id}  score {hit.score:.4f}  via {hit.why}", highlight=False, markup=False
        )
        if hit.snippet:
            plain = html.unescape(re.sub(r"</?b>", "", hit.snippet))
            out.print("    " + plain, highlight=False, markup=False)


@app.command("search")
def search_(
    query: str = typer.Argument(..., help='Words, "exact phrases", prefix*.'),
    mode: str = typer.Option("hybrid", "--mode", "-m", help="keyword, semantic or hybrid."),
    k: int = typer.Option(10, "--k", "-k", min=1, max=1000, help="How many results."),
    since: str | None = typer.Option(None, help="Published on or after DAY."),
    until: str | None = typer.Option(None, help="Published before DAY."),
    category: str | None = typer.Option(None, "--category", "-c", help="e.g. cs.LG"),
    author: str | None = typer.Option(None, "--author", "-a", help="Author name or surname."),
    boost: list[str] = typer.Option(
        [], "--boost", help="Favour 'recent' papers and/or papers with 'votes' (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search papers by keywords (BM25), meaning (embeddings) or both (hybrid, the default)."""
    unknown = set(boost) - {"recent", "votes"}
    if unknown:
        fail(f"unknown boost {', '.join(sorted(unknown))}: use recent or votes")
    boosts = Boosts(recency=0.5 if "recent" in boost else 0.0, votes=0.5 if "votes" in boost else 0)
    filters = Filters(
        since=_day_start(since), until=_day_start(until), category=category, author=author
    )
    eng, indexes, embedder, mode = _ready_to_search(mode)
    try:
        hits = run_search(eng, indexes, query, mode, k, filters, embedder, boosts)  # type: ignore[arg-type]
    except SearchError as exc:
        fail(str(exc))
        return
    _print_hits(hits, as_json)


@app.command()
def similar(
    paper_id: str = typer.Argument(..., metavar="ID"),
    k: int = typer.Option(10, "--k", "-k", min=1, max=1000),
    mode: str = typer.Option("hybrid", "--mode", "-m", help="keyword, semantic or hybrid."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Papers similar to one paper."""
    eng, indexes, embedder, mode = _ready_to_search(mode)
    try:
        hits = run_similar(eng, indexes, paper_id, k, mode, embedder)  # type: ignore[arg-type]
    except SearchError as exc:
        fail(str(exc), EXIT_NOTHING_READ)
        return
    _print_hits(hits, as_json)


def _day_start(value: str | None) -> datetime | None:
    if not value:
        return None
    day = _day_option(value, date.today())
    return datetime(day.year, day.month, day.day)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the web app and the JSON API (docs at /docs)."""
    import uvicorn

    url = normalize_url(state.db_url or default_url())
    engine()  # fail early, with a clear message, on a bad database
    os.environ["PAPERTIDE_DB"] = url  # worker processes build their app from it
    out.print(f"papertide on http://{host}:{port}/ (database {url})", highlight=False)
    uvicorn.run(
        "papertide.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


@users_app.command("create")
def users_create(
    username: str = typer.Argument(...),
    admin: bool = typer.Option(False, "--admin", help="Give the admin role."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (for scripts)."
    ),
) -> None:
    """Create a user (the first admin is created this way)."""
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    try:
        with engine().begin() as conn:
            accounts.create_user(
                conn, username, hash_password(password), "admin" if admin else "user"
            )
    except (WeakPassword, accounts.AccountError) as exc:
        fail(str(exc))
    out.print(f"created {'admin' if admin else 'user'} {username}", highlight=False)


@users_app.command("token")
def users_token(
    username: str = typer.Argument(...),
    name: str = typer.Option("cli", help="A label for the token."),
) -> None:
    """Create an API token for a user and print it (it is shown only once)."""
    token, hashed = new_token()
    with engine().begin() as conn:
        user = accounts.user_by_name(conn, username)
        if user is None:
            fail(f"no user {username!r}", EXIT_NOTHING_READ)
            return
        accounts.create_api_token(conn, hashed, user["id"], name)
    sys.stdout.write(token + "\n")


@users_app.command("hide-votes")
def users_hide_votes(
    username: str = typer.Argument(...),
    undo: bool = typer.Option(False, "--undo", help="Count the user's votes again."),
) -> None:
    """Stop counting a user's votes (admin moderation), or count them again with --undo."""
    try:
        with engine().begin() as conn:
            accounts.set_votes_hidden(conn, username, not undo)
    except accounts.AccountError as exc:
        fail(str(exc), EXIT_NOTHING_READ)
    out.print(f"votes of {username} {'count again' if undo else 'hidden'}", highlight=False)


@model_app.command("prepare")
def model_prepare(
    source: Path | None = typer.Option(None, help="A local sentence-transformers model folder."),
    hub: str | None = typer.Option(None, help="A Hugging Face Hub repo to download (network)."),
    force: bool = typer.Option(False, "--force", help="Prepare again even if present."),
) -> None:
    """Export the embedding model to int8 ONNX (once; searching never needs the network)."""
    from papertide.search import model_build

    target = models_dir() / DEFAULT_MODEL
    if model_build.is_current(target) and not force and not source and not hub:
        out.print(f"model ready: {target}")
        return
    try:
        with _progress() as progress:
            progress.add_task("exporting the embedding model", total=None)
            if hub:
                origin = model_build.download(hub, target.with_name(target.name + ".download"))
            else:
                origin = source or model_build.bundled_source()
            model_build.prepare(
                origin, target, "all-MiniLM-L6-v2" if not (source or hub) else (hub or origin.name)
            )
    except EmbedderUnavailable as exc:
        fail(str(exc))
    except ImportError as exc:
        fail(f"exporting needs the model-build extra (torch, transformers): {exc}")
    out.print(f"model ready: {target}")


@model_app.command("info")
def model_info(as_json: bool = typer.Option(False, "--json")) -> None:
    """Show the prepared embedding model."""
    try:
        embedder = default_embedder()
    except EmbedderUnavailable as exc:
        fail(str(exc), EXIT_NOTHING_READ)
        return
    info = {"name": embedder.name, "dim": embedder.dim, "path": str(models_dir() / DEFAULT_MODEL)}
    if as_json:
        emit_json(info)
    else:
        for key, value in info.items():
            out.print(f"{key}: {value}", highlight=False)


cli_feed.register(app)
cli_digest.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()

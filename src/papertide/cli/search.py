"""`papertide index`, `search`, `similar`: the one index writer and the readers."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

import typer
from rich.markup import escape
from sqlalchemy.engine import Engine

from papertide.cli.common import (
    AS_JSON,
    EXIT_NOTHING_DONE,
    EXIT_UNREACHABLE,
    application,
    emit_json,
    engine,
    err,
    fail,
    indexes,
    out,
    shown_date,
    staged_progress,
)
from papertide.cli.sync import day_option
from papertide.search.embedder import Embedder, EmbedderUnavailable
from papertide.search.generations import IndexBusy, Indexes
from papertide.search.hybrid import Boosts, Hit, SearchError, usable_mode
from papertide.search.hybrid import search as run_search
from papertide.search.hybrid import similar as run_similar
from papertide.search.keyword import Filters
from papertide.search.ray_embed import RayUnavailable, RayUnreachable, require_ray
from papertide.search.refresh import papers_behind
from papertide.store import queries


def _embedder_or_none(ctx: typer.Context, required: bool) -> Embedder | None:
    try:
        return application(ctx).require_embedder()
    except EmbedderUnavailable as exc:
        if required:
            fail(str(exc), EXIT_NOTHING_DONE)
        err.print(f"[yellow]note:[/] {exc}; keyword search only", highlight=False)
        return None


def index(
    ctx: typer.Context,
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild every index from scratch."),
    keyword_only: bool = typer.Option(False, "--keyword-only", help="Skip embeddings."),
    ray_address: str | None = typer.Option(
        None,
        "--ray",
        metavar="ADDRESS",
        help="Embed on this Ray cluster: auto, ray://HEAD:10001 or HOST:PORT (docs/ray.md).",
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Bring the search indexes up to date with the database (incremental unless --rebuild)."""
    pt = application(ctx)
    if pt.ray_plan(ray_address) and not keyword_only:
        try:
            require_ray()
        except RayUnavailable as exc:
            fail(str(exc))
    engine(ctx)  # a clear error for a database that cannot be opened
    if not keyword_only:
        _embedder_or_none(ctx, required=False)
    try:
        with staged_progress() as show:
            report = pt.update_indexes(
                rebuild, keyword_only, progress=show, wait=False, ray_address=ray_address
            )
    except IndexBusy as exc:
        fail(f"{exc}; try again when it has finished", EXIT_NOTHING_DONE)
        return
    except RayUnreachable as exc:
        fail(str(exc), EXIT_UNREACHABLE)
        return
    except RayUnavailable as exc:  # what was embedded before it stays stored
        fail(str(exc), EXIT_NOTHING_DONE)
        return
    if as_json:
        emit_json(report)
    else:
        out.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in report.items()))


def _ready_to_search(ctx: typer.Context, mode: str) -> tuple[Engine, Indexes, Embedder | None, str]:
    """Database, the published indexes and the embedder for MODE; hybrid falls back to keyword
    (with a note) when the model is not prepared, semantic fails with a clear message. Readers
    never write: a note says when the indexes are behind the database."""
    try:
        usable_mode(mode, has_embedder=True)  # reject unknown modes before any work
    except SearchError as exc:
        fail(str(exc))
    eng = engine(ctx)
    embedder = None if mode == "keyword" else _embedder_or_none(ctx, required=mode == "semantic")
    mode = usable_mode(mode, embedder is not None)
    found = indexes(ctx)
    behind = papers_behind(eng, found)
    if behind:
        err.print(
            f"[yellow]note:[/] {behind} paper{'s' * (behind != 1)} changed since the last "
            "index run; `papertide index` takes them in",
            highlight=False,
        )
    return eng, found, embedder, mode


def _print_hits(eng: Engine, hits: list[Hit], as_json: bool) -> None:
    if as_json:
        emit_json([h.as_json() for h in hits])
        return
    if not hits:
        out.print("no matching papers")
        return
    with eng.connect() as conn:
        precision = queries.published_precision(conn, [hit.id for hit in hits])
    for rank, hit in enumerate(hits, 1):
        published = hit.paper.get("published_at")
        day = f" ({shown_date(published, precision.get(hit.id, 'day'))})" if published else ""
        out.print(f"{rank:>2}. [bold]{escape(hit.paper['title'])}[/]{day}", highlight=False)
        out.print(
            f"    {hit.id}  score {hit.score:.4f}  via {hit.why}", highlight=False, markup=False
        )
        if hit.snippet:
            plain = html.unescape(re.sub(r"</?b>", "", hit.snippet))
            out.print("    " + plain, highlight=False, markup=False)


# What every command that runs a search takes (search, export search).
QUERY = typer.Argument(..., metavar="QUERY", help='Words, "exact phrases", prefix*.')
MODE = typer.Option("hybrid", "--mode", "-m", metavar="MODE", help="keyword, semantic or hybrid.")
SINCE = typer.Option(
    None, metavar="DAY", help="Published on or after DAY (YYYY-MM-DD, today, yesterday)."
)
UNTIL = typer.Option(None, metavar="DAY", help="Published before DAY.")
CATEGORY = typer.Option(
    None, "--category", "-c", metavar="CATEGORY", help="Only this arXiv category, e.g. cs.LG."
)
AUTHOR = typer.Option(None, "--author", "-a", metavar="NAME", help="Author name or surname.")


def results_option(default: int) -> Any:
    """The --k option, with DEFAULT results."""
    return typer.Option(
        default, "--k", "-k", min=1, max=1000, metavar="N", help="How many results."
    )


def search_filters(
    ctx: typer.Context,
    since: str | None,
    until: str | None,
    category: str | None,
    author: str | None,
) -> Filters:
    """The Filters of the shared options' values."""
    return Filters(
        since=_day_start(ctx, since), until=_day_start(ctx, until), category=category, author=author
    )


def search_(
    ctx: typer.Context,
    query: str = QUERY,
    mode: str = MODE,
    k: int = results_option(10),
    since: str | None = SINCE,
    until: str | None = UNTIL,
    category: str | None = CATEGORY,
    author: str | None = AUTHOR,
    boost: list[str] = typer.Option(
        [],
        "--boost",
        metavar="recent|votes",
        help="Favour 'recent' papers and/or papers with 'votes' (repeatable).",
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Search papers by keywords (BM25), meaning (embeddings) or both (hybrid, the default)."""
    unknown = set(boost) - {"recent", "votes"}
    if unknown:
        fail(f"unknown boost {', '.join(sorted(unknown))}: use recent or votes")
    boosts = Boosts(recency=0.5 if "recent" in boost else 0.0, votes=0.5 if "votes" in boost else 0)
    filters = search_filters(ctx, since, until, category, author)
    eng, indexes, embedder, mode = _ready_to_search(ctx, mode)
    try:
        hits = run_search(
            eng, indexes, query, mode, k, filters, embedder, boosts, application(ctx).clock.now()
        )  # type: ignore[arg-type]
    except SearchError as exc:
        fail(str(exc))
        return
    _print_hits(eng, hits, as_json)


def similar(
    ctx: typer.Context,
    paper_id: str = typer.Argument(..., metavar="ID", help="Paper id, arXiv id or DOI."),
    k: int = results_option(10),
    mode: str = MODE,
    as_json: bool = AS_JSON,
) -> None:
    """Papers similar to one paper."""
    eng, indexes, embedder, mode = _ready_to_search(ctx, mode)
    try:
        hits = run_similar(eng, indexes, paper_id, k, mode, embedder)  # type: ignore[arg-type]
    except SearchError as exc:
        fail(str(exc))
        return
    _print_hits(eng, hits, as_json)


def _day_start(ctx: typer.Context, value: str | None) -> datetime | None:
    if not value:
        return None
    day = day_option(ctx, value, application(ctx).clock.now().date())
    return datetime(day.year, day.month, day.day)


def register(app: typer.Typer) -> None:
    app.command()(index)
    app.command("search")(search_)
    app.command()(similar)

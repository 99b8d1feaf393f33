"""`papertide library`, `follow`, `recommend`: a user's signals and their personal feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from sqlalchemy.engine import Engine

from papertide.cli.common import (
    AS_JSON,
    EXIT_NOTHING_DONE,
    application,
    emit_json,
    engine,
    err,
    fail,
    indexes,
    out,
    print_summary,
    user_named,
    writing_to,
)
from papertide.cli.framework import CommandGroup
from papertide.ingest.seed import seed_library
from papertide.store import library, queries

library_app = CommandGroup(help="A user's library: saved and rated papers.", no_args_is_help=True)
follow_app = CommandGroup(help="Follow authors and saved searches.", no_args_is_help=True)
USER = typer.Option(..., "--user", "-u", metavar="USER", help="The user's login name.")
PAPER_IDS = typer.Argument(..., metavar="ID", help="Paper ids (arXiv ids, DOIs, papertide ids).")


def _user_id(eng: Engine, username: str) -> int:
    return user_named(eng, username)["id"]


def _paper_ids(eng: Engine, refs: list[str]) -> list[str]:
    with eng.connect() as conn:
        found = {ref: queries.resolve_id(conn, ref) for ref in refs}
    missing = [ref for ref, pid in found.items() if pid is None]
    if missing:
        fail(f"no paper with id {', '.join(map(repr, missing))}")
    return [pid for pid in found.values() if pid]


@library_app.command("add")
def library_add(
    ctx: typer.Context,
    papers: list[str] = PAPER_IDS,
    user: str = USER,
    rating: str = typer.Option(
        "none", metavar="up|down|none", help="Also rate them: up, down or none."
    ),
) -> None:
    """Save papers to a user's library (thumbs up/down with --rating)."""
    if rating not in library.RATINGS:  # before any paper is saved
        fail(f"--rating is one of {', '.join(library.RATINGS)}, not {rating!r}")
    eng = engine(ctx)
    user_id = _user_id(eng, user)
    ids = _paper_ids(eng, papers)
    with eng.begin() as conn:
        for paper_id in ids:
            if rating != "down":
                library.set_saved(conn, user_id, paper_id, True)
            library.set_rating(conn, user_id, paper_id, rating)
    out.print(f"{len(ids)} paper(s) in {user}'s library", highlight=False)


@library_app.command("remove")
def library_remove(ctx: typer.Context, papers: list[str] = PAPER_IDS, user: str = USER) -> None:
    """Take papers out of a user's library (and clear their rating)."""
    eng = engine(ctx)
    user_id = _user_id(eng, user)
    with eng.begin() as conn:
        for paper_id in _paper_ids(eng, papers):
            library.set_saved(conn, user_id, paper_id, False)
            library.set_rating(conn, user_id, paper_id, "none")


@library_app.command("list")
def library_list(ctx: typer.Context, user: str = USER, as_json: bool = AS_JSON) -> None:
    """A user's library, newest first."""
    eng = engine(ctx)
    with eng.connect() as conn:
        rows = library.entries(conn, _user_id(eng, user))
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        mark = {1: "+", -1: "-"}.get(row["rating"], " ")
        out.print(f"{mark} {row['paper_id']:<24} {row['title']}", highlight=False, markup=False)


@library_app.command("import")
def library_import(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="A BibTeX or Zotero export (any format `import` reads).",
        exists=True,
        dir_okay=False,
    ),
    user: str = USER,
    as_json: bool = AS_JSON,
) -> None:
    """Seed a user's library from a file; papers not in the database are added from it."""
    eng = engine(ctx)
    summary, saved = seed_library(eng, _user_id(eng, user), file)
    if as_json:
        emit_json({**summary.as_json(), "saved": saved})
    else:
        print_summary(summary, False)
        out.print(f"{saved} paper(s) newly saved to {user}'s library", highlight=False)
    if summary.accepted == 0 and summary.rejected_count > 0:  # as `import`: nothing read
        raise typer.Exit(EXIT_NOTHING_DONE)


@follow_app.command("author")
def follow_author(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The author's name."),
    user: str = USER,
    undo: bool = typer.Option(False, "--undo", help="Stop following."),
) -> None:
    """Follow an author: their new papers come first in the feed and digest."""
    _follow(ctx, user, "author", name, undo)


@follow_app.command("query")
def follow_query(
    ctx: typer.Context,
    query: str = typer.Argument(..., metavar="QUERY", help="The search to follow."),
    user: str = USER,
    undo: bool = typer.Option(False, "--undo", help="Stop following."),
) -> None:
    """Follow a saved search: new papers matching it come into the feed and digest."""
    _follow(ctx, user, "query", query, undo)


def _follow(ctx: typer.Context, username: str, kind: str, value: str, undo: bool) -> None:
    eng = engine(ctx)
    user_id = _user_id(eng, username)
    with eng.begin() as conn:
        if undo:
            library.unfollow(conn, user_id, kind, value)
        else:
            try:
                library.follow(conn, user_id, kind, value)
            except ValueError as exc:
                fail(str(exc))
    out.print(
        f"{username} {'no longer follows' if undo else 'follows'} {kind} {value!r}", markup=False
    )


def recommend(
    ctx: typer.Context,
    user: str = USER,
    k: int = typer.Option(20, "--k", min=1, max=500, metavar="N", help="How many picks."),
    days: int = typer.Option(
        30, min=1, max=3650, metavar="DAYS", help="Only papers published in the last DAYS days."
    ),
    as_json: bool = AS_JSON,
) -> None:
    """A user's personal picks, each with the reason it was picked."""
    eng = engine(ctx)
    feed = application(ctx).recommender.feed(_user_id(eng, user), k, days)
    if feed.note:  # widened or empty, and why: on stderr, so --json stays the picks alone
        typer.echo(feed.note, err=True)
    picks = feed.picks
    if as_json:
        emit_json([p.as_json() for p in picks])
        return
    for rank, pick in enumerate(picks, 1):
        out.print(
            f"{rank:>2}. {pick.paper.get('title')}  [{pick.id}]", highlight=False, markup=False
        )
        out.print(f"    {pick.reason}", style="dim", highlight=False, markup=False)


topics_app = CommandGroup(
    help="Topics: clusters of papers with readable labels.", no_args_is_help=True
)


@topics_app.command("build")
def topics_build(
    ctx: typer.Context,
    count: int | None = typer.Option(
        None,
        "--k",
        min=2,
        max=1000,
        metavar="N",
        help="Number of topics (default: chosen from the data).",
    ),
) -> None:
    """Cluster all indexed papers into topics (run after `index`; the scheduler does it)."""
    from papertide.rank import topics

    made = topics.build(engine(ctx), indexes(ctx), count, lambda step: err.print(step))
    if not made:
        fail("too few indexed papers for topics: run `papertide index` first", EXIT_NOTHING_DONE)
    out.print(f"{made} topics", highlight=False)


@topics_app.command("list")
def topics_list(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Topics, largest first."""
    from papertide.store import topics as stored

    with engine(ctx).connect() as conn:
        rows = stored.all_topics(conn)
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        out.print(
            f"{row['id']:>4}  {row['size']:>6}  {row['label']}", highlight=False, markup=False
        )


@topics_app.command("show")
def topics_show(
    ctx: typer.Context,
    topic_id: int = typer.Argument(..., metavar="ID", help="A topic id `topics list` shows."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, metavar="N", help="At most N papers."),
    as_json: bool = AS_JSON,
) -> None:
    """One topic: its terms and newest papers."""
    from papertide.store import topics as stored

    with engine(ctx).connect() as conn:
        topic = stored.get(conn, topic_id)
        if topic is None:
            fail(f"no topic {topic_id}")
            return
        ids = stored.papers_of(conn, topic_id, limit)
        found = queries.summaries(conn, ids)
    papers = [found[i] for i in ids if i in found]
    if as_json:
        emit_json({**topic, "papers": papers})
        return
    out.print(f"{topic['label']}  ({topic['size']} papers)", highlight=False, markup=False)
    out.print("terms: " + ", ".join(topic["terms"]), highlight=False, markup=False)
    for paper in papers:
        out.print(f"  {paper['id']:<24} {paper['title']}", highlight=False, markup=False)


@topics_app.command("map")
def topics_map(
    ctx: typer.Context,
    out_file: Path = typer.Option(..., "--out", metavar="FILE", help="An .svg or .png file."),
) -> None:
    """Draw the 2-D topic map."""
    from papertide.rank import topics

    fmt = out_file.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        fail("--out must end in .svg or .png")
    eng = engine(ctx)
    with writing_to(out_file):
        drawn = topics.draw_map(eng, out_file, fmt)
    out.print(f"wrote {out_file} ({drawn} topics)", highlight=False)


def register(app: Any) -> None:
    app.add_typer(library_app, name="library")
    app.add_typer(follow_app, name="follow")
    app.add_typer(topics_app, name="topics")
    app.command()(recommend)

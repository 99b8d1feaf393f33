"""`papertide submissions ...`: the operator's view of submitted papers, and removals."""

from __future__ import annotations

import typer

from papertide.cli.common import AS_JSON, application, emit_json, engine, fail, out
from papertide.cli.framework import CommandGroup
from papertide.store import queries
from papertide.store import submissions as store

submissions_app = CommandGroup(
    help="Papers submitted to the daily lists: list them, remove one.", no_args_is_help=True
)


@submissions_app.command("list")
def submissions_list(
    ctx: typer.Context,
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, metavar="N", help="At most N."),
    as_json: bool = AS_JSON,
) -> None:
    """Submissions, newest first, removed ones included (marked so)."""
    with engine(ctx).connect() as conn:
        found = store.all_submissions(conn, limit)
    shown = [
        {
            "paper_id": s["paper_id"],
            "title": s["title"],
            "origin": s["origin"],
            "submitter": s["submitter"],
            "comment": s["comment"],
            "submitted_at": s["submitted_at"],
            "removed_at": s["removed_at"],
        }
        for s in found
    ]
    if as_json:
        emit_json(shown)
        return
    for s in shown:
        removed = f"  removed {s['removed_at']:%Y-%m-%d %H:%M}" if s["removed_at"] else ""
        where = "" if s["origin"] == store.MEMBER else f" ({store.ORIGIN_NAMES.get(s['origin'])})"
        out.print(
            f"{s['submitted_at']:%Y-%m-%d %H:%M}  {s['paper_id']}  {s['submitter']}{where}  "
            f"{s['title'][:80]}{removed}",
            highlight=False,
            markup=False,
        )
    if not shown:
        out.print("no submissions yet", highlight=False)


@submissions_app.command("remove")
def submissions_remove(
    ctx: typer.Context,
    paper: str = typer.Argument(..., metavar="ID", help="The paper (any id `show` takes)."),
) -> None:
    """Take a paper off the submitted lists (it cannot be submitted again)."""
    pt = application(ctx)
    with engine(ctx).connect() as conn:
        paper_id = queries.resolve_id(conn, paper, include_hidden=True)
    if paper_id is None:
        fail(f"no paper {paper!r}")
        return
    try:
        with engine(ctx).begin() as conn:
            store.remove(conn, paper_id, None, pt.clock.now())
    except store.SubmissionError as exc:
        fail(str(exc))
    out.print(f"removed the submission of {paper_id}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(submissions_app, name="submissions")

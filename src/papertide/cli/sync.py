"""`papertide sync NAME`: fetch new papers from live sources, one sub-command per source that
declares one (ingest/sources.py); arXiv's and Hugging Face's are here."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import typer
from typer.core import TyperCommand, TyperGroup

from papertide.cli.common import (
    AS_JSON,
    EXIT_UNREACHABLE,
    application,
    byte_progress,
    engine,
    fail,
    print_summary,
)
from papertide.cli.framework import CommandGroup
from papertide.ingest import sources, sync
from papertide.ingest.http import FetchError, SourceUnreachable
from papertide.ingest.runner import ImportSummary
from papertide.periods import PeriodError, month_range, parse_day, week_range


class _SourceCommands(TyperGroup):
    """The sub-commands of the registered sources, looked up when the command line runs: the
    built-in sources are loaded on first use, and a plugin may register one later."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [s.name for s in sources.all_sources() if s.command]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | None:
        try:
            source = sources.get(cmd_name)
        except KeyError:
            return None
        if source.command is None or source.name != cmd_name:
            return None
        single = CommandGroup(add_completion=False)
        single.command(source.name)(source.command)
        return typer.main.get_command(single)  # type: ignore[return-value]


sync_app = CommandGroup(
    cls=_SourceCommands, help="Fetch new papers from live sources.", no_args_is_help=True
)
SyncJob = Callable[[Callable[[ImportSummary], None]], ImportSummary]


def _run_sync(label: str, job: SyncJob, as_json: bool) -> None:
    """Run JOB with a live count of the papers it has stored so far."""
    try:
        with byte_progress() as progress:
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


def day_option(ctx: typer.Context, value: str | None, default: date) -> date:
    """A --since/--until style day (YYYY-MM-DD, today, yesterday), or DEFAULT."""
    try:
        return parse_day(value, application(ctx).clock.now().date()) if value else default
    except PeriodError as exc:
        fail(str(exc))
        raise


# An arXiv archive (cs, hep-th, astro-ph, q-bio), optionally with a subject class (cs.LG,
# math.AP, astro-ph.GA, cond-mat.mes-hall): checked before any request, so a typo is a typo
# and not "arXiv is not reachable".
ARXIV_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?")


def checked_category(category: str) -> str:
    if not ARXIV_CATEGORY.fullmatch(category):
        fail(f"not an arXiv category (like cs.LG, math.AP, hep-th or astro-ph.GA): {category!r}")
    return category


def sync_arxiv(
    ctx: typer.Context,
    category: str = typer.Option(
        "cs.LG", "--category", "-c", metavar="CATEGORY", help="arXiv category, e.g. cs.CL."
    ),
    since: str | None = typer.Option(
        None,
        metavar="DAY",
        help="First submission day (default: 3 days ago, or the last sync if older).",
    ),
    until: str | None = typer.Option(
        None, metavar="DAY", help="Last submission day (default: today)."
    ),
    via: str = typer.Option(
        "api", metavar="api|oai", help="'api' (recent papers) or 'oai' (bulk harvests)."
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Fetch papers of one arXiv category submitted in a date range."""
    checked_category(category)
    if via not in ("api", "oai"):
        fail("--via must be 'api' or 'oai'")
    pt = application(ctx)
    today = pt.clock.now().date()
    end = day_option(ctx, until, today)
    if since:
        day_option(ctx, since, today)  # a bad day is reported before the database is opened
    eng, settings = engine(ctx, create=True), pt.settings
    start = day_option(ctx, since, sync.default_since(eng, category, today))
    if start > end:
        fail(f"--since {start} is after --until {end}")
    if via == "oai":
        _run_sync(
            "arXiv OAI-PMH",
            lambda show: sync.sync_oai(eng, settings, category, start, end, on_batch=show),
            as_json,
        )
    else:
        _run_sync(
            "arXiv",
            lambda show: sync.sync_arxiv(eng, settings, category, start, end, show),
            as_json,
        )


def sync_hf(
    ctx: typer.Context,
    day: str | None = typer.Option(
        None, "--date", metavar="DAY", help="Day YYYY-MM-DD (default: today)."
    ),
    week: str | None = typer.Option(None, metavar="WEEK", help="ISO week, e.g. 2026-W47."),
    month: str | None = typer.Option(None, metavar="MONTH", help="Month, e.g. 2026-11."),
    as_json: bool = AS_JSON,
) -> None:
    """Fetch Hugging Face daily papers for a day, week or month."""
    chosen = {k: v for k, v in {"date": day, "week": week, "month": month}.items() if v}
    if len(chosen) > 1:
        fail("give at most one of --date, --week, --month")
    chosen = _hf_period(chosen, application(ctx).clock.now().date())
    eng, settings = engine(ctx, create=True), application(ctx).settings
    _run_sync("Hugging Face", lambda show: sync.sync_hf(eng, settings, chosen, show), as_json)


def _hf_period(chosen: dict[str, str], today: date) -> dict[str, str]:
    """The one period the user chose, checked and written as the Hugging Face API takes it
    (`today`, `this` or a day inside a week become YYYY-MM-DD, YYYY-Www, YYYY-MM)."""
    kind, value = next(iter(chosen.items()), ("date", "today"))
    try:
        if kind == "date":
            return {"date": parse_day(value, today).isoformat()}
        if kind == "week":
            year, week, _ = week_range(value, today)[0].isocalendar()
            return {"week": f"{year}-W{week:02d}"}
        start = month_range(value, today)[0]
        return {"month": f"{start.year}-{start.month:02d}"}
    except PeriodError as exc:
        fail(f"--{kind}: {exc}")
        raise


def register(app: typer.Typer) -> None:
    app.add_typer(sync_app, name="sync")

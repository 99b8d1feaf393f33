"""`papertide sync NAME`: fetch new papers from live sources, one sub-command per source that
declares one (ingest/sources.py); arXiv's and Hugging Face's are here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import typer
from typer.core import TyperCommand, TyperGroup

from papertide.cli.common import (
    EXIT_UNREACHABLE,
    application,
    byte_progress,
    engine,
    fail,
    print_summary,
)
from papertide.ingest import sources, sync
from papertide.ingest.http import FetchError, SourceUnreachable
from papertide.ingest.runner import ImportSummary
from papertide.periods import PeriodError, parse_day


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
        single = typer.Typer(add_completion=False)
        single.command(source.name)(source.command)
        return typer.main.get_command(single)  # type: ignore[return-value]


sync_app = typer.Typer(
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


def sync_arxiv(
    ctx: typer.Context,
    category: str = typer.Option("cs.LG", "--category", "-c", help="arXiv category, e.g. cs.CL."),
    since: str | None = typer.Option(
        None, help="First submission day (default: 3 days ago, or the last sync if older)."
    ),
    until: str | None = typer.Option(None, help="Last submission day (default: today)."),
    via: str = typer.Option("api", help="'api' (recent papers) or 'oai' (bulk harvests)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fetch papers of one arXiv category submitted in a date range."""
    pt = application(ctx)
    today = pt.clock.now().date()
    eng, settings = engine(ctx), pt.settings
    start = day_option(ctx, since, sync.default_since(eng, category, today))
    end = day_option(ctx, until, today)
    if via == "oai":
        _run_sync(
            "arXiv OAI-PMH",
            lambda show: sync.sync_oai(eng, settings, category, start, end, on_batch=show),
            as_json,
        )
    elif via == "api":
        _run_sync(
            "arXiv",
            lambda show: sync.sync_arxiv(eng, settings, category, start, end, show),
            as_json,
        )
    else:
        fail("--via must be 'api' or 'oai'")


def sync_hf(
    ctx: typer.Context,
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
        chosen = {"date": application(ctx).clock.now().date().isoformat()}
    eng, settings = engine(ctx), application(ctx).settings
    _run_sync("Hugging Face", lambda show: sync.sync_hf(eng, settings, chosen, show), as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(sync_app, name="sync")

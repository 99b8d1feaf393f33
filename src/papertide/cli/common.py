"""What every `papertide` command shares: consoles, exit codes, the application object (built
once by the root callback and kept in Typer's context), JSON output, progress displays."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import Engine

from papertide.application import Papertide
from papertide.cli.errors import (
    EXIT_NOTHING_DONE,
    EXIT_UNREACHABLE,
    EXIT_USER_ERROR,
    err,
    fail,
)
from papertide.ingest.runner import ImportSummary
from papertide.search.generations import Indexes
from papertide.store.engine import StoreError, require_existing

out = Console(soft_wrap=True)
__all__ = ["EXIT_NOTHING_DONE", "EXIT_UNREACHABLE", "EXIT_USER_ERROR", "err", "fail", "out"]


class _StderrHandler(logging.StreamHandler):
    """Log records to whatever sys.stderr is when they are written (in-process CLI tests swap
    it for every command)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str) -> None:
    """Log LEVEL and above to stderr, once per process however many commands run in it."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)


@contextmanager
def writing_to(path: Path) -> Iterator[None]:
    """Around code that writes PATH: a missing folder, a name too long or no permission is one
    error line, not a traceback."""
    try:
        yield
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


AS_JSON = typer.Option(False, "--json", help="Print JSON (the shapes are in the README).")


def application(ctx: typer.Context) -> Papertide:
    """The application object the root callback built for this command."""
    return ctx.find_root().obj


def engine(ctx: typer.Context, *, create: bool = False) -> Engine:
    """The database, migrated. Only commands that can start from an empty database (CREATE:
    init, import, sync, ...) create a missing SQLite file; any other says it is missing, so a
    mistyped --db never leaves an empty database and its folders behind."""
    pt = application(ctx)
    try:
        if not create:
            require_existing(pt.settings.database_url)
        return pt.engine
    except StoreError as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


def indexes(ctx: typer.Context) -> Indexes:
    """The published index generation (read only)."""
    return application(ctx).indexes()


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=_json_default, ensure_ascii=False, indent=2) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def shown_date(value: datetime | None, precision: str = "day") -> str:
    """A stored date as precisely as it is known: `2026` for a year-only date (stored as its
    1 January), `2026-01` for a month, the day otherwise; '-' for none."""
    if value is None:
        return "-"
    return value.strftime({"year": "%Y", "month": "%Y-%m"}.get(precision, "%Y-%m-%d"))


def print_summary(summary: ImportSummary, as_json: bool) -> None:
    if as_json:
        emit_json(summary.as_json())
        return
    out.print(
        f"[green]{summary.new} new[/], {summary.updated} updated, "
        f"{summary.duplicates} duplicates, [yellow]{summary.rejected_count} rejected[/]"
        + (f" (resumed {summary.resumed_jobs} interrupted job(s))" if summary.resumed_jobs else ""),
        highlight=False,
    )
    for reject in summary.rejected[:20]:
        out.print(f"  rejected {reject.where}: {reject.reason}", highlight=False, markup=False)
    if summary.rejected_count > 20:
        out.print(f"  ... and {summary.rejected_count - 20} more (use --json for all)")
    for warning in summary.warnings[:20]:
        out.print(f"  warning {warning.where}: {warning.reason}", highlight=False, markup=False)


def byte_progress() -> Progress:
    """A progress display for work measured in bytes (imports) or of unknown length."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # off a terminal it would only leave a blank line
    )


class StagedProgress:
    """One bar per stage of a job; called as show(stage, done, total). A stage is over when
    the next one starts (or the job ends): its bar then shows its total, not the last count
    its stage happened to report (19000/19997)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self._tasks:
            self.finish()
            self._tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self._tasks[stage], completed=done, total=total)

    def finish(self) -> None:
        for task in self.progress.tasks:
            if not task.finished:  # a stage of unknown length ends at what it did
                end = task.completed if task.total is None else task.total
                self.progress.update(task.id, total=end, completed=end)


@contextmanager
def staged_progress() -> Iterator[StagedProgress]:
    """A Rich progress display with one bar per stage (see StagedProgress)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        show = StagedProgress(progress)
        yield show
        show.finish()


def user_named(eng: Engine, username: str) -> dict[str, Any]:
    """The user called USERNAME; a clear error (exit 2) when there is none."""
    from papertide.store.accounts import user_by_name

    with eng.connect() as conn:
        user = user_by_name(conn, username)
    if user is None:
        fail(f"no user {username!r}")
    return user  # type: ignore[return-value]

"""What every `papertide` command shares: consoles, exit codes, the application object (built
once by the root callback and kept in Typer's context), JSON output, progress displays."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import Engine

from papertide.application import Papertide
from papertide.ingest.runner import ImportSummary
from papertide.search.generations import Indexes
from papertide.store.engine import StoreError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


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


EXIT_USER_ERROR = 2
EXIT_NOTHING_READ = 1
EXIT_UNREACHABLE = 3


def fail(message: str, code: int = EXIT_USER_ERROR) -> None:
    # the message often quotes what the user typed: shown as text, never read as Rich markup
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def writing_to(path: Path) -> Iterator[None]:
    """Around code that writes PATH: a missing folder, a name too long or no permission is one
    error line, not a traceback."""
    try:
        yield
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


def application(ctx: typer.Context) -> Papertide:
    """The application object the root callback built for this command."""
    return ctx.find_root().obj


def engine(ctx: typer.Context) -> Engine:
    try:
        return application(ctx).engine
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
    )


@contextmanager
def staged_progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A Rich progress display with one bar per stage; yields show(stage, done, total)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def show(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield show


def user_named(eng: Engine, username: str) -> dict[str, Any]:
    """The user called USERNAME; a clear error (exit 1) when there is none."""
    from papertide.store.accounts import user_by_name

    with eng.connect() as conn:
        user = user_by_name(conn, username)
    if user is None:
        fail(f"no user {username!r}", EXIT_NOTHING_READ)
    return user  # type: ignore[return-value]

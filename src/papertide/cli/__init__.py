"""The `papertide` command line: one Typer app, one module per command group.

The root callback reads the settings (environment plus `--db`) once and builds the application
object into Typer's context; every command takes what it needs from it (`common.application`).
Tests run commands in-process with `typer.testing.CliRunner` and may pass `obj={"clock": ...}`
to pin time.
"""

from __future__ import annotations

import typer

from papertide import __version__
from papertide.application import Papertide
from papertide.cli import (
    digest,
    export,
    feed,
    model,
    papers,
    sample,
    search,
    serve,
    submissions,
    sync,
    users,
)
from papertide.cli.common import configure_logging, fail, out
from papertide.cli.errors import OneLineErrors
from papertide.cli.framework import CommandGroup
from papertide.config import Settings, SettingsError

app = CommandGroup(
    cls=OneLineErrors,
    help="papertide: a self-hosted research-paper discovery engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
LOG_LEVELS = ("warning", "info", "debug")  # what -v and -vv step through


def _print_version(value: bool) -> None:
    if value:
        out.print(f"papertide {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        help="Database URL or SQLite file path (default: PAPERTIDE_DB).",
    ),
    log_level: str | None = typer.Option(
        None,
        "--log-level",
        metavar="LEVEL",
        help="debug, info (adds the web server's access log), warning or error "
        "(default: PAPERTIDE_LOG_LEVEL, else warning).",
    ),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output: -v is info, -vv debug."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        is_eager=True,
        callback=_print_version,
    ),
) -> None:
    preset = ctx.obj if isinstance(ctx.obj, dict) else {}
    if verbose and log_level is None:
        log_level = LOG_LEVELS[min(verbose, len(LOG_LEVELS) - 1)]
    try:
        settings = Settings.load(db=db, log_level=log_level)
    except SettingsError as exc:
        fail(str(exc))
        return
    configure_logging(settings.log_level)
    ctx.obj = Papertide(settings, preset.get("clock"))
    ctx.call_on_close(ctx.obj.close)


groups = (papers, sync, search, serve, users, model, feed, digest, sample, submissions, export)
for group in groups:
    group.register(app)

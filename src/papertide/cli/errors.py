"""The command line's one way to fail: a single `error:` line on stderr and an exit status from
the README's table, whatever went wrong (a usage mistake Typer catches, a check of our own, or a
defect nobody foresaw)."""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

# Typer 0.29 vendors click: its exceptions live here, not in the `click` package.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from papertide.store.engine import FULL, READ_ONLY, UNREACHABLE, StoreError, database_failure

err = Console(stderr=True, soft_wrap=True)

EXIT_OK = 0
EXIT_NOTHING_DONE = 1  # the command ran but could do nothing (no record read, index busy)
EXIT_USER_ERROR = 2  # bad option or value, unknown paper/user/topic, missing file or database
EXIT_UNREACHABLE = 3  # a source, the mail server or the database server could not be reached
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it

# What a command says when the database itself failed it (store/engine.py database_failure);
# every write is one transaction, so what is stored stays as it was before the failed one.
DATABASE_FAILURES = {
    UNREACHABLE: ("database unreachable", EXIT_UNREACHABLE),
    FULL: ("the database's disk is full; nothing half-written was kept", EXIT_NOTHING_DONE),
    READ_ONLY: ("the database is read-only; nothing was written", EXIT_USER_ERROR),
}

log = logging.getLogger("papertide.cli")


def print_error(message: str) -> None:
    """MESSAGE as one `error:` line: line breaks inside it (a driver's report) are folded, and
    it is shown as text, never read as Rich markup (it often quotes what the user typed)."""
    one_line = " ".join(message.split())
    err.print(f"[bold red]error:[/] {escape(one_line)}", highlight=False)


def fail(message: str, code: int = EXIT_USER_ERROR) -> None:
    print_error(message)
    raise typer.Exit(code)


def _usage_error(exc: UsageError) -> typer.Exit:
    message = exc.format_message().rstrip(".")
    if exc.ctx is not None:
        message += f" (try '{exc.ctx.command_path} --help')"
    print_error(message)
    return typer.Exit(exc.exit_code)


class OneLineErrors(TyperGroup):
    """The root command. Typer prints a usage mistake (unknown option, missing argument, a
    number out of range) as a five-line box, and an unexpected exception as a traceback: both
    become one `error:` line here. Sub-commands are parsed and run inside the root's invoke, so
    catching there covers every command."""

    def make_context(self, *args: Any, **kwargs: Any) -> typer.Context:
        try:
            return super().make_context(*args, **kwargs)
        except NoArgsIsHelpError:
            raise  # `papertide` alone prints its help
        except UsageError as exc:
            raise _usage_error(exc) from None

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, NoArgsIsHelpError):
            raise
        except KeyboardInterrupt:
            # Every write is one transaction with its checkpoint (ingest/runner.py).
            print_error(
                "interrupted; what was saved stays saved, and an interrupted import or sync "
                "goes on from where it stopped when run again"
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except UsageError as exc:
            raise _usage_error(exc) from None
        except ClickException as exc:
            print_error(exc.format_message())
            raise typer.Exit(exc.exit_code) from None
        except StoreError as exc:  # a command that opened the database itself
            print_error(str(exc))
            raise typer.Exit(EXIT_USER_ERROR) from None
        except Exception as exc:
            kind = database_failure(exc)
            if kind is not None:
                message, code = DATABASE_FAILURES[kind]
                print_error(f"{message} ({_driver_message(exc)})")
                raise typer.Exit(code) from None
            # A defect: the user still gets one line; -vv (debug) logs the traceback.
            log.debug("unexpected error", exc_info=exc)
            print_error(f"unexpected {type(exc).__name__}: {exc} (papertide -vv shows details)")
            raise typer.Exit(EXIT_NOTHING_DONE) from None


def _driver_message(exc: BaseException) -> str:
    """The driver's own words (its first line: SQLAlchemy adds the SQL and a link)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

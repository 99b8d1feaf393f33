"""How papertide's commands are declared: `CommandGroup` is a Typer app whose help is plain
text and says what each value is (a metavar such as N, DAY or PATH), not a Python type.

Typer 0.29 tags every parameter with its type in help (`--json <bool>`, `PATH <list[Path]>`):
its Rich boxes do it for options and flags alike, plain help still does it for arguments."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand


class Command(TyperCommand):
    """A command whose help lists arguments by their metavar and help, without type tags."""

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or param.name.upper()
                arguments.append((name + "..." * (param.nargs != 1), param.help or ""))
            elif (record := param.get_help_record(ctx)) is not None:
                options.append(record)  # a flag has no tag; other options show their metavar
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class CommandGroup(typer.Typer):
    """typer.Typer with plain help (no Rich boxes) and `Command` for every command."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(rich_markup_mode=None, **settings)

    def command(self, name: str | None = None, **settings: Any) -> Any:
        return super().command(name, cls=settings.pop("cls", Command), **settings)

"""`papertide sample load|remove`: the bundled, made-up sample papers for a first look."""

from __future__ import annotations

import typer

from papertide.cli.common import application, emit_json, out, print_summary
from papertide.cli.framework import CommandGroup
from papertide.ingest import sample

sample_app = CommandGroup(
    help="Made-up sample papers that show every feature working offline.", no_args_is_help=True
)


@sample_app.command("load")
def sample_load(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Store the sample papers, dated from today back four weeks, and a sample reader whose
    library makes "For you" work. Loading again moves the dates to today."""
    pt = application(ctx)
    loaded = sample.load(pt.engine, pt.clock.now())
    if as_json:
        emit_json(
            {**loaded.summary.as_json(), "reader": loaded.reader, "password": loaded.password}
        )
        return
    print_summary(loaded.summary, as_json=False)
    if loaded.password:
        out.print(
            f"Sample reader: log in as {loaded.reader} with password {loaded.password} "
            'to see "For you" (shown once; `papertide users password` changes it).',
            highlight=False,
            markup=False,
        )
    out.print("Pages say these are sample papers until `papertide sample remove`.")


@sample_app.command("remove")
def sample_remove(ctx: typer.Context) -> None:
    """Hide the sample papers from everyone (admins still see them, marked hidden)."""
    hidden = sample.remove(application(ctx).engine)
    out.print(f"{hidden} sample papers hidden; run `papertide index` to drop them from search.")


def register(app: typer.Typer) -> None:
    app.add_typer(sample_app, name="sample")

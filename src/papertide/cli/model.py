"""`papertide model prepare|info`: the embedding model used by semantic search."""

from __future__ import annotations

from pathlib import Path

import typer

from papertide.cli.common import (
    AS_JSON,
    EXIT_NOTHING_DONE,
    application,
    byte_progress,
    emit_json,
    fail,
    out,
)
from papertide.cli.framework import CommandGroup
from papertide.search.embedder import EmbedderUnavailable

model_app = CommandGroup(help="The embedding model used by semantic search.", no_args_is_help=True)


@model_app.command("prepare")
def model_prepare(
    ctx: typer.Context,
    source: Path | None = typer.Option(
        None,
        metavar="DIR",
        help="A local sentence-transformers model folder.",
        exists=True,
        file_okay=False,
    ),
    hub: str | None = typer.Option(
        None, metavar="REPO", help="A Hugging Face Hub repo to download (network)."
    ),
    force: bool = typer.Option(False, "--force", help="Prepare again even if present."),
) -> None:
    """Export the embedding model to int8 ONNX (once; searching never needs the network)."""
    from papertide.search import model_build

    target = application(ctx).model_dir
    if model_build.is_current(target) and not force and not source and not hub:
        out.print(f"model ready: {target}")
        return
    try:
        with byte_progress() as progress:
            progress.add_task("exporting the embedding model", total=None)
            if hub:
                origin = model_build.download(hub, target.with_name(target.name + ".download"))
            else:
                origin = source or model_build.bundled_source()
            model_build.prepare(
                origin, target, "all-MiniLM-L6-v2" if not (source or hub) else (hub or origin.name)
            )
    except EmbedderUnavailable as exc:
        fail(str(exc))
    except ImportError as exc:
        fail(f"exporting needs the model-build extra (torch, transformers): {exc}")
    out.print(f"model ready: {target}")


@model_app.command("info")
def model_info(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Show the prepared embedding model."""
    try:
        embedder = application(ctx).require_embedder()
    except EmbedderUnavailable as exc:
        fail(str(exc), EXIT_NOTHING_DONE)
        return
    info = {"name": embedder.name, "dim": embedder.dim, "path": str(application(ctx).model_dir)}
    if as_json:
        emit_json(info)
    else:
        for key, value in info.items():
            out.print(f"{key}: {value}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")

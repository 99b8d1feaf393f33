"""`papertide serve`: the web app and the JSON API."""

from __future__ import annotations

import os

import typer

from papertide.cli.common import application, engine, out


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the web app and the JSON API (docs at /docs)."""
    import uvicorn

    from papertide.web.app import create_app

    pt = application(ctx)
    engine(ctx)  # fail early, with a clear message, on a bad database
    url = pt.settings.database_url
    out.print(f"papertide on http://{host}:{port}/ (database {url})", highlight=False)
    options = {"host": host, "port": port, "log_level": "warning"}
    if workers == 1:
        uvicorn.run(create_app(pt.settings, pt.clock), **options)
        return
    # Worker processes are started by uvicorn from an import string and read their settings
    # from the environment they inherit: the database chosen here (--db) goes with them.
    os.environ["PAPERTIDE_DB"] = url
    uvicorn.run("papertide.web.app:app_from_env", factory=True, workers=workers, **options)


def register(app: typer.Typer) -> None:
    app.command()(serve)

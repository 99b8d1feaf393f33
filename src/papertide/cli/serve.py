"""`papertide serve`: the web app and the JSON API."""

from __future__ import annotations

import os
import socket
from typing import Any

import typer

from papertide.cli.common import application, engine, fail, out
from papertide.config import checked_proxy_addresses


def proxy_options(allow_ips: str | None) -> dict[str, Any]:
    """uvicorn's options for X-Forwarded-For/-Proto: believed only from ALLOW_IPS, and from
    nobody when none are given (uvicorn's own default trusts 127.0.0.1, so anything on this
    machine, or a proxy that passes the header through, could pick the client's address and
    slip past the login rate limit)."""
    if not allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": allow_ips}


def check_can_listen(host: str, port: int) -> None:
    """Fail in one line when HOST:PORT cannot be listened on (a port in use, a host name that
    does not resolve, a port below 1024 without the right): uvicorn would say so only after
    starting, as a log line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", metavar="HOST", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, metavar="PORT", help="Port to listen on."),
    workers: int = typer.Option(1, min=1, metavar="N", help="Worker processes."),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        metavar="IPS",
        help="Reverse proxies (comma-separated addresses or networks) whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed (default: PAPERTIDE_FORWARDED_ALLOW_IPS, or none).",
    ),
) -> None:
    """Serve the web app and the JSON API (docs at /docs)."""
    import uvicorn

    from papertide.web.app import create_app

    pt = application(ctx)
    engine(ctx, create=True)  # fail early, with a clear message, on a bad database
    allow_ips = pt.settings.forwarded_allow_ips
    if forwarded_allow_ips is not None:
        try:
            allow_ips = checked_proxy_addresses(forwarded_allow_ips)
        except ValueError as exc:
            fail(f"--forwarded-allow-ips: {exc}")
    check_can_listen(host, port)
    url = pt.settings.database_url
    out.print(f"papertide on http://{host}:{port}/ (database {url})", highlight=False)
    level = pt.settings.log_level
    options = {
        "host": host,
        "port": port,
        "log_level": level,
        "access_log": level in ("info", "debug"),  # -v: one line per request
        **proxy_options(allow_ips),
    }
    if workers == 1:
        uvicorn.run(create_app(pt.settings, pt.clock), **options)
        return
    # Worker processes are started by uvicorn from an import string and read their settings
    # from the environment they inherit: the database and log level chosen here go with them.
    os.environ.update(PAPERTIDE_DB=url, PAPERTIDE_LOG_LEVEL=level)
    uvicorn.run("papertide.web.app:app_from_env", factory=True, workers=workers, **options)


def register(app: typer.Typer) -> None:
    app.command()(serve)

"""Error answers: pages for browsers, and the last wall behind every handler.

A browser asking for a page (GET, Accept: text/html, outside /api and /feeds) gets an error as
a page saying what was wrong; API clients, feed readers and scripts keep FastAPI's JSON
`{"detail": ...}`.

`InternalErrors`: an unexpected exception becomes a logged 500 answer.

Every input a handler can be given has its own 4xx (parameter bounds, periods.py, views.py);
this only catches what slipped past them. It answers inside the application, so the server
never sees an exception: uvicorn closes a keep-alive connection after one, and Starlette's own
error middleware re-raises after answering. The client gets no traceback, only a line to quote.
"""

from __future__ import annotations

import logging
import math
import uuid
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from papertide.web.asgi import HttpMiddleware
from papertide.web.templating import render

log = logging.getLogger("papertide.web")


class InternalErrors(HttpMiddleware):
    """ASGI middleware: an exception before the answer started is logged with an incident id
    and answered 500 `{"detail": ...}`; one after that goes on to the server."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception:
            if started:  # half an answer is out: only the server can end it (outer middleware
                raise  # also unwinds this way, e.g. the body limit after its 413)
            incident = uuid.uuid4().hex[:12]
            log.exception("incident %s: %s %s", incident, scope["method"], scope["path"])
            detail = f"internal error (incident {incident}); the server log has the details"
            await JSONResponse({"detail": detail}, status_code=500)(scope, receive, send)


def _wants_page(request: Request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and "text/html" in request.headers.get("accept", "")
        and not request.url.path.startswith(("/api/", "/feeds/", "/static/"))
    )


async def _page(request: Request, status: int, text: str, headers: dict | None) -> Response:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:  # a status the standard library does not name
        title = "Error"
    page = await run_in_threadpool(
        render, request, "message.html", status_code=status, title=title, text=text
    )
    page.headers.update(headers or {})
    return page


async def _http_error(request: Request, exc: HTTPException) -> Response:
    exc.detail = json_safe(exc.detail)  # a message may quote what the client sent
    if _wants_page(request):
        return await _page(request, exc.status_code, str(exc.detail), exc.headers)
    return await http_exception_handler(request, exc)


def json_safe(value: Any) -> Any:
    """VALUE as JSON can carry it: an error answer echoes what the client sent, and a JSON
    `NaN`/`Infinity` or a lone surrogate in it made the answer itself fail (a 500)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {json_safe(str(key)): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    errors = json_safe(jsonable_encoder(exc.errors()))
    if _wants_page(request):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'][1:])}: {error['msg']}"
            for error in errors
        )
        return await _page(request, 422, problems, None)
    return JSONResponse({"detail": errors}, status_code=422)


def add_error_pages(app: FastAPI) -> None:
    """Errors as pages for browsers (JSON for everyone else, as FastAPI answers)."""
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]

"""Error answers: pages for browsers, and the last wall behind every handler.

A browser (a request that accepts text/html before JSON, outside /api, /feeds and /static)
gets every error, 4xx or 500, as a page in the site's layout: what went wrong in a sentence
and a way home. API clients, feed readers, scripts and `fetch` calls asking for JSON keep
FastAPI's JSON `{"detail": ...}`.

`InternalErrors`: an unexpected exception becomes a logged 500 answer, and one that says the
database is down, full or read-only a 503 "database unavailable" with a Retry-After (the engine
replaces dead connections by itself, so the next request after the server is back succeeds).

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
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from papertide.store.engine import database_failure
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
        except Exception as exc:
            if started:  # half an answer is out: only the server can end it (outer middleware
                raise  # also unwinds this way, e.g. the body limit after its 413)
            kind = database_failure(exc)
            if kind is not None:  # not a defect: one log line, no traceback
                log.warning(
                    "%s %s: database %s: %s", scope["method"], scope["path"], kind, _first_line(exc)
                )
                answer = _bare_error(scope, 503, DATABASE_UNAVAILABLE)
                answer.headers["Retry-After"] = RETRY_AFTER_SECONDS
                await answer(scope, receive, send)
                return
            incident = uuid.uuid4().hex[:12]
            log.exception("incident %s: %s %s", incident, scope["method"], scope["path"])
            detail = f"internal error (incident {incident}); the server log has the details"
            await _bare_error(scope, 500, detail)(scope, receive, send)


DATABASE_UNAVAILABLE = "database unavailable; please try again in a moment"
RETRY_AFTER_SECONDS = "5"


def _first_line(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's SQL echo and "Background" link."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


MAX_PLAIN_DETAIL = 1000  # bytes of a plain-text error kept as its detail


class PlainTextErrors(HttpMiddleware):
    """ASGI middleware: an error Starlette answers as text/plain from below the exception
    handlers (the request body limit's 413) is answered again, as a page or as JSON."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        held: Message | None = None  # the start of a plain-text error, while its body comes
        text = b""

        async def rewriting(message: Message) -> None:
            nonlocal held, text
            if message["type"] == "http.response.start" and _plain_text_error(message):
                held = message
                return
            if held is not None and message["type"] == "http.response.body":
                text = (text + message.get("body", b""))[:MAX_PLAIN_DETAIL]
                if not message.get("more_body"):
                    answer = _bare_error(scope, held["status"], text.decode("utf-8", "replace"))
                    for name, value in Headers(raw=held["headers"]).items():
                        if not name.startswith("content-"):  # Allow, Retry-After, ...
                            answer.headers[name] = value
                    await answer(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, rewriting)


def _plain_text_error(start: Message) -> bool:
    content_type = Headers(raw=start.get("headers", [])).get("content-type", "")
    return start["status"] >= 400 and content_type.startswith("text/plain")


def _bare_error(scope: Scope, status: int, detail: str) -> Response:
    """An error answer from middleware: a page for a browser, rendered without the database
    or the session (whatever failed may be either), else JSON."""
    if _wants_page(scope["path"], Headers(scope=scope).get("accept", "")):
        try:
            template = scope["app"].state.templates.get_template("error.html")
            body = template.render(user=None, csrf="", **_error_context(status, detail))
            return HTMLResponse(body, status_code=status)
        except Exception:  # the page itself failed: JSON still says what happened
            log.exception("the %s page could not be rendered", status)
    return JSONResponse({"detail": detail}, status_code=status)


# Paths whose answers are data for programs, never pages.
DATA_PATHS = ("/api/", "/feeds/", "/static/", "/openapi.json")


def _quality(accept: str, media_type: str) -> float:
    """The q-value ACCEPT gives MEDIA_TYPE itself (0 when not named: */* is no preference)."""
    for media_range in accept.lower().split(","):
        name, *parameters = (part.strip() for part in media_range.split(";"))
        if name == media_type:
            for parameter in parameters:
                key, _, value = parameter.partition("=")
                if key.strip() == "q":
                    try:
                        return float(value)
                    except ValueError:
                        return 0.0
            return 1.0
    return 0.0


def _wants_page(path: str, accept: str) -> bool:
    """A browser's request: it names text/html, above JSON if it names both (a script's
    `fetch` asks for application/json; curl and HTTP libraries send */*)."""
    html = _quality(accept, "text/html")
    return (
        html > 0
        and html >= _quality(accept, "application/json")
        and not path.startswith(DATA_PATHS)
    )


# What each error means to a reader, when the handler said nothing more specific than the
# status's name (Starlette's own 404, 405 and 413 say only "Not Found" and the like).
HEADINGS = {
    400: "That request could not be read",
    401: "Log in first",
    403: "Not allowed",
    404: "Page not found",
    405: "Not available this way",
    413: "Too large",
    422: "Some input was not accepted",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "Not available right now",
}
STARLETTE_DETAILS = {413: "Content Too Large"}  # its wording, not the standard library's
EXPLANATIONS = {
    404: "There is no page at this address.",
    405: "This address exists, but not for this kind of request.",
    413: "What was sent is larger than this server takes.",
}


def _error_context(status: int, text: str) -> dict[str, Any]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status the standard library does not name
        phrase = "Error"
    if text in (phrase, STARLETTE_DETAILS.get(status)):  # only the status's name: say more
        text = EXPLANATIONS.get(status, "")
    heading = HEADINGS.get(status, "Something went wrong" if status >= 500 else phrase)
    return {"status": status, "phrase": phrase, "heading": heading, "text": text}


async def _page(request: Request, status: int, text: str, headers: dict | None) -> Response:
    page = await run_in_threadpool(
        render, request, "error.html", status_code=status, **_error_context(status, text)
    )
    page.headers.update(headers or {})
    return page


def _page_wanted(request: Request) -> bool:
    return _wants_page(request.url.path, request.headers.get("accept", ""))


async def _http_error(request: Request, exc: HTTPException) -> Response:
    exc.detail = json_safe(exc.detail)  # a message may quote what the client sent
    if _page_wanted(request):
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
    if _page_wanted(request):
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

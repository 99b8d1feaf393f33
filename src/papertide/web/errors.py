"""The last wall behind every handler: an unexpected exception becomes a logged 500 answer.

Every input a handler can be given has its own 4xx (parameter bounds, periods.py, views.py);
this only catches what slipped past them. It answers inside the application, so the server
never sees an exception: uvicorn closes a keep-alive connection after one, and Starlette's own
error middleware re-raises after answering. The client gets no traceback, only a line to quote.
"""

from __future__ import annotations

import logging
import uuid

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("papertide.web")


class InternalErrors:
    """ASGI middleware: an exception before the answer started is logged with an incident id
    and answered 500 `{"detail": ...}`; one after that can only be logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception:
            incident = uuid.uuid4().hex[:12]
            log.exception("incident %s: %s %s", incident, scope["method"], scope["path"])
            if started:
                return
            detail = f"internal error (incident {incident}); the server log has the details"
            await JSONResponse({"detail": detail}, status_code=500)(scope, receive, send)

"""The base of papertide's middleware: plain ASGI, HTTP requests only.

Plain ASGI rather than Starlette's BaseHTTPMiddleware: no extra task and no body buffering per
request, and an exception raised inside keeps its place for the middleware outside it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    """Passes every non-HTTP scope (lifespan, websockets) straight on; `handle` sees HTTP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError

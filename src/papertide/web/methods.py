"""OPTIONS and 405 answers that name every method of a path, not only one route's.

Starlette answers a wrong method with the `Allow` list of the first route whose path matched,
and FastAPI declares no OPTIONS handlers, so a path served by several routes (a GET and a PUT
handler, or a GET page and a POST form) advertised only some of its methods. Here `OPTIONS`
answers 204 with every method the path takes, and every 405 carries that same list.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import Message, Receive, Scope, Send

from papertide.web.asgi import HttpMiddleware

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route of the app takes for the path of SCOPE (empty: no such path)."""
    allowed = []
    for method in METHODS:
        probe = {**scope, "method": method}
        for route in scope["app"].router.routes:
            match, _ = route.matches(probe)
            if match is Match.FULL:
                # a Mount takes any method and leaves refusing to its app (static files: reads)
                if not isinstance(route, Mount) or method in ("GET", "HEAD"):
                    allowed.append(method)
                break
    return [*allowed, "OPTIONS"] if allowed else []


class AllowedMethods(HttpMiddleware):
    """ASGI middleware: OPTIONS answers 204 with `Allow`; a 405 gets the full `Allow`."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            allowed = allowed_methods(scope)
            if allowed:
                response = Response(status_code=204, headers={"Allow": ", ".join(allowed)})
                await response(scope, receive, send)
                return

        asked = dict(scope)  # routing rewrites the scope's path inside mounts

        async def full_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = MutableHeaders(scope=message)
                headers["Allow"] = ", ".join(allowed_methods(asked))
            await send(message)

        await self.app(scope, receive, full_allow)

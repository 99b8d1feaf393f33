"""Security headers on every response: the second wall behind escaping and links.py.

The Content-Security-Policy allows scripts and styles from papertide's own /static only, so
even a value that slipped past the link and escaping rules cannot run inline script, load a
script from elsewhere, post a form to another site or frame the pages. The API explorer on
/docs runs under the same policy: its Swagger UI is vendored (web/docs.py).
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from papertide.web.asgi import HttpMiddleware

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders(HttpMiddleware):
    """Adds the headers above to every HTTP answer."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        extra = [
            (b"content-security-policy", POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

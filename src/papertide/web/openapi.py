"""The OpenAPI document with the error answers FastAPI does not list by itself.

FastAPI documents a route's 200 and its 422 (request validation) only; the 400, 401, 403, 404,
413, 429 and 503 answers that handlers and middleware give are added here, in one place, to every
operation they can come from, all with one `Error` schema: `{"detail": "what went wrong"}`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong, for people"}},
    "required": ["detail"],
}
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _needs_token(path: str, method: str) -> bool:
    # Everything under /api/me is a user's own data, /api/admin is for admins, and every API
    # write acts as a user.
    return path.startswith(("/api/me", "/api/admin")) or method != "get"


def error_answers(path: str, method: str, operation: dict[str, Any]) -> dict[int, str]:
    """The error statuses OPERATION (METHOD PATH) can answer, with what each one means."""
    parameters = operation.get("parameters", [])
    answers = {400: "A parameter has a value it cannot take"}
    if _needs_token(path, method):
        answers[401] = "No API token (Authorization: Bearer), or an unknown one"
        answers[403] = "The token's user may not do this"
        answers[429] = "Too many failed attempts (a password check), or comments: wait and retry"
    if any(p["in"] == "path" for p in parameters):
        answers[404] = "Nothing has this id (hidden papers included, except for admins)"
    if "requestBody" in operation or method != "get":  # any body sent is size-limited
        answers[413] = "The request body is too large"
    if any(p["name"] == "mode" for p in parameters):
        answers[503] = "Semantic search was asked for and the embedding model is not prepared"
    return answers


def add_error_answers(schema: dict[str, Any]) -> None:
    """Add the Error schema and every operation's error answers to an OpenAPI SCHEMA."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status, meaning in error_answers(path, method, operation).items():
                responses.setdefault(str(status), {"description": meaning, "content": ERROR})


def documented_errors(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """An `app.openapi` replacement: FastAPI's document plus the error answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            add_error_answers(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi

"""/docs: the API's Swagger UI, served from the package (vendored by scripts/vendor.sh).

FastAPI's own /docs loads Swagger UI from a CDN with an inline start-up script: a blank page
offline, and a Content-Security-Policy exception. This page loads the vendored bundle and a
start-up script from /static, so the site's one policy ('self' only) covers it too. ReDoc is
not offered: it injects inline styles, which that policy refuses.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from papertide.web.templating import render

SWAGGER_UI = Path(__file__).parent / "static/vendor/swagger-ui-dist"
router = APIRouter(include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    if not (SWAGGER_UI / "swagger-ui-bundle.js").exists():
        raise HTTPException(
            503,
            "the API explorer needs Swagger UI, which scripts/vendor.sh vendors at install; "
            "the API's description is at /openapi.json",
        )
    return render(request, "docs.html", schema_url=request.app.openapi_url)

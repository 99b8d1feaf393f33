"""Rendering pages: the Jinja environment and `render`, shared by every router."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from papertide.ingest import sample
from papertide.limits import MAX_ARXIV_REF_CHARS, MAX_SUBMISSION_COMMENT
from papertide.links import author_path, href_filter, paper_path, path_filter, user_path
from papertide.store import collections
from papertide.web.auth import csrf_token, current_user, set_csrf_cookie
from papertide.web.deps import papertide
from papertide.web.text import lead, thousands

HERE = Path(__file__).parent


def safe_snippet(snippet: str) -> Markup:
    """A search snippet as HTML where only the <b> highlight tags survive: everything else,
    whatever the paper's text contains, is escaped."""
    escaped = str(escape(html.unescape(snippet)))
    return Markup(escaped.replace("&lt;b&gt;", "<b>").replace("&lt;/b&gt;", "</b>"))


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.auto_reload = False  # templates ship with the package; no stat per render
    templates.env.filters["safe_snippet"] = safe_snippet
    templates.env.filters["lead"] = lead
    templates.env.filters["thousands"] = thousands
    # Every href/src built from data goes through one of these (tests/test_links.py checks).
    templates.env.filters["href"] = href_filter
    templates.env.filters["path"] = path_filter
    templates.env.filters["paper_path"] = paper_path
    templates.env.filters["author_path"] = author_path
    templates.env.filters["user_path"] = user_path
    # KaTeX is vendored at install time (scripts/vendor.sh); without it math stays plain text.
    templates.env.globals["katex"] = (HERE / "static/vendor/katex/katex.min.js").exists()
    # the submission forms' field sizes (limits.py), wherever a template shows one
    templates.env.globals["max_arxiv_ref"] = MAX_ARXIV_REF_CHARS
    templates.env.globals["max_submission_comment"] = MAX_SUBMISSION_COMMENT
    return templates


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page with the signed-in user and the CSRF token its forms repeat."""
    user = current_user(request)
    if user is not None:  # every list card and paper page offers the member's collections
        with papertide(request).engine.connect() as conn:
            context.setdefault("my_collections", collections.of_user(conn, user["id"]))
    context.update(
        user=user,
        csrf=csrf_token(request),
        sample_data=sample.shown(papertide(request).engine),
    )
    response = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    set_csrf_cookie(request, response)
    return response

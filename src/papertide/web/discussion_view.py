"""A paper's discussion as its page shows it: the thread with each comment's sanitised HTML."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from markupsafe import Markup

from papertide.comment_markup import render
from papertide.limits import MAX_COMMENT_CHARS
from papertide.store import comments
from papertide.web.auth import current_user
from papertide.web.deps import papertide


def with_html(comment: dict[str, Any], markup: bool) -> dict[str, Any]:
    """COMMENT (and its replies) with `html`: its Markdown rendered and sanitised, as Markup
    for a template when MARKUP (safe: comment_markup.render allows no script), else as str."""
    html = render(comment["body"]) if comment["body"] else ""
    replies = [with_html(reply, markup) for reply in comment["replies"]]
    return {**comment, "html": Markup(html) if markup else html, "replies": replies}


def page_context(request: Request, paper_id: str) -> dict[str, Any]:
    """What paper.html's discussion needs: the thread as this viewer may see it."""
    user = current_user(request)
    admin = user is not None and user["role"] == "admin"
    with papertide(request).engine.connect() as conn:
        shown = comments.thread(conn, paper_id, admin)
    every = [c for top in shown for c in (top, *top["replies"])]
    return {
        "discussion": [with_html(c, markup=True) for c in shown],
        # as comments.comment_counts counts them (what the API's num_comments says)
        "discussion_count": sum(1 for c in every if not c["deleted"] and not c["hidden"]),
        "max_comment_chars": MAX_COMMENT_CHARS,
    }

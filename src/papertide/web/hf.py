"""Hugging Face's paper API over papertide's papers, so its clients (`huggingface_hub.HfApi`:
`list_papers`, `paper_info`, `read_paper`, `list_daily_papers`) work unchanged:
`GET /api/papers/search?q=&limit=` (items shaped like `/api/daily_papers`'), the Hugging Face
fields of `GET /api/papers/{id}` (web/api.py) and `GET /papers/{id}.md`, the paper as Markdown.

Field names are Hugging Face's. `ai_keywords` are the source's keywords when it gave some (a
Hugging Face paper's own), else the ones papertide derived; `ai_summary` is papertide's
one-line summary, `ai_summary_kind` says whether it is a sentence of the abstract
("extractive") or an LLM's ("llm"). Both are computed by `papertide index` (extract/).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request, Response

from papertide.application import Papertide
from papertide.links import http_url, paper_path
from papertide.store import extracts, queries
from papertide.store.comments import comment_counts as visible_comment_counts
from papertide.web import schemas
from papertide.web.deps import papertide
from papertide.web.params import MAX_SEARCH_DEPTH, SearchText
from papertide.web.views import period_papers, run_search, viewed_paper

api_router = APIRouter(prefix="/api", tags=["hugging face"])
router = APIRouter(include_in_schema=False)


def comment_counts(pt: Papertide, ids: list[str]) -> dict[str, int]:
    """numComments of each paper among IDS (its visible comments, store/comments.py): the one
    place every route takes it from."""
    with pt.engine.connect() as conn:
        found = visible_comment_counts(conn, ids)
    return {paper_id: found.get(paper_id, 0) for paper_id in ids}


def with_extracts(pt: Papertide, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ROWS (paper dicts) with their derived text: `ai_keywords`, `ai_summary`,
    `ai_summary_kind` and `ai_summary_model` (None where the index run has not made them)."""
    with pt.engine.connect() as conn:
        found = extracts.of_papers(conn, [row["id"] for row in rows])
    shown = []
    for row in rows:
        extract = found.get(row["id"], {})
        shown.append(
            {
                **row,
                "ai_keywords": list(row.get("keywords") or extract.get("keywords") or []),
                "ai_summary": extract.get("summary") or None,  # "": no abstract to summarise
                "ai_summary_kind": extract.get("summary_kind"),
                "ai_summary_model": extract.get("summary_model"),
            }
        )
    return shown


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value else None


def github_repo(code_urls: list[str]) -> str | None:
    return next((url for url in code_urls if "github.com" in url), None)


def hf_fields(row: dict[str, Any], comments: int) -> dict[str, Any]:
    """Hugging Face's paper fields of ROW (a paper dict through `with_extracts`, with votes)."""
    return {
        "id": row["id"],
        "authors": [{"name": name} for name in row["authors"]],
        "publishedAt": _iso(row["published_at"]),
        "title": row["title"],
        "summary": row.get("abstract") or "",
        "upvotes": (row["upstream_upvotes"] or 0) + row.get("votes", 0),
        "githubRepo": github_repo(row["code_urls"]),
        "githubStars": row.get("github_stars"),
        "projectPage": row.get("project_url"),
        "ai_keywords": row["ai_keywords"],
        "ai_summary": row["ai_summary"],
        "ai_summary_kind": row["ai_summary_kind"],
        "numComments": comments,
    }


def daily_items(
    pt: Papertide, rows: list[dict[str, Any]], curated: bool = False
) -> list[dict[str, Any]]:
    """Items shaped like Hugging Face's `/api/daily_papers` (and its paper search). Each says
    who submitted it to the daily list and when (rows with_submissions gave a "submission");
    in a CURATED list an item's publishedAt is that time, as on Hugging Face."""
    rows = with_extracts(pt, rows)
    comments = comment_counts(pt, [row["id"] for row in rows])
    items = []
    for row in rows:
        paper = hf_fields(row, comments[row["id"]])
        item = {
            "paper": paper,
            "publishedAt": paper["publishedAt"],
            "title": row["title"],
            "summary": paper["summary"],
            "numComments": paper.pop("numComments"),
        }
        submission = row.get("submission")
        if submission is not None:
            by = {"name": submission["submitter"], "fullname": submission["submitter_fullname"]}
            by["fullname"] = by["fullname"] or by["name"]
            at = _iso(submission["submitted_at"])
            paper.update(submittedOnDailyAt=at, submittedOnDailyBy=by)
            item.update(submittedBy=by, submittedOnDailyAt=at)
            if curated:
                item["publishedAt"] = at
        items.append(item)
    return items


@api_router.get("/papers/search", response_model=list[schemas.HfDailyPaper])
def search_papers(
    request: Request,
    q: SearchText = "",
    limit: int = Query(50, ge=1, le=MAX_SEARCH_DEPTH),
) -> list[dict[str, Any]]:
    """Hugging Face's paper search: the best LIMIT papers for Q (hybrid search, keyword when
    the model is not prepared), items shaped like `/api/daily_papers`; the newest papers
    when Q is empty."""
    pt = papertide(request)
    if not q.strip():
        return daily_items(pt, period_papers(pt, None, None, "publishedAt", 0, limit))
    hits, _mode = run_search(pt, q, "hybrid", limit, None, None)
    ids = [hit.id for hit in hits]
    with pt.engine.connect() as conn:
        found = {row["id"]: row for row in queries.papers_by_ids(conn, ids)}
        votes = queries.vote_counts(conn, ids)
    rows = [{**found[i], "votes": votes.get(i, 0)} for i in ids if i in found]
    return daily_items(pt, rows)


# Markdown: upstream text is data, never markup. Every character that can open markup (links,
# images, HTML, entities, emphasis, code, tables) is backslash-escaped, and so is what GFM's
# autolinks start from ("www.", "://", "@"), so no text of a paper becomes a link; a line
# cannot start a list or a quote either. Other punctuation stays as it is, to stay readable.
_MARKUP = re.compile(r"[\\`*_{}\[\]()<>#!|~&@]")
_AUTOLINK = re.compile(r"(?i)(?<=www)\.|:(?=//)")
_LINE_START = re.compile(r"^(?:[-+=]|\d+(?=[.)]))")


def markdown_text(text: str, starts_line: bool = False) -> str:
    """TEXT as Markdown on one line that shows exactly TEXT (whitespace collapsed);
    STARTS_LINE: it begins a line, where "1." or "-" would open a list."""
    line = " ".join(str(text).split())
    line = _AUTOLINK.sub(lambda m: "\\" + m[0], _MARKUP.sub(lambda m: "\\" + m[0], line))
    start = _LINE_START.match(line) if starts_line else None
    if start and start[0][0] in "-+=":
        return "\\" + line
    if start:  # "1. " or "1) " opens an ordered list
        return line[: start.end()] + "\\" + line[start.end() :]
    return line


def _markdown_link(label: str, url: str | None) -> str | None:
    """A link to URL (http or https only), its destination percent-encoded where Markdown
    would read it otherwise."""
    safe = http_url(url)
    if safe is None:
        return None
    return f"[{label}](<{quote(safe, safe=':/?#@!$&*+,;=%~-._')}>)"


def paper_markdown(row: dict[str, Any], base_url: str) -> str:
    """The paper page as Markdown: title, authors, links, summary, abstract, keywords."""
    lines = [f"# {markdown_text(row['title'])}", ""]
    if row["authors"]:
        lines += [f"**Authors:** {markdown_text(', '.join(row['authors']))}", ""]
    facts = []
    if row["published_at"]:
        facts.append(f"**Published:** {row['published_at']:%Y-%m-%d}")
    if row.get("arxiv_id"):
        facts.append(f"**arXiv:** {markdown_text(row['arxiv_id'])}")
    if facts:
        lines += [" · ".join(facts), ""]
    links = [
        _markdown_link("papertide", base_url + paper_path(row["id"])),
        _markdown_link("arXiv", row.get("abs_url")),
        _markdown_link("PDF", row.get("pdf_url")),
        *(_markdown_link("code", url) for url in row.get("code_urls") or []),
        _markdown_link("project page", row.get("project_url")),
    ]
    if any(links):
        lines += ["**Links:** " + " · ".join(link for link in links if link), ""]
    if row.get("ai_summary"):
        kind = _summary_label(row)
        lines += [f"## Summary ({kind})", "", markdown_text(row["ai_summary"], True), ""]
    if row.get("abstract"):
        lines += ["## Abstract", "", markdown_text(row["abstract"], True), ""]
    if row.get("ai_keywords"):
        shown = (markdown_text(k, starts_line=i == 0) for i, k in enumerate(row["ai_keywords"]))
        lines += ["## Keywords", "", " · ".join(shown), ""]
    return "\n".join(lines)


def _summary_label(row: dict[str, Any]) -> str:
    if row.get("ai_summary_kind") == "llm":
        return f"written by the language model {markdown_text(row.get('ai_summary_model') or '')}"
    return "the abstract's most representative sentence"


@router.get("/papers/{paper_id:path}.md")
def paper_as_markdown(request: Request, paper_id: str) -> Response:
    """The paper as Markdown (what `HfApi.read_paper` reads); the page of a paper whose own
    id ends in ".md" (a DOI may), which this route would otherwise hide."""
    pt = papertide(request)
    try:
        found = viewed_paper(request, paper_id)
    except HTTPException:
        with pt.engine.connect() as conn:
            own_id = queries.resolve_id(conn, f"{paper_id}.md", include_hidden=True)
        if own_id is None:
            raise
        from papertide.web.pages import paper_page  # pages imports this module

        return paper_page(request, f"{paper_id}.md")
    paper = with_extracts(pt, [found])[0]
    body = paper_markdown(paper, str(request.base_url).rstrip("/"))
    return Response(body, media_type="text/markdown; charset=utf-8")

"""The JSON shapes the API documents and keeps stable: FastAPI checks every answer against
them (a route cannot drift from its contract unnoticed) and OpenAPI shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from papertide.limits import MAX_COMMENT_CHARS


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


# The store keeps naive UTC times; the API writes them as RFC 3339 UTC, as `date-time` requires.
UtcTime = Annotated[
    datetime,
    PlainSerializer(_utc_text, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Paper(BaseModel):
    """A paper in a list."""

    id: str
    title: str
    abstract: str
    authors: list[str]
    published_at: str | None = Field(description="ISO 8601 UTC, or null when unknown")
    categories: list[str]
    abs_url: str | None
    code_urls: list[str]
    project_url: str | None
    upstream_upvotes: int | None = Field(description="upvotes at the source (Hugging Face)")
    votes: int = Field(description="papertide members' votes")
    num_comments: int = Field(0, description="comments in its discussion (replies included)")


class PaperSource(BaseModel):
    source: str
    source_id: str


class HfAuthor(BaseModel):
    name: str


class PaperDetail(Paper):
    """One paper with its identifiers and every source it came from, and Hugging Face's
    fields of `/api/papers/{id}` (web/hf.py), so `HfApi.paper_info` reads it."""

    hidden: bool
    updated_at: str | None
    pdf_url: str | None
    doi: str | None
    arxiv_id: str | None
    sources: list[PaperSource]
    # Hugging Face's names. `authors` is the one name both use: Hugging Face's client reads
    # it as objects with a name (it fails on plain strings), so here it is that, and the
    # plain names are `author_names`.
    authors: list[HfAuthor]  # type: ignore[assignment]
    author_names: list[str]
    summary: str = Field(description="the abstract (Hugging Face's name)")
    publishedAt: str | None
    upvotes: int = Field(description="Hugging Face upvotes + papertide votes")
    githubRepo: str | None
    githubStars: int | None
    projectPage: str | None
    ai_keywords: list[str] = Field(description="the source's keywords, else papertide's")
    ai_summary: str | None = Field(description="one-line summary (papertide index)")
    ai_summary_kind: str | None = Field(description='"extractive" or "llm"')
    numComments: int


class SearchHit(BaseModel):
    """A search result or a similar paper; the shape of `papertide search --json`."""

    id: str
    title: str
    score: float
    why: str = Field(description='"keyword", "semantic" or "keyword+semantic"')
    snippet: str
    published_at: UtcTime | None
    authors: list[str]


class Visibility(BaseModel):
    hidden: bool


class PaperVisibility(Visibility):
    id: str


class HfSubmitter(BaseModel):
    """Who put a paper on the daily list, as Hugging Face's `submittedBy` names them: a
    papertide member, or the Hugging Face user who submitted it there."""

    name: str
    fullname: str
    type: str = "user"


class HfPaper(BaseModel):
    id: str
    authors: list[HfAuthor]
    publishedAt: str | None
    title: str
    summary: str
    upvotes: int
    githubRepo: str | None
    githubStars: int | None
    projectPage: str | None
    ai_keywords: list[str]
    ai_summary: str | None
    ai_summary_kind: str | None = Field(description='"extractive" or "llm"')
    submittedOnDailyAt: str | None = None
    submittedOnDailyBy: HfSubmitter | None = None


class HfDailyPaper(BaseModel):
    """One item of Hugging Face's `/api/daily_papers`, field names as Hugging Face spells them."""

    paper: HfPaper
    publishedAt: str | None
    title: str
    summary: str
    numComments: int
    submittedBy: HfSubmitter | None = None
    submittedOnDailyAt: str | None = None


class Vote(BaseModel):
    id: str
    voted: bool
    votes: int


class Me(BaseModel):
    username: str
    role: str


class ApiToken(BaseModel):
    id: str = Field(description="the token's public id, to revoke it (never the token)")
    name: str
    created_at: UtcTime
    last_used_at: UtcTime | None


class PasswordChanged(BaseModel):
    sessions_revoked: int
    tokens_revoked: int


class LibraryEntry(BaseModel):
    paper_id: str
    saved: bool
    rating: int = Field(description="1 thumbs up, -1 thumbs down, 0 none")
    title: str


class LibraryState(BaseModel):
    id: str
    saved: bool
    rating: int


class Follow(BaseModel):
    kind: str = Field(description='"author" or "query"')
    value: str


class Pick(BaseModel):
    """A personal recommendation and why it was picked."""

    id: str
    score: float
    reason: str
    followed: bool
    title: str | None
    authors: list[str]
    published_at: str | None


class Report(BaseModel):
    where: str
    reason: str


class LibraryImport(BaseModel):
    """What an upload added: the `papertide import --json` summary, and how many were saved."""

    new: int
    updated: int
    duplicates: int
    rejected_count: int
    rejected: list[Report]
    warnings: list[Report]
    resumed_jobs: int
    saved: int


class Topic(BaseModel):
    id: int
    label: str
    terms: list[str]
    size: int
    x: float
    y: float


class TopicListed(Topic):
    computed_at: UtcTime


class TopicPaper(BaseModel):
    id: str
    title: str
    authors: list[str]
    published_at: UtcTime | None
    categories: list[str]
    abs_url: str | None
    code_urls: list[str]
    upstream_upvotes: int | None


class TopicDetail(Topic):
    papers: list[TopicPaper]


class CommentReply(BaseModel):
    """A comment of a paper's discussion, or a reply to one (`parent_id`)."""

    id: int
    paper_id: str
    parent_id: int | None = Field(description="the comment this replies to; null at top level")
    author: str | None = Field(description="null once deleted (or hidden, for non-admins)")
    body: str = Field(description="the Markdown as written; empty once deleted or hidden")
    html: str = Field(description="body as sanitised HTML; math stays $...$ text for KaTeX")
    created_at: UtcTime
    edited_at: UtcTime | None = Field(description="when its author last changed it")
    deleted: bool
    hidden: bool = Field(description="hidden by an admin (admins still see the text)")


class Comment(CommentReply):
    """A top-level comment with its replies (one level deep), oldest first."""

    replies: list[CommentReply]


class CommentText(BaseModel):
    body: str = Field(
        min_length=1,
        max_length=MAX_COMMENT_CHARS,
        description="Markdown: emphasis, code, links, lists, quotes; math as $...$ or $$...$$",
    )


# -- issue 14: authors, claims, profiles ---------------------------------------------------


class CoAuthor(BaseModel):
    name: str
    papers: int = Field(description="papers written together (of the author's newest 500)")
    path: str = Field(description="the co-author's page")


class Author(BaseModel):
    """An author page: every spelling grouped onto it (names.py), papers newest first."""

    name: str = Field(description="the spelling most used on stored papers")
    path: str
    variants: list[str] = Field(description="every stored spelling grouped onto this author")
    total: int = Field(description="visible papers by this author")
    offset: int
    limit: int
    papers: list[Paper]
    co_authors: list[CoAuthor] = Field(description="most papers together first")


class Claim(BaseModel):
    """A member's claim to be an author of a paper."""

    id: int
    paper_id: str
    status: str = Field(description='"pending", "approved" or "rejected"')
    how: str | None = Field(description='"admin" or "email" (a confirmed address), once decided')
    created_at: UtcTime
    decided_at: UtcTime | None


class PendingClaim(Claim):
    username: str
    title: str


class Profile(BaseModel):
    """A member's public profile."""

    username: str
    path: str
    claimed: list[Paper] = Field(description="papers whose authorship claim was approved")
    collections: list[Collection] = Field(description="the member's public collections")
    upvotes: list[Paper] | None = Field(
        description="the member's upvotes, newest first; null unless they chose to show them"
    )


class ProfileSettings(BaseModel):
    show_upvotes: bool
# -- collections (web/collections.py) ---------------------------------------------------------

CollectionId = Annotated[
    int | str,
    Field(description='a number, or "library" for your default collection (your saved papers)'),
]


class Collection(BaseModel):
    """A member's collection of papers. The default one, "library", is their saved papers."""

    id: CollectionId
    name: str
    description: str
    public: bool
    default: bool = Field(description="the library: it cannot be renamed, published or deleted")
    owner: str
    papers: int = Field(description="how many (visible) papers it holds")
    url: str = Field(description="its page on this site")


class CollectionDetail(Collection):
    items: list[Paper] = Field(description="its papers, the most recently added first")


class NewCollection(BaseModel):
    name: str
    description: str = ""
    public: bool = False


class CollectionChange(BaseModel):
    """What to change; fields left out stay as they are."""

    name: str | None = None
    description: str | None = None
    public: bool | None = None


class CollectionMembership(BaseModel):
    collection: CollectionId
    paper: str
    member: bool = Field(description="whether the paper is in the collection now")
    changed: bool = Field(description="false when it already was (or was not)")

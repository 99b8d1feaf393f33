"""The JSON shapes the API documents and keeps stable: FastAPI checks every answer against
them (a route cannot drift from its contract unnoticed) and OpenAPI shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema


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


class PaperSource(BaseModel):
    source: str
    source_id: str


class PaperDetail(Paper):
    """One paper with its identifiers and every source it came from."""

    hidden: bool
    updated_at: str | None
    pdf_url: str | None
    doi: str | None
    arxiv_id: str | None
    sources: list[PaperSource]


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


class HfAuthor(BaseModel):
    name: str


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


class HfDailyPaper(BaseModel):
    """One item of Hugging Face's `/api/daily_papers`, field names as Hugging Face spells them."""

    paper: HfPaper
    publishedAt: str | None
    title: str
    summary: str
    numComments: int


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

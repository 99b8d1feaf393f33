"""Tables, in SQLAlchemy Core. The Alembic migrations in `migrations/versions` create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

# Column types that hold on PostgreSQL what SQLite holds (migration 0008 makes them so there):
# `json` has no equality operator (comparing a list column with `[]` failed), `jsonb` has;
# SQLite integers are 64-bit, PostgreSQL's INTEGER is 32 (a count or id above 2**31 failed);
# SQLite ignores VARCHAR lengths, PostgreSQL refused a longer value (and the whole batch).
JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")
INT64 = Integer().with_variant(BigInteger(), "postgresql")


def text_up_to(length: int) -> TypeEngine:
    """VARCHAR(LENGTH) as declared on SQLite (which does not enforce it); unbounded on
    PostgreSQL, where a longer value would fail."""
    return String(length).with_variant(String(), "postgresql")


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

papers = Table(
    "papers",
    metadata,
    Column("id", text_up_to(200), primary_key=True),
    Column("title", Text, nullable=False),
    Column("title_key", text_up_to(12), nullable=False, index=True),
    Column("abstract", Text, nullable=False, default=""),
    Column("authors", JSON_DOCUMENT, nullable=False, default=list),
    Column("published_at", DateTime, index=True),
    Column("updated_at", DateTime),
    Column("categories", JSON_DOCUMENT, nullable=False, default=list),
    Column("arxiv_id", text_up_to(64), unique=True),
    Column("doi", text_up_to(200), index=True),
    Column("abs_url", Text),
    Column("pdf_url", Text),
    Column("code_urls", JSON_DOCUMENT, nullable=False, default=list),
    Column("project_url", Text),
    # Hugging Face community upvotes: an upstream signal, kept apart from papertide's own votes.
    Column("upstream_upvotes", INT64),
    Column("github_stars", INT64),
    Column("keywords", JSON_DOCUMENT, nullable=False, default=list),
    Column("hidden", Boolean, nullable=False, default=False),
    # Hash of title + abstract: embeddings are recomputed only when it changes.
    Column("content_hash", text_up_to(16)),
    Column("first_seen_at", DateTime, nullable=False),
    # Bumped whenever stored fields change, so indexes can update incrementally.
    Column("modified_at", DateTime, nullable=False, index=True),
)

# Every identifier a paper is known by: arxiv:ID, doi:DOI, title:HASH, and id:OLD for papers whose
# stable id improved (e.g. a title-only paper later seen with its arXiv id), so old links resolve.
paper_keys = Table(
    "paper_keys",
    metadata,
    Column("key", text_up_to(250), primary_key=True),
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), nullable=False, index=True),
    sqlite_with_rowid=False,  # no rowid needed: the key's B-tree is the table (migration 0015)
)

paper_sources = Table(
    "paper_sources",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), nullable=False, index=True),
    Column("source", text_up_to(32), nullable=False),
    Column("source_id", text_up_to(250), nullable=False),
    Column("first_seen_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    # The normalized record exactly as this source gave it: merging is recomputed from these,
    # so no source's data is ever lost by a merge.
    Column("record", JSON_DOCUMENT, nullable=False),
    UniqueConstraint("source", "source_id", name="uq_paper_sources_source_source_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("username", text_up_to(64), nullable=False, unique=True),
    # accounts.username_key(username): names are unique in this form (case, width and script
    # folded). Set for every user; nullable only because SQLite cannot add a NOT NULL column
    # to a table other tables point at without rebuilding it (migration 0006).
    Column("username_key", text_up_to(300), index=True, unique=True),
    Column("email", text_up_to(320), unique=True),
    Column("password_hash", Text),
    Column("role", text_up_to(16), nullable=False, default="user"),
    Column("created_at", DateTime, nullable=False),
    # Set by an admin: the user's votes stop counting everywhere (kept, so it can be undone).
    Column("votes_hidden", Boolean, nullable=False, default=False),
)

# Server-side sessions; the cookie carries a random token, the database only its SHA-256.
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", text_up_to(64), primary_key=True),
    Column("user_id", INT64, ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", text_up_to(64), primary_key=True),
    Column("user_id", INT64, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", text_up_to(100), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime),
)

# Failed logins, for rate limiting across worker processes.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("key", text_up_to(400), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
)

upvotes = Table(
    "upvotes",
    metadata,
    Column("user_id", INT64, ForeignKey("users.id"), primary_key=True),
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), primary_key=True, index=True),
    Column("created_at", DateTime, nullable=False),
)

# One vector per paper and model, valid while the paper's content_hash matches.
embeddings = Table(
    "embeddings",
    metadata,
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), primary_key=True),
    Column("model", text_up_to(200), nullable=False),
    Column("content_hash", text_up_to(16), nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32, little-endian
    Column("updated_at", DateTime, nullable=False, index=True),
)

# Resumable jobs: a job's position is written in the same transaction as the batch it covers.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("job", text_up_to(500), primary_key=True),
    Column("state", JSON_DOCUMENT, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("source", text_up_to(200), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("new", INT64, nullable=False, default=0),
    Column("updated", INT64, nullable=False, default=0),
    Column("duplicates", INT64, nullable=False, default=0),
    Column("rejected", INT64, nullable=False, default=0),
)

# A user's library: saved papers and thumbs up (+1) / down (-1, which also hides the paper
# from their feed). One row per user and paper; the recommender learns from it.
library = Table(
    "library",
    metadata,
    Column("user_id", INT64, ForeignKey("users.id"), primary_key=True),
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), primary_key=True),
    Column("saved", Boolean, nullable=False, default=False),
    Column("rating", INT64, nullable=False, default=0),
    Column("updated_at", DateTime, nullable=False),
)

# Followed authors and saved searches (kind "author" or "query").
follows = Table(
    "follows",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("user_id", INT64, ForeignKey("users.id"), nullable=False, index=True),
    Column("kind", text_up_to(16), nullable=False),
    Column("value", text_up_to(500), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "kind", "value", name="uq_follows_user_kind_value"),
)

# Papers already sent to a user in a digest: not recommended to them again.
seen = Table(
    "seen",
    metadata,
    Column("user_id", INT64, ForeignKey("users.id"), primary_key=True),
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), primary_key=True),
    Column("seen_at", DateTime, nullable=False),
)

# Digest subscribers: a signed-in user or an anonymous address (double opt-in: confirmed_at is
# set only from the link in the confirmation email). Who a subscription belongs to, its period
# and whether it is active change only through such a link (digests.confirm).
subscribers = Table(
    "subscribers",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    # digests.normalise_email: lower case, so one address is one row however it is typed
    Column("email", text_up_to(320), nullable=False, unique=True),
    Column("user_id", INT64, ForeignKey("users.id"), index=True),
    Column("period", text_up_to(8), nullable=False, default="daily"),
    Column("created_at", DateTime, nullable=False),
    Column("confirmed_at", DateTime),
    Column("unsubscribed_at", DateTime),
    # Bumped by every confirmation: links carry the generation they were
    # made for and stop working once it moves on.
    Column("generation", INT64, nullable=False, default=0, server_default=text("0")),
)

# One row per subscriber and digest period: the unique key is what makes a digest go out once.
# status: pending -> sent, or failed after too many attempts; attempts back off via next_try_at.
outbox = Table(
    "outbox",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("subscriber_id", INT64, ForeignKey("subscribers.id"), nullable=False),
    Column("period_key", text_up_to(32), nullable=False),
    Column("status", text_up_to(8), nullable=False, default="pending", index=True),
    Column("message_id", text_up_to(200), nullable=False),
    Column("message", LargeBinary, nullable=False),  # the whole RFC 5322 message, as sent
    Column("paper_ids", JSON_DOCUMENT, nullable=False),
    Column("attempts", INT64, nullable=False, default=0),
    Column("next_try_at", DateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    UniqueConstraint("subscriber_id", "period_key", name="uq_outbox_subscriber_period"),
)

# Instance-wide values, such as the secret that signs unsubscribe links.
settings = Table(
    "settings",
    metadata,
    Column("key", text_up_to(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# Topics: clusters of paper embeddings with c-TF-IDF labels, recomputed by `topics build`;
# papers added later are assigned to the nearest centroid. x, y place a topic on the map.
topics = Table(
    "topics",
    metadata,
    Column("id", INT64, primary_key=True),
    Column("label", text_up_to(300), nullable=False),
    Column("terms", JSON_DOCUMENT, nullable=False),
    Column("size", INT64, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("centroid", LargeBinary, nullable=False),  # float32, little-endian
    Column("computed_at", DateTime, nullable=False),
)

paper_topics = Table(
    "paper_topics",
    metadata,
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), primary_key=True),
    Column("topic_id", INT64, ForeignKey("topics.id"), nullable=False, index=True),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
)

# Scheduled jobs claimed per time slot: when several schedulers run (one per app host), the
# first to insert (job, slot) runs it and the others skip it. A crashed holder's slot is not
# retried: every job is idempotent and resumable, so the next slot catches up.
scheduled_runs = Table(
    "scheduled_runs",
    metadata,
    Column("job", String(100), primary_key=True),
    Column("slot", String(40), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("claimed_at", DateTime, nullable=False, index=True),
    Column("finished_at", DateTime),
)

# Discussions: comments on a paper and one level of replies (parent_id names a top-level
# comment). Deleting keeps the row (its text emptied): replies stay under a "[deleted]" line
# and the member's rate limit still counts it. Admins hide comments (kept, so it can be undone).
comments = Table(
    "comments",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), nullable=False, index=True),
    Column("user_id", INT64, ForeignKey("users.id"), nullable=False, index=True),
    Column("parent_id", INT64, ForeignKey("comments.id"), index=True),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False, index=True),
    Column("edited_at", DateTime),
    Column("deleted_at", DateTime),
    Column("hidden", Boolean, nullable=False, default=False),
)

# Members' reports of comments, for admins to review: one per member and comment.
comment_reports = Table(
    "comment_reports",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("comment_id", INT64, ForeignKey("comments.id"), nullable=False, index=True),
    Column("user_id", INT64, ForeignKey("users.id"), nullable=False),
    Column("reason", text_up_to(500), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("comment_id", "user_id", name="uq_comment_reports_comment_id_user_id"),
)

# Per member: replies created up to this time have been in one of their digests (moved in the
# same transaction as the digest's outbox row, so a reply is never mailed twice).
reply_digests = Table(
    "reply_digests",
    metadata,
    Column("user_id", INT64, ForeignKey("users.id"), primary_key=True),
    Column("replies_until", DateTime, nullable=False),
)

# Papers submitted to the daily lists: by a member (user_id), or by Hugging Face's community
# (origin "hf", submitter their name there). One per paper: the unique key is what refuses a
# second one. An admin's removal is kept (removed_at), so that a removed paper cannot be submitted
# again nor come back with the next Hugging Face sync; quotas count it too.
submissions = Table(
    "submissions",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), nullable=False, unique=True),
    Column("origin", text_up_to(16), nullable=False),
    Column("user_id", INT64, ForeignKey("users.id"), index=True),
    Column("submitter", text_up_to(200), nullable=False, index=True),
    Column("submitter_fullname", text_up_to(200)),
    Column("comment", Text),
    Column("submitted_at", DateTime, nullable=False, index=True),
    Column("removed_at", DateTime),
    Column("removed_by", INT64, ForeignKey("users.id")),
)

# Issue 14: authors, claims and profiles (migration 0014).

# One row per author of a paper, so an author's page reads an index, not every paper's JSON.
# name_key and signature are names.parse(name).key and .signature: the page finds the names
# its rule may group by signature, then the papers by name_key.
paper_authors = Table(
    "paper_authors",
    metadata,
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), primary_key=True),
    Column("position", INT64, primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_key", text_up_to(200), nullable=False),
    Column("signature", text_up_to(210), nullable=False),
    Index("ix_paper_authors_name_key", "name_key", "paper_id"),
    Index("ix_paper_authors_signature", "signature", "name_key"),
    sqlite_with_rowid=False,
)

# A member saying they are an author of a paper: pending until an admin decides, or approved
# at once through a confirmed address in PAPERTIDE_CLAIM_EMAIL_DOMAINS (how = "email").
claims = Table(
    "claims",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("user_id", INT64, ForeignKey("users.id"), nullable=False, index=True),
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), nullable=False, index=True),
    Column("status", text_up_to(16), nullable=False, index=True),  # pending, approved, rejected
    Column("how", text_up_to(16)),  # admin or email, once decided
    Column("decided_by", INT64, ForeignKey("users.id")),
    Column("created_at", DateTime, nullable=False),
    Column("decided_at", DateTime),
    UniqueConstraint("user_id", "paper_id", name="uq_claims_user_id_paper_id"),
)

# What a member shows on their public profile (/users/NAME); no row: the defaults.
profiles = Table(
    "profiles",
    metadata,
    Column("user_id", INT64, ForeignKey("users.id"), primary_key=True),
    Column("show_upvotes", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime, nullable=False),
)

# Keywords and a one-line summary per paper (Hugging Face's ai_keywords / ai_summary), derived
# by the index run and valid while content_hash and the methods that made them match.
# summary_kind: "extractive" (a sentence of the abstract) or "llm" (summary_model wrote it);
# summary_error: why the configured LLM was not used (the extractive fallback was stored).
paper_extracts = Table(
    "paper_extracts",
    metadata,
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), primary_key=True),
    Column("content_hash", text_up_to(16), nullable=False),
    Column("keywords", JSON_DOCUMENT, nullable=False),
    Column("keyword_method", text_up_to(40), nullable=False),
    Column("summary", Text, nullable=False),
    Column("summary_kind", text_up_to(16), nullable=False),
    Column("summary_model", Text),
    Column("summary_error", Text),
    Column("computed_at", DateTime, nullable=False),
)

# A member's named collections of papers (store/collections.py); a public one has its own page,
# feeds and exports. The library (saved papers) is every member's default collection and stays
# in `library`, which the recommender learns from.
collections = Table(
    "collections",
    metadata,
    Column("id", INT64, primary_key=True, autoincrement=True),
    Column("user_id", INT64, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", text_up_to(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("public", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "name", name="uq_collections_user_name"),
)

collection_papers = Table(
    "collection_papers",
    metadata,
    Column("collection_id", INT64, ForeignKey("collections.id"), primary_key=True),
    Column("paper_id", text_up_to(200), ForeignKey("papers.id"), primary_key=True, index=True),
    Column("added_at", DateTime, nullable=False),
)

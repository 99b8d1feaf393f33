"""One paper fetched from arXiv by its id, stored like any synced paper (a member submitted a
paper papertide does not have yet). One try, within the submission timeout: a member is
waiting, so an unreachable or slow arXiv is a message (FetchError), not a wait."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from papertide.config import Settings
from papertide.ingest import arxiv_atom
from papertide.ingest.http import PoliteClient
from papertide.records import PaperRecord
from papertide.store import queries
from papertide.store.writer import save_batch


def fetch_record(settings: Settings, arxiv_id: str) -> PaperRecord | None:
    """arXiv's record of ARXIV_ID, or None when arXiv has no such paper; FetchError when arXiv
    cannot be asked (unreachable, failing, too slow)."""
    client = PoliteClient(
        0.0, retries=0, backoff=0.0, timeout=settings.submission_fetch_timeout
    )  # one request: no pace to keep, nothing to retry
    with client:
        items = arxiv_atom.fetch_one(client, settings.arxiv_api_url or arxiv_atom.API_URL, arxiv_id)
    return next(
        (i for i in items if isinstance(i, PaperRecord) and i.arxiv_id == arxiv_id), None
    )


def store_record(engine: Engine, record: PaperRecord) -> str:
    """Store RECORD as a sync would; the id of its paper."""
    with engine.begin() as conn:
        save_batch(conn, [record])
    with engine.connect() as conn:
        paper_id = queries.resolve_id(conn, record.arxiv_id or record.paper_id, True)
    assert paper_id is not None  # just stored
    return paper_id

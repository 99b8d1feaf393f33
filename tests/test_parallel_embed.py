"""Embedding in worker processes gives exactly the vectors of one process, and resumes."""

from pathlib import Path

from sqlalchemy import select

from papertide.records import PaperRecord
from papertide.search.refresh import EMBED_BATCH, embed_pending
from papertide.store.engine import open_engine
from papertide.store.schema import embeddings
from papertide.store.writer import save_batch

PAPERS = EMBED_BATCH * 2 + 37  # three batches, the last one short


def _database(path: Path):
    engine = open_engine(f"sqlite:///{path}")
    topics = ["graph networks", "speech recognition", "protein folding", "image diffusion"]
    records = [
        PaperRecord(
            source="jsonl",
            source_id=f"p{n}",
            title=f"Study {n} of {topics[n % 4]}",
            abstract=f"We look at {topics[n % 4]} from angle {n}. " * (1 + n % 5),
        )
        for n in range(PAPERS)
    ]
    with engine.begin() as conn:
        save_batch(conn, records)
    return engine


def _vectors(engine) -> dict[str, bytes]:
    with engine.connect() as conn:
        return dict(conn.execute(select(embeddings.c.paper_id, embeddings.c.vector)).all())


def test_two_worker_processes_store_the_vectors_one_process_stores(tmp_path, embedder):
    alone, together = _database(tmp_path / "a.db"), _database(tmp_path / "b.db")
    assert embed_pending(alone, embedder) == PAPERS
    seen: list[int] = []
    done = embed_pending(together, embedder, lambda _s, n, _t: seen.append(n), workers=2)
    assert done == PAPERS and seen[-1] == PAPERS
    one, two = _vectors(alone), _vectors(together)
    assert len(one) == PAPERS and one == two  # bit for bit
    assert embed_pending(together, embedder, workers=2) == 0  # nothing twice
    alone.dispose()
    together.dispose()

"""Digest scale: personalized digests for many subscribers over a large database.

    .venv/bin/python bench/digest.py [--papers 100000] [--subscribers 10000] [--send 1000]

Builds a temp database of synthetic papers (the generator of bench/search.py, with synthetic
clustered vectors stored as the default model's, published over the last 100 days: ~1,000 a
day), and SUBSCRIBERS users, each with a 10-paper library drawn near one point of the vector
space and a confirmed daily subscription (one in ten also follows a search). Times composing
every daily digest into the outbox (recommendations, rendering, saving, marking seen: what
`papertide digest send` does before sending), then sending SEND of them to a local SMTP sink
(aiosmtpd on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from aiosmtpd.controller import Controller

from papertide.clock import SystemClock
from papertide.digest.compose import compose, part_of
from papertide.digest.deliver import deliver
from papertide.digest.settings import MailSettings
from papertide.rank.recommend import Recommender
from papertide.search.embedder import default_embedder
from papertide.search.generations import Indexes, IndexStore
from papertide.search.refresh import update_indexes
from papertide.store import digests, library
from papertide.store import vectors as stored_vectors
from papertide.store.engine import open_engine
from papertide.store.schema import papers, users
from papertide.store.writer import utcnow
from search import clustered_vectors, papers_batches, vocabulary


class CountingSink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def build(folder: Path, n: int, readers: int) -> tuple[str, Indexes]:
    url = f"sqlite:///{folder / 'digest.db'}"
    engine = open_engine(url)
    words, probs = vocabulary(np.random.default_rng(0))
    now = utcnow()
    rng = np.random.default_rng(3)
    ids: list[str] = []
    for batch in papers_batches(n, words, probs):
        for row in batch:
            row["content_hash"] = row["id"][-16:]
            row["published_at"] = now - timedelta(minutes=int(rng.integers(0, 100 * 24 * 60)))
        with engine.begin() as conn:
            conn.execute(papers.insert(), batch)
        ids.extend(r["id"] for r in batch)
    model = default_embedder()
    matrix = np.zeros((n, 384), dtype=np.float32)
    for first, block in clustered_vectors(n):
        matrix[first : first + len(block)] = block
        rows = [
            (ids[first + i], ids[first + i][-16:], v.astype("<f4").tobytes())
            for i, v in enumerate(block)
        ]
        with engine.begin() as conn:
            stored_vectors.save(conn, model.name, rows)
    store = IndexStore(folder / "digest.index")
    start = time.perf_counter()
    update_indexes(engine, store, model)
    indexes = store.current()
    print(f"built {n:,} papers and their indexes ({time.perf_counter() - start:.0f} s to index)")
    start = time.perf_counter()
    anchors = rng.integers(0, n, readers)
    with engine.begin() as conn:
        conn.execute(
            users.insert(),
            [
                {"id": i + 1, "username": f"reader{i}", "role": "user", "created_at": now}
                for i in range(readers)
            ],
        )
        for i, anchor in enumerate(anchors):
            near = np.argsort(-(matrix[rng.integers(0, n, 400)] @ matrix[anchor]))[:10]
            library.save_many(conn, i + 1, [ids[int(j)] for j in near])
            if i % 10 == 0:
                library.follow(conn, i + 1, "query", " ".join(rng.choice(words[50:3000], 2)))
            change = digests.subscribe(conn, f"reader{i}@example.org", "daily", i + 1)
            digests.confirm(conn, change)
    print(f"{readers:,} subscribers with libraries ({time.perf_counter() - start:.0f} s)")
    engine.dispose()
    return url, indexes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--send", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, indexes = build(Path(tmp), args.papers, args.subscribers)
        engine = open_engine(url)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        mail = MailSettings(host="127.0.0.1", port=port, base_url="https://papers.example.org")
        now = utcnow()
        start = time.perf_counter()
        messages = compose(engine, Recommender(engine, lambda: indexes), "daily", mail, now)
        took = time.perf_counter() - start
        with engine.connect() as conn:
            queued = digests.counts(conn).get("pending", 0)
        picks = np.mean([part_of(m, "plain").count("Why:") for m in messages])
        print(
            f"composed {len(messages):,} personalized daily digests in {took:.1f} s "
            f"({took / len(messages) * 1000:.2f} ms each, {queued:,} queued, "
            f"{picks:.1f} picks per digest on average)"
        )
        sink = CountingSink()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            start = time.perf_counter()
            report = deliver(engine, mail, SystemClock(), limit=args.send)
            took = time.perf_counter() - start
        finally:
            controller.stop()
        print(
            f"sent {report.sent:,} messages to a local SMTP sink in {took:.1f} s "
            f"({report.sent / took:.0f} messages/s); the sink counted {sink.count:,}"
        )
        engine.dispose()


if __name__ == "__main__":
    main()

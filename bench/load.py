"""Server-mode load: 200 concurrent clients browsing, searching and voting against 2 app
instances on one PostgreSQL; every answer must be a 200 and every vote counted exactly once.

    .venv/bin/python bench/load.py [--papers 20000] [--seconds 60] [--clients 200]

The same synthetic papers and vectors as bench/web.py (its `build`) go into a throwaway
PostgreSQL server (tests/pgserver.py, durable: fsync on) with one user and API token per
client. Two `papertide serve` instances (one worker each, as two hosts would run them) share
it; each client keeps to one instance (clients alternate between them) and, until the time is
up, picks at random: the daily list, a paper page, a search (hybrid), the API's daily papers,
or a vote toggle on one of 40 papers (contended on purpose: 200 users toggling the same rows).
Latencies are client-side, from request to full answer, per page type. At the end each
paper's count is read back from every instance and compared with what the clients did (a user
who toggled a paper an odd number of times voted for it). Client and servers share this
machine's two cores; the client is Python (httpx), so it takes part of them.

`drive` is the load itself; tests/test_server_load.py runs it for a fixed number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOT_PAPERS = 40  # papers the votes go to
# Page types and how often a client picks each
MIX = {
    "daily list": 30,
    "paper page": 30,
    "search": 15,
    "API daily_papers": 15,
    "vote": 10,
}


@dataclass
class Site:
    """What the clients browse: paper ids, days that have papers, words to search for."""

    paper_ids: list[str]
    days: list[str]
    words: list[str]


@dataclass
class Outcome:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)  # "kind path: status or exception"
    toggles: Counter = field(default_factory=Counter)  # (client, paper) -> votes toggled
    seconds: float = 0.0

    def expected_votes(self, papers: list[str]) -> dict[str, int]:
        """Each paper's count after the run: the clients that toggled it an odd number of
        times."""
        counts = dict.fromkeys(papers, 0)
        for (_client, paper), toggled in self.toggles.items():
            counts[paper] += toggled % 2
        return counts

    def requests(self) -> int:
        return sum(len(times) for times in self.latencies.values())


def _path(kind: str, site: Site, rng: random.Random) -> str:
    if kind == "daily list":
        return f"/day/{rng.choice(site.days)}"
    if kind == "paper page":
        return f"/papers/{rng.choice(site.paper_ids)}"
    if kind == "search":
        return f"/search?q={'+'.join(rng.sample(site.words, 2))}"
    return f"/api/daily_papers?date={rng.choice(site.days)}"


async def drive(
    bases: list[str],
    site: Site,
    tokens: list[str],
    *,
    seconds: float | None = None,
    requests_per_client: int | None = None,
    mix: dict[str, int] = MIX,
    hot_papers: int = HOT_PAPERS,
    seed: int = 0,
) -> Outcome:
    """One client per token, all at once, each on BASES[client % len(BASES)], until SECONDS
    have passed or each made REQUESTS_PER_CLIENT requests, picking page types by the weights
    of MIX; votes go to the first HOT_PAPERS papers."""
    if (seconds is None) == (requests_per_client is None):
        raise ValueError("give seconds or requests_per_client")
    outcome = Outcome()
    hot = site.paper_ids[:hot_papers]
    kinds, weights = list(mix), list(mix.values())
    deadline = time.monotonic() + seconds if seconds is not None else None
    timeout = httpx.Timeout(120)  # queued behind 100 other clients on a busy machine

    async def client(number: int) -> None:
        # Each client its own connections, as each reader's browser has. With one pool shared
        # by all, 1 request in 3 runs of 800 failed with an empty ReadError: most likely a
        # finished client's connection, idle past uvicorn's 5 s keep-alive, handed to another
        # client just as the server closed it (a race of HTTP keep-alive that browsers retry).
        async with httpx.AsyncClient(timeout=timeout) as http:
            await requests(number, http)

    async def requests(number: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(seed * 100_003 + number)
        base, bearer = bases[number % len(bases)], {"Authorization": f"Bearer {tokens[number]}"}
        made = 0
        while (deadline is None or time.monotonic() < deadline) and (
            requests_per_client is None or made < requests_per_client
        ):
            made += 1
            kind = rng.choices(kinds, weights)[0]
            start = time.perf_counter()
            try:
                if kind == "vote":
                    paper = rng.choice(hot)
                    path = f"/api/papers/{paper}/vote"
                    answer = await http.post(base + path, headers=bearer)
                    if answer.status_code == 200:
                        outcome.toggles[number, paper] += 1
                        voted = outcome.toggles[number, paper] % 2 == 1
                        if answer.json()["voted"] != voted:
                            outcome.failures.append(f"vote {path}: 'voted' is not {voted}")
                else:
                    path = _path(kind, site, rng)
                    answer = await http.get(base + path)
            except httpx.HTTPError as exc:
                outcome.failures.append(f"{kind} {path}: {type(exc).__name__}: {exc}")
                continue
            outcome.latencies[kind].append(time.perf_counter() - start)
            if answer.status_code != 200:
                outcome.failures.append(f"{kind} {path}: {answer.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(len(tokens))))
    outcome.seconds = time.perf_counter() - started
    return outcome


async def stored_votes(bases: list[str], papers: list[str]) -> dict[str, dict[str, int]]:
    """Each paper's vote count as each instance answers it."""
    async with httpx.AsyncClient(timeout=60) as http:
        return {
            base: {
                paper: (await http.get(f"{base}/api/papers/{paper}")).json()["votes"]
                for paper in papers
            }
            for base in bases
        }


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def report(outcome: Outcome, counted: dict[str, dict[str, int]], site: Site) -> None:
    print(f"{outcome.requests():,} requests in {outcome.seconds:.0f} s:")
    for kind in MIX:
        times = outcome.latencies.get(kind, [])
        if times:
            print(
                f"  {kind:<18} {len(times) / outcome.seconds:7.1f} req/s  "
                f"p50 {percentile(times, 0.5):7.1f} ms  p99 {percentile(times, 0.99):7.1f} ms"
            )
    print(f"  {'all':<18} {outcome.requests() / outcome.seconds:7.1f} req/s")
    print(f"failed requests: {len(outcome.failures)}")
    for failure in outcome.failures[:10]:
        print(f"  {failure}")
    expected = outcome.expected_votes(site.paper_ids[:HOT_PAPERS])
    wrong = sum(counts != expected for counts in counted.values())
    toggles = sum(outcome.toggles.values())
    print(
        f"votes: {toggles} toggles on {HOT_PAPERS} papers; final counts read from each of "
        f"{len(counted)} instances: {'all right' if not wrong else f'{wrong} instance(s) wrong'}"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_instance(url: str, index_dir: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """`papertide serve` with WORKERS workers on a free port; waits until it answers."""
    port = _free_port()
    env = {**os.environ, "PAPERTIDE_DB": url, "PAPERTIDE_INDEX_DIR": str(index_dir)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "papertide.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/about", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("papertide serve did not start")


def add_users(url: str, first: int, count: int) -> list[str]:
    """COUNT more users with an API token each (one password hash for all: hashing is slow on
    purpose)."""
    from papertide.security import hash_password, new_token
    from papertide.store import accounts
    from papertide.store.engine import open_engine

    engine = open_engine(url)
    hashed_password = hash_password("loadpass1")
    tokens = []
    with engine.begin() as conn:
        for n in range(first, first + count):
            user = accounts.create_user(conn, f"load{n}", hashed_password)
            token, hashed = new_token()
            accounts.create_api_token(conn, hashed, user, "load")
            tokens.append(token)
    engine.dispose()
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from pgserver import ThrowawayPostgres  # the tests' throwaway server
    from search import vocabulary  # bench/search.py, beside this file
    from web import build  # bench/web.py

    postgres = ThrowawayPostgres(durable=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            url, ids, days, tokens = build(
                folder, args.papers, postgres.url(postgres.create_database())
            )
            tokens += add_users(url, len(tokens), max(0, args.clients - len(tokens)))
            words = vocabulary(np.random.default_rng(0))[0][50:3000]
            site = Site(ids, days, list(words))
            instances = [start_instance(url, folder / "web.index") for _ in range(2)]
            bases = [base for _, base in instances]
            try:
                # warm-up (caches, the embedding model in each worker), without votes
                warm = Site(ids[HOT_PAPERS:], days, site.words)
                asyncio.run(drive(bases, warm, tokens[:20], seconds=5))
                print(
                    f"{args.papers:,} papers on PostgreSQL; {args.clients} clients on 2 "
                    f"instances x 1 worker; mix {MIX}; {args.seconds:.0f} s:"
                )
                outcome = asyncio.run(
                    drive(bases, site, tokens[: args.clients], seconds=args.seconds)
                )
                counted = asyncio.run(stored_votes(bases, ids[:HOT_PAPERS]))
                report(outcome, counted, site)
            finally:
                for process, _ in instances:
                    process.terminate()
                    process.wait(30)
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()

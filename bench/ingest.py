"""Ingest throughput: parse and store N synthetic records, streaming.

    .venv/bin/python bench/ingest.py [--records 100000] [--db sqlite:///PATH]
    .venv/bin/python bench/ingest.py --records 2600000 --format snapshot [--gzip]
        [--backends sqlite,postgresql] [--snapshot FILE] [--no-reimport]

`--format oai` (the default) writes an arXiv OAI-PMH ListRecords file and imports it into one
database (`--db`, default a temporary SQLite file). `--format snapshot` writes arXiv's metadata
snapshot (one JSON object a line, as Kaggle publishes it; `--gzip` compresses it) and imports it
into each of `--backends`: a temporary SQLite file, and a throwaway PostgreSQL server with
its durable defaults (tests/pgserver.py). Prints records/s for parse-only, for parse + store
and for a re-import (wall, and CPU time: this process's, and apart the reader process's that a
bulk import of a large file starts, since the machine may be shared), and this process's
resident memory (RSS) at 10, 50 and 90 % of the file, to show that memory stays flat.
"""

from __future__ import annotations

import argparse
import gzip
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import orjson

from papertide.ingest import arxiv_snapshot, oai
from papertide.ingest.compressed import open_input
from papertide.ingest.runner import import_file
from papertide.store.engine import open_engine

WORDS = (
    "learning model network neural data training graph attention language transformer "
    "diffusion robust sparse efficient adaptive inference optimization representation "
    "contrastive retrieval benchmark reasoning policy reinforcement generative latent "
    "embedding quantization pruning distillation federated causal bayesian kernel"
).split()


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def write_oai(path: Path, n: int, seed: int = 0) -> None:
    """An OAI-PMH ListRecords document with N records in the arXiv metadata format."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>\n'
        )
        for i in range(n):
            arxiv_id = f"{2400 + i // 100000:04d}.{i % 100000:05d}"
            abstract = " ".join(_sentence(rng, rng.randint(12, 25)) for _ in range(8))
            authors = "".join(
                f"<author><keyname>Name{rng.randint(0, 9999)}</keyname>"
                f"<forenames>A.</forenames></author>"
                for _ in range(rng.randint(1, 6))
            )
            out.write(
                f"<record><header><identifier>oai:arXiv.org:{arxiv_id}</identifier>"
                f"<datestamp>2024-01-02</datestamp><setSpec>cs</setSpec></header><metadata>"
                f'<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>{arxiv_id}</id>'
                f"<created>2024-01-{1 + i % 28:02d}</created><authors>{authors}</authors>"
                f"<title>{_sentence(rng, rng.randint(6, 14))}</title>"
                f"<categories>cs.LG stat.ML</categories><abstract>{abstract}</abstract>"
                f"</arXiv></metadata></record>\n"
            )
        out.write("</ListRecords></OAI-PMH>\n")


def write_snapshot(path: Path, n: int, seed: int = 0) -> None:
    """N records of arXiv's metadata snapshot; a third with a DOI, a fifth with a code link."""
    rng = random.Random(seed)
    gzipped = path.suffix == ".gz"
    with gzip.open(path, "wb", compresslevel=1) if gzipped else path.open("wb") as out:
        for i in range(n):
            authors = [
                [f"Name{rng.randint(0, 9999)}", "A. B.", ""] for _ in range(rng.randint(1, 6))
            ]
            comments = "12 pages; code: https://github.com/lab/repo" if i % 5 == 0 else "8 pages"
            row = {
                "id": f"{2400 + i // 100000:04d}.{i % 100000:05d}",
                "submitter": "A. Name",
                "authors": ", ".join(f"{first} {last}" for last, first, _ in authors),
                "title": _sentence(rng, rng.randint(6, 14)),
                "comments": comments,
                "journal-ref": None,
                "doi": f"10.1000/bench.{i}" if i % 3 == 0 else None,
                "report-no": None,
                "categories": "cs.LG stat.ML",
                "license": None,
                "abstract": "  "
                + "\n".join(_sentence(rng, rng.randint(12, 25)) for _ in range(8))
                + "\n",
                "versions": [
                    {"version": "v1", "created": f"Mon, {1 + i % 28} Jan 2024 10:00:00 GMT"}
                ],
                "update_date": "2024-02-01",
                "authors_parsed": authors,
            }
            out.write(orjson.dumps(row) + b"\n")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 1e6


def children_cpu() -> float:
    """CPU seconds of this process's ended children (a bulk import's reader process)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


class Clock:
    """Wall and CPU seconds since it was made, this process's and its ended children's."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.children = children_cpu()

    def rates(self, n: int) -> str:
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        reader = children_cpu() - self.children
        shown = f"{wall:.1f} s = {n / wall:,.0f} rec/s (CPU {cpu:.1f} s = {n / cpu:,.0f} rec/s"
        if reader > 1:
            shown += f"; reader process CPU {reader:.1f} s = {n / reader:,.0f} rec/s"
        return shown + ")"


def import_snapshot(url: str, source: Path, label: str, reimport: bool = True) -> None:
    """Import SOURCE into the database at URL, then again; print rates and RSS."""
    engine = open_engine(url)
    size = source.stat().st_size
    marks = iter((10, 50, 90))
    wanted = [next(marks)]
    samples: list[str] = []

    def sample(done_bytes: int) -> None:
        if wanted[0] and done_bytes * 100 >= wanted[0] * size:
            samples.append(f"{wanted[0]}%: {rss_mb():.0f}")
            wanted[0] = next(marks, 0)

    clock = Clock()
    summary = import_file(engine, source, "arxiv-snapshot", on_progress=sample)
    print(f"{label} parse + store: {summary.new:,} new in {clock.rates(summary.new)}")
    print(f"{label} RSS while importing (MB): {', '.join(samples)}")
    if not reimport:
        engine.dispose()
        return
    clock = Clock()
    again = import_file(engine, source, "arxiv-snapshot")
    print(
        f"{label} re-import (all duplicates): {again.duplicates:,} in "
        f"{clock.rates(again.duplicates)}; new={again.new}"
    )
    engine.dispose()


def snapshot_main(args: argparse.Namespace, tmp: str) -> None:
    source = args.snapshot or Path(tmp) / ("snapshot.json.gz" if args.gzip else "snapshot.json")
    if source.exists():
        print(f"reusing {source} ({source.stat().st_size / 1e6:,.0f} MB)")
    else:
        clock = Clock()
        write_snapshot(source, args.records)
        print(
            f"generated {args.records:,} snapshot records, {source.stat().st_size / 1e6:,.0f} MB "
            f"in {time.perf_counter() - clock.wall:.1f} s"
        )
    with open_input(source).content as handle:
        clock = Clock()
        parsed = sum(1 for _ in arxiv_snapshot.read(handle, "bench"))
    print(f"parse only: {parsed:,} records in {clock.rates(parsed)}")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            import_snapshot(f"sqlite:///{tmp}/bench.db", source, "SQLite", args.reimport)
            continue
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from pgserver import ThrowawayPostgres  # the tests' throwaway server

        server = ThrowawayPostgres(durable=True)
        try:
            url = server.url(server.create_database())
            import_snapshot(url, source, "PostgreSQL", args.reimport)
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--format", choices=("oai", "snapshot"), default="oai")
    parser.add_argument("--gzip", action="store_true", help="snapshot: write it gzipped")
    parser.add_argument("--backends", default="sqlite,postgresql", help="snapshot: where to")
    parser.add_argument(
        "--no-reimport", dest="reimport", action="store_false", help="snapshot: import once"
    )
    parser.add_argument(
        "--snapshot", type=Path, help="snapshot: this file, written first if it does not exist"
    )
    parser.add_argument("--db", default=None, help="oai: database URL (default: temp SQLite)")
    args = parser.parse_args()
    if args.format == "snapshot":
        with tempfile.TemporaryDirectory() as tmp:
            snapshot_main(args, tmp)
        return

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "records.xml"
        start = time.perf_counter()
        write_oai(source, args.records)
        print(
            f"generated {args.records:,} records, {source.stat().st_size / 1e6:.0f} MB "
            f"in {time.perf_counter() - start:.1f} s"
        )

        start = time.perf_counter()
        with source.open("rb") as handle:
            parsed = sum(1 for _ in oai.read(handle, "bench"))
        parse_s = time.perf_counter() - start
        print(f"parse only: {parsed:,} records in {parse_s:.1f} s = {parsed / parse_s:,.0f} rec/s")

        engine = open_engine(args.db or f"sqlite:///{tmp}/bench.db")
        samples: list[tuple[int, float]] = []
        size = source.stat().st_size

        def sample(done_bytes: int) -> None:
            if not samples or done_bytes - samples[-1][0] >= size // 10:
                samples.append((done_bytes, rss_mb()))

        start = time.perf_counter()
        summary = import_file(engine, source, "oai", on_progress=sample)
        store_s = time.perf_counter() - start
        print(
            f"parse + store: {summary.new:,} new in {store_s:.1f} s "
            f"= {summary.new / store_s:,.0f} rec/s"
        )
        print(
            "RSS while importing (MB): "
            + ", ".join(f"{100 * b / size:.0f}%:{mb:.0f}" for b, mb in samples)
        )

        start = time.perf_counter()
        again = import_file(engine, source, "oai")
        again_s = time.perf_counter() - start
        print(
            f"re-import (all duplicates): {again.duplicates:,} in {again_s:.1f} s "
            f"= {again.duplicates / again_s:,.0f} rec/s; new={again.new}"
        )


if __name__ == "__main__":
    main()

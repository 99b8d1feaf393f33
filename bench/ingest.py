"""Ingest throughput: parse and store N synthetic arXiv OAI-PMH records, streaming.

    .venv/bin/python bench/ingest.py [--records 100000] [--db sqlite:///PATH]

Prints records/s for parse-only and for parse + store, and resident memory (RSS) sampled as the
import goes, to show that memory stays flat instead of growing with the file.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from papertide.ingest import oai
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


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite file)")
    args = parser.parse_args()

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

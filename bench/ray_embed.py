"""Ray's overhead: the same abstracts embedded locally and on a 2-node Ray cluster on this
machine, in one run.

    .venv/bin/python bench/ray_embed.py [--papers 20000]

The papers are bench/embed.py's (the real abstracts of ../shared/data, cycled). Each path runs
`search.refresh.embed_pending` as `papertide index` does, into its own copy of the database:
one process; PAPERTIDE_EMBED_WORKERS=2 worker processes; and `index --ray` against a cluster of
two 1-CPU nodes started here with ray.cluster_utils (every process on 127.0.0.1), so both
parallel paths have the same two cores. The Ray figure counts connecting, starting the actors
and shipping the model: what an index run pays. The overhead ratio is the 2-process rate over
the Ray rate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from embed import lowest_cosine, make_database, run
from papertide.config import Settings
from papertide.search.embedder import DEFAULT_MODEL, OnnxEmbedder
from papertide.search.ray_embed import RayPlan
from papertide.search.refresh import embed_pending
from papertide.store.engine import open_engine
from papertide.store.schema import embeddings

# Before Ray is imported: no usage report, and 127.0.0.1 stays 127.0.0.1 (see the tests)
os.environ.update(RAY_USAGE_STATS_ENABLED="0", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")


def run_on_ray(template: Path, folder: Path, address: str) -> tuple[float, dict]:
    path = folder / "ray.db"
    shutil.copy(template, path)
    engine = open_engine(f"sqlite:///{path}")
    embedder = OnnxEmbedder(Settings.load().models / DEFAULT_MODEL, 1)
    start = time.perf_counter()
    done = embed_pending(engine, embedder, ray=RayPlan(address))
    seconds = time.perf_counter() - start
    with engine.connect() as conn:
        vectors = dict(conn.execute(select(embeddings.c.paper_id, embeddings.c.vector)).all())
    engine.dispose()
    return done / seconds, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=20_000)
    args = parser.parse_args()
    from ray.cluster_utils import Cluster

    node = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "include_dashboard": False}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = folder / "template.db"
        make_database(template, args.papers)
        single, reference = run(template, folder, "single", 1, 1)
        pool, pooled = run(template, folder, "workers", 1, 2)
        started = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args=node)
        cluster.add_node(**node)
        start_up = time.perf_counter() - started
        try:
            on_ray, ray_vectors = run_on_ray(template, folder, cluster.address)
        finally:
            cluster.shutdown()
    print(f"{args.papers} real abstracts (title + abstract, up to 512 tokens), int8 MiniLM-L6:")
    print(f"  1 process, 1 thread:            {single:6.1f} abstracts/s")
    print(f"  2 worker processes:             {pool:6.1f} abstracts/s ({pool / single:.2f}x)")
    print(
        f"  Ray, 2 nodes x 1 CPU (actors):  {on_ray:6.1f} abstracts/s ({on_ray / single:.2f}x; "
        f"all {len(ray_vectors) == len(reference)}, lowest cosine to 1 process "
        f"{lowest_cosine(reference, ray_vectors):.6f})"
    )
    print(f"  Ray overhead ratio (2 processes / Ray): {pool / on_ray:.2f}")
    print(f"  (starting the 2-node cluster, not counted above: {start_up:.1f} s)")
    assert pooled == reference


if __name__ == "__main__":
    main()

"""Embedding on several cores: worker processes that each load the ONNX model once and embed
whole batches, so each batch is computed exactly as one process would compute it (the vectors
are bit-identical to the single-process path) while the parent reads and saves batches.

Processes, not onnxruntime threads: a batch of short texts leaves intra-op threads idle much of
the time (bench/embed.py measures both)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np

from papertide.search.embedder import load_embedder

_worker_model: tuple[Path, int] | None = None


def _start_worker(directory: Path, threads: int) -> None:
    global _worker_model
    _worker_model = (directory, threads)
    load_embedder(directory, threads)  # loaded once, before the first batch arrives


def _embed(texts: list[str]) -> np.ndarray:
    assert _worker_model is not None
    return load_embedder(*_worker_model).embed(texts)


def embed_batches(
    directory: Path, threads: int, workers: int, batches: Iterator[list[str]]
) -> Iterator[tuple[int, np.ndarray]]:
    """(batch number, vectors) for each batch of texts, in the order the batches were given,
    computed by WORKERS processes; at most two batches per worker are in flight, so memory
    stays flat however many batches there are."""
    # spawn: the parent holds onnxruntime and database threads, which fork would copy half-way.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(directory, threads)
    ) as pool:
        in_flight: list[tuple[int, Future[np.ndarray]]] = []
        for number, texts in enumerate(batches):
            in_flight.append((number, pool.submit(_embed, texts)))
            if len(in_flight) >= 2 * workers:
                first, future = in_flight.pop(0)
                yield first, future.result()
        for number, future in in_flight:
            yield number, future.result()

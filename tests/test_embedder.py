"""The int8 ONNX embedder: same meaning as the fp32 model, and the export path on local files."""

import json

import numpy as np
import pytest

from conftest import SHARED_DATA
from papertide.search import model_build
from papertide.search.embedder import MAX_TOKENS, OnnxEmbedder, document_text


def abstracts(n: int) -> list[str]:
    rows = [json.loads(line) for line in (SHARED_DATA / "listing-papers.jsonl").open()]
    return [document_text(r["title"], r["abstract"]) for r in rows[:n]]


@pytest.mark.shared_data
def test_vectors_are_normalized_and_order_independent(embedder):
    texts = [*abstracts(6), "short", ""]
    matrix = embedder.embed(texts)
    assert matrix.shape == (8, embedder.dim) and matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix[:7], axis=1), 1, atol=1e-5)
    reversed_matrix = embedder.embed(texts[::-1])[::-1]
    assert np.allclose(matrix, reversed_matrix, atol=1e-5)  # length sorting changes nothing
    assert embedder.embed([]).shape == (0, embedder.dim)


@pytest.mark.shared_data
def test_int8_matches_fp32_reference(embedder):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    source = model_build.bundled_source()
    tokenizer = transformers.AutoTokenizer.from_pretrained(source)
    model = transformers.AutoModel.from_pretrained(source).eval()
    texts = abstracts(24)
    with torch.no_grad():
        batch = tokenizer(
            texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        reference = (hidden * mask).sum(1) / mask.sum(1)
        reference = torch.nn.functional.normalize(reference, dim=1).numpy()
    ours = embedder.embed(texts)
    cosines = (ours * reference).sum(axis=1)
    assert cosines.mean() > 0.98 and cosines.min() > 0.95
    # the geometry agrees: pairwise similarities correlate, and each text's nearest neighbour
    # under fp32 is among its three nearest under int8 (exact top-1 ties flip on 24 texts)
    ours_sim, ref_sim = ours @ ours.T, reference @ reference.T
    upper = np.triu_indices(len(texts), 1)
    assert np.corrcoef(ours_sim[upper], ref_sim[upper])[0, 1] > 0.99
    np.fill_diagonal(ours_sim, -1)
    np.fill_diagonal(ref_sim, -1)
    ours_top3 = np.argsort(-ours_sim, axis=1)[:, :3]
    assert all(ref_sim[i].argmax() in ours_top3[i] for i in range(len(texts)))


def test_prepare_exports_any_local_model_folder(tmp_path):
    """The path users with a network take (`--hub`) ends in the same export, tested here on a
    tiny random model written to disk."""
    transformers = pytest.importorskip("transformers")
    source = tmp_path / "tiny-model"
    config = transformers.BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    transformers.BertModel(config).save_pretrained(source)
    (source / "tokenizer.json").write_bytes(
        (model_build.bundled_source() / "tokenizer.json").read_bytes()
    )
    target = model_build.prepare(source, tmp_path / "out", "tiny")
    tiny = OnnxEmbedder(target)
    assert tiny.dim == 32 and tiny.name.startswith("tiny@")
    assert tiny.embed(["hello world"]).shape == (1, 32)


def test_missing_model_says_how_to_fix(tmp_path):
    from papertide.search.embedder import EmbedderUnavailable

    with pytest.raises(EmbedderUnavailable, match="papertide model prepare"):
        OnnxEmbedder(tmp_path)

"""A corpus with one dominant theme, the shape that made near-duplicate topics: 60 papers on
speech and music (eight tasks, eight methods) and 30 on three other themes, written from
templates with a seeded generator. Used by tests/test_topics.py and bench/topics.py."""

from __future__ import annotations

import random

AUDIO_TASKS = (
    "speech synthesis", "music generation", "speech recognition", "music transcription",
    "speech enhancement", "singing voice synthesis", "music source separation",
    "speaker verification",
)  # fmt: skip
AUDIO_WORDS = (
    "speech", "music", "audio", "spectrogram", "waveform", "vocoder", "speaker", "melody",
    "acoustic", "phoneme",
)  # fmt: skip
METHODS = (
    "diffusion", "transformer", "self-supervised", "contrastive", "autoregressive",
    "flow matching", "codec language model", "GAN",
)  # fmt: skip
OTHER_THEMES = (
    ("graph neural networks", ("graph", "nodes", "message passing", "molecules", "edges")),
    ("image segmentation", ("pixels", "segmentation", "masks", "images", "boundaries")),
    ("reinforcement learning", ("policy", "reward", "agents", "environment", "exploration")),
)


def dominant_theme_papers(seed: int = 0) -> list[dict[str, str]]:
    """Title and abstract of 90 papers, 60 of them on speech and music."""
    rng = random.Random(seed)
    papers = []
    for number in range(60):
        task, method = rng.choice(AUDIO_TASKS), rng.choice(METHODS)
        w = rng.sample(AUDIO_WORDS, 5)
        abstract = (
            f"We study {task} with a {method} model. Our {method} system improves {task} on "
            f"{w[0]} and {w[1]} benchmarks. The model conditions on {w[2]} features and predicts "
            f"{w[3]} frames, and listeners prefer its {w[4]} output. Experiments on {task} show "
            f"gains in {w[0]} quality."
        )
        title = f"{method.capitalize()} {task} with {w[2]} and {w[3]} ({number})"
        papers.append({"title": title, "abstract": abstract})
    for number in range(30):
        theme, words = OTHER_THEMES[number % 3]
        w, method = rng.sample(words, 4), rng.choice(METHODS)
        abstract = (
            f"We study {theme} with a {method} model. It learns from {w[0]} and {w[1]}, and "
            f"predicts {w[2]}. On {theme} benchmarks the {method} model improves {w[3]}."
        )
        title = f"{method.capitalize()} {theme} over {w[0]} and {w[1]} ({number})"
        papers.append({"title": title, "abstract": abstract})
    return papers

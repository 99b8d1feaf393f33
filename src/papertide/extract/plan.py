"""What an index run derives and with what (from the settings); light to import."""

from __future__ import annotations

from dataclasses import dataclass

CORPUS_SAMPLE = 10_000  # papers that phrase and word rarity is measured over
KEYWORD_METHODS = ("tfidf", "embedding")


@dataclass(frozen=True)
class LlmSettings:
    """An OpenAI-compatible chat endpoint that writes the one-line summaries."""

    url: str  # base URL (with or without the trailing /v1)
    model: str
    api_key: str | None = None
    timeout: float = 30.0

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/").removesuffix("/v1") + "/v1/chat/completions"


@dataclass(frozen=True)
class ExtractPlan:
    """How an index run derives keywords and summaries."""

    keyword_method: str = "tfidf"  # or "embedding" (tfidf when the model is not prepared)
    llm: LlmSettings | None = None
    corpus_sample: int = CORPUS_SAMPLE

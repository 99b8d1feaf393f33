"""The FastAPI application: HTML pages and the JSON API over one database and its indexes."""

from __future__ import annotations

import html
import os
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from sqlalchemy.engine import Engine
from threadpoolctl import threadpool_limits

from papertide import __version__
from papertide.rank.recommend import Recommender
from papertide.search.embedder import Embedder, EmbedderUnavailable, default_embedder
from papertide.search.location import index_dir
from papertide.search.refresh import Indexes, refresh_all
from papertide.store.engine import default_url, normalize_url, open_engine

HERE = Path(__file__).parent
REFRESH_SECONDS = float(os.environ.get("PAPERTIDE_REFRESH_SECONDS", "30"))
SIMILAR_CACHE = 20_000
REQUEST_THREADS = int(os.environ.get("PAPERTIDE_REQUEST_THREADS", "1"))


@dataclass
class Services:
    """What request handlers use; built once per process."""

    engine: Engine
    indexes: Indexes
    _embedder: Embedder | None = field(default=None, repr=False)
    _embedder_checked: bool = False
    _refreshed_at: float = float("-inf")
    _refresh_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Similar papers change only when the indexes do: answers are kept until a refresh changes
    # something (a paper page computes them on every view otherwise).
    _similar: OrderedDict[tuple[str, int], list[Any]] = field(default_factory=OrderedDict)
    _index_version: int = 0
    _recommender: Recommender | None = None
    _cache_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def cached_similar(self, key: str, compute: Callable[[], list[Any]]) -> list[Any]:
        cache_key = (key, self._index_version)
        hit = self._similar.get(cache_key)
        if hit is None:
            hit = compute()
            with self._cache_lock:
                self._similar[cache_key] = hit
                while len(self._similar) > SIMILAR_CACHE:
                    self._similar.popitem(last=False)
        return hit

    def refresh_indexes(self) -> None:
        """Take in papers and vectors stored since the last look, at most every
        REFRESH_SECONDS, and never embed on a request: `papertide index` (or the scheduler)
        computes vectors; until then new papers are found by keyword."""
        now = time.monotonic()
        if now - self._refreshed_at < REFRESH_SECONDS or not self._refresh_lock.acquire(False):
            return
        try:
            report = refresh_all(self.engine, self.indexes, self.embedder(), embed=False)
            if any(report.values()):
                with self._cache_lock:  # answers computed meanwhile carry the old version
                    self._index_version += 1
                    self._similar.clear()
            self._refreshed_at = time.monotonic()
        finally:
            self._refresh_lock.release()

    def recommender(self) -> Recommender:
        if self._recommender is None:
            self._recommender = Recommender(self.engine, self.indexes)
        return self._recommender

    def embedder(self) -> Embedder | None:
        """The embedding model, or None (keyword search only) when it is not prepared."""
        if not self._embedder_checked:
            self._embedder_checked = True
            try:
                self._embedder = default_embedder()
            except EmbedderUnavailable:
                self._embedder = None
        return self._embedder


def safe_snippet(snippet: str) -> Markup:
    """A search snippet as HTML where only the <b> highlight tags survive: everything else,
    whatever the paper's text contains, is escaped."""
    escaped = str(escape(html.unescape(snippet)))
    return Markup(escaped.replace("&lt;b&gt;", "<b>").replace("&lt;/b&gt;", "</b>"))


@asynccontextmanager
async def _fewer_request_threads(app: FastAPI) -> AsyncIterator[None]:
    """Handlers are short CPU work on cached data, so threads only fight over the GIL: measured
    with wrk, 20 connections, one worker, 100k papers: paper pages 176 / 246 / 235 / 325 req/s
    and daily lists 125 / 180 / 172 / 244 req/s with 40 (anyio's default) / 2 / 4 / 1 threads.
    Throughput comes from worker processes (`serve --workers`)."""
    to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
    yield


def create_app(db_url: str | None = None) -> FastAPI:
    # Requests run in many threads at once; OpenBLAS's own thread pool on top of that made
    # concurrent vector searches wait on each other (measured: 17 against 200+ paper pages/s).
    threadpool_limits(limits=1)
    url = normalize_url(db_url or default_url())
    services = Services(open_engine(url), Indexes.at(index_dir(url)))
    app = FastAPI(
        lifespan=_fewer_request_threads,
        title="papertide",
        version=__version__,
        description="Research papers: daily lists, search, similar papers. "
        "`/api/daily_papers` answers like Hugging Face's endpoint of the same name.",
    )
    app.state.services = services
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.auto_reload = False  # templates ship with the package; no stat per render
    templates.env.filters["safe_snippet"] = safe_snippet
    # KaTeX is vendored at install time (scripts/vendor.sh); without it math stays plain text.
    templates.env.globals["katex"] = (HERE / "static/vendor/katex/katex.min.js").exists()
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from papertide.web import accounts, api, feeds, library, pages, subscriptions, topics

    app.include_router(accounts.api_router)  # before api.router: its /papers/{id} is greedy
    app.include_router(library.api_router)
    app.include_router(topics.api_router)
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(accounts.router)
    app.include_router(library.router)  # before pages.router, for the same reason
    app.include_router(subscriptions.router)
    app.include_router(topics.router)
    app.include_router(pages.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers: the database comes from PAPERTIDE_DB."""
    return create_app()

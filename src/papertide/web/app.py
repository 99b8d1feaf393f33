"""The FastAPI application: HTML pages and the JSON API over one papertide application object.

`create_app(settings)` builds the application object (engine, index reader, embedder,
recommender, mail settings, clock) once per worker process; handlers get it through
`web/deps.py`. The web app only reads the search indexes: `papertide index` (or the scheduler)
publishes new generations, and each worker switches to them as they appear.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from threadpoolctl import threadpool_limits

from papertide import __version__
from papertide.application import Papertide
from papertide.clock import Clock
from papertide.config import Settings
from papertide.limits import MAX_BODY_BYTES
from papertide.web import (
    accounts,
    api,
    authors,
    claims,
    collections,
    discussion,
    docs,
    exports,
    feeds,
    hf,
    library,
    pages,
    profiles,
    submissions,
    subscriptions,
    topics,
)
from papertide.web.errors import InternalErrors, PlainTextErrors, add_error_pages
from papertide.web.headers import SecurityHeaders
from papertide.web.methods import AllowedMethods
from papertide.web.openapi import documented_errors
from papertide.web.templating import make_templates
from papertide.web.views import SimilarCache

HERE = Path(__file__).parent


def create_app(settings: Settings | str | None = None, clock: Clock | None = None) -> FastAPI:
    """The web app over SETTINGS (a database URL is accepted as shorthand, for tests and
    scripts); CLOCK pins time (tests)."""
    if isinstance(settings, str):
        settings = Settings.load(db=settings)
    papertide = Papertide(settings, clock)
    # Requests run in many threads at once; OpenBLAS's own thread pool on top of that made
    # concurrent vector searches wait on each other (measured: 17 against 200+ paper pages/s).
    threadpool_limits(limits=1)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Handlers are short CPU work on cached data, so threads only fight over the GIL:
        # measured with wrk, 20 connections, one worker, 100k papers: paper pages 176 / 246 /
        # 235 / 325 req/s and daily lists 125 / 180 / 172 / 244 req/s with 40 (anyio's
        # default) / 2 / 4 / 1 threads. Throughput comes from worker processes (`--workers`).
        limiter = to_thread.current_default_thread_limiter()
        limiter.total_tokens = papertide.settings.request_threads
        yield
        papertide.close()

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # web/docs.py serves /docs from the package; ReDoc is not offered
        redoc_url=None,
        title="papertide",
        version=__version__,
        description="Research papers: daily lists, search, similar papers. "
        "`/api/daily_papers` answers like Hugging Face's endpoint of the same name.",
    )
    papertide.engine  # noqa: B018 - open (and migrate) the database now, not on a request
    app.state.papertide = papertide
    app.state.similar_cache = SimilarCache()
    app.state.templates = make_templates()
    # The body limit is middleware of ours, not FastAPI's max_body_size: that one sits outside
    # every user middleware and answers 413 as plain text, which PlainTextErrors then could not
    # turn into a page or JSON. Upload routes set their own, larger limit.
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES)
    app.add_middleware(AllowedMethods)
    app.add_middleware(InternalErrors)  # inside SecurityHeaders: its 500s get the headers too
    app.add_middleware(PlainTextErrors)
    app.add_middleware(SecurityHeaders)
    app.openapi = documented_errors(app)  # type: ignore[method-assign]
    add_error_pages(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # before api.router and pages.router, whose /papers/{id} would take "search" or "ID.md"
    app.include_router(hf.api_router)
    app.include_router(hf.router)
    app.include_router(accounts.api_router)  # before api.router: its /papers/{id} is greedy
    app.include_router(library.api_router)
    app.include_router(topics.api_router)
    app.include_router(discussion.api_router)  # before api.router, for the same reason
    app.include_router(claims.api_router)  # before api.router: /api/papers/{id}/claim
    app.include_router(authors.api_router)
    app.include_router(collections.api_router)  # before profiles': /api/users/{name} is greedy
    app.include_router(profiles.api_router)
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(collections.feed_router)
    app.include_router(docs.router)
    app.include_router(accounts.router)
    app.include_router(library.router)  # before pages.router, for the same reason
    app.include_router(collections.router)
    app.include_router(exports.router)
    app.include_router(subscriptions.router)
    app.include_router(topics.router)
    app.include_router(discussion.router)  # before pages.router, for the same reason
    app.include_router(submissions.router)
    app.include_router(claims.router)  # before pages.router: /papers/{id}/claim
    app.include_router(authors.router)
    app.include_router(profiles.router)
    app.include_router(pages.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers: every setting comes from the environment (config.py)."""
    return create_app()

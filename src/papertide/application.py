"""The application object: what one papertide process works with, built once from Settings.

The CLI builds one per command, the web app one per worker process; each part asks it for the
database engine, the search indexes (read side, and the one writer), the embedding model, the
recommender, the mail settings and the clock. Everything is opened on first use, so `--help`
and commands that need no model never load one.
"""

from __future__ import annotations

import re
import threading
from functools import cached_property
from pathlib import Path

from platformdirs import user_data_dir
from sqlalchemy.engine import Engine, make_url

from papertide.clock import Clock, SystemClock
from papertide.config import Settings
from papertide.digest.settings import MailSettings
from papertide.extract.plan import ExtractPlan, LlmSettings
from papertide.rank.recommend import Recommender
from papertide.search.embedder import DEFAULT_MODEL, Embedder, EmbedderUnavailable, load_embedder
from papertide.search.generations import Indexes, IndexStore
from papertide.search.ray_embed import RayPlan
from papertide.search.refresh import Progress, update_indexes
from papertide.store.dialect import sqlite_file
from papertide.store.engine import open_engine


class Papertide:
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or Settings.load()
        self.clock: Clock = clock or SystemClock()
        self._embedder: Embedder | None = None
        self._embedder_error: EmbedderUnavailable | None = None
        self._embedder_lock = threading.Lock()

    # -- storage ---------------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        """The database, migrated to the current schema (StoreError when it cannot be)."""
        return open_engine(self.settings.database_url)

    @cached_property
    def index_store(self) -> IndexStore:
        return IndexStore(self.index_dir, check_seconds=self.settings.refresh_seconds)

    @property
    def index_dir(self) -> Path:
        """Beside an SQLite file (papertide.db -> papertide.index/); in the data dir for a
        server database, one folder named after its host, port and name (indexes/HOST-PORT-DB),
        so that every user name and driver spelling of one database finds the same indexes."""
        if self.settings.index_dir is not None:
            return self.settings.index_dir
        url = make_url(self.settings.database_url)
        if (database := sqlite_file(url)) is not None:
            return database.with_suffix(".index")
        where = f"{url.host or 'localhost'}-{url.port or 5432}-{url.database or ''}"
        return Path(user_data_dir("papertide")) / "indexes" / re.sub(r"[^\w.-]", "_", where)

    def indexes(self) -> Indexes:
        """The published index generation, for reading (switches when a newer one appears)."""
        return self.index_store.current()

    def update_indexes(
        self,
        rebuild: bool = False,
        keyword_only: bool = False,
        embed: bool = True,
        progress: Progress | None = None,
        wait: bool = True,
        ray_address: str | None = None,
    ) -> dict[str, int]:
        """Run the one index writer (see search/refresh.py): EMBED false takes in vectors
        already stored but computes none; RAY_ADDRESS (or PAPERTIDE_RAY_ADDRESS) embeds on that
        Ray cluster. IndexBusy if WAIT is false and another process is writing."""
        embedder = None if keyword_only else self.embedder()
        if embedder is not None and embed:
            # The same model with more threads: its vectors are bit-identical (bench/embed.py)
            embedder = load_embedder(self.model_dir, self.settings.index_threads)
        return update_indexes(
            self.engine,
            self.index_store,
            embedder,
            rebuild,
            progress,
            embed=embed,
            wait=wait,
            workers=self.settings.embed_workers,
            ray=self.ray_plan(ray_address),
            extract=self.extract_plan(),
        )

    def extract_plan(self) -> ExtractPlan:
        """How index runs derive keywords and one-line summaries (extract/compute.py)."""
        settings = self.settings
        llm = None
        if settings.summary_llm_url and settings.summary_llm_model:
            llm = LlmSettings(
                settings.summary_llm_url,
                settings.summary_llm_model,
                settings.summary_llm_api_key,
                settings.summary_llm_timeout,
            )
        return ExtractPlan(keyword_method=settings.keywords_method, llm=llm)

    def ray_plan(self, address: str | None = None) -> RayPlan | None:
        """How index runs embed on Ray: at ADDRESS or the configured one (None: not on Ray)."""
        address = address or self.settings.ray_address
        if not address:
            return None
        return RayPlan(address, cpus=self.settings.ray_cpus, gpus=self.settings.ray_gpus)

    # -- models ----------------------------------------------------------------------------------

    @property
    def model_dir(self) -> Path:
        return self.settings.models / DEFAULT_MODEL

    def embedder(self) -> Embedder | None:
        """The embedding model, or None (keyword search only) when it is not prepared."""
        try:
            return self.require_embedder()
        except EmbedderUnavailable:
            return None

    def require_embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None and self._embedder_error is None:
                try:
                    self._embedder = load_embedder(self.model_dir, self.settings.threads)
                except EmbedderUnavailable as exc:
                    self._embedder_error = exc
            if self._embedder_error is not None:
                raise self._embedder_error
            return self._embedder  # type: ignore[return-value]

    @cached_property
    def recommender(self) -> Recommender:
        return Recommender(self.engine, self.indexes, self.clock)

    # -- mail ------------------------------------------------------------------------------------

    @cached_property
    def mail(self) -> MailSettings:
        return MailSettings.from_settings(self.settings)

    def close(self) -> None:
        """Release the database connections (in-process runs open many apps)."""
        if "engine" in self.__dict__:
            self.engine.dispose()

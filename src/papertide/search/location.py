"""Where the search indexes of a database live."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from platformdirs import user_data_dir
from sqlalchemy.engine import make_url


def index_dir(db_url: str) -> Path:
    """Beside an SQLite file (papertide.db -> papertide.index/); in the data dir for servers."""
    override = os.environ.get("PAPERTIDE_INDEX_DIR")
    if override:
        return Path(override)
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).with_suffix(".index")
    digest = hashlib.sha1(url.render_as_string(hide_password=True).encode()).hexdigest()[:12]
    return Path(user_data_dir("papertide")) / "indexes" / digest

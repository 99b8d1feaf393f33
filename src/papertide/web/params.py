"""Query and path parameters shared by pages, API and feeds, each with its bounds.

Every number has a range inside SQLite's 64-bit integers, every text a maximum length, and the
schema states the period formats the code accepts (periods.py), so a value valid by the schema
is always accepted (a 4xx with a message otherwise, never a 500).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from papertide.limits import MAX_QUERY_CHARS
from papertide.periods import DAY_PATTERN, MONTH_PATTERN, SUPPORTED, WEEK_PATTERN
from papertide.search.hybrid import MODES
from papertide.store.queries import SQL_INT_MAX

# Bounds of what requests may ask for. Offsets stay far inside SQLite's 64-bit integers (page
# number x page size included); free text is cut off long before it costs anything to search.
MAX_OFFSET = 1_000_000_000
MAX_PAGE = 10_000_000
MAX_NAME_CHARS = 200
LIST_PAGE_SIZE = 100  # papers on a list page (day, week, month, trending)
SEARCH_PAGE_SIZE = 20  # results on a search page
# Search results are ranked, not counted: every page of a search is cut from the same best
# MAX_SEARCH_DEPTH hits (hybrid ranks differ with the depth asked for, so a deeper ask per page
# would repeat or skip papers between pages). 200 costs ~15 ms a search against ~5 for 20.
MAX_SEARCH_DEPTH = 200

PageNumber = Annotated[
    int | None, Query(ge=1, le=MAX_PAGE, description="page number, from 1 (or give offset)")
]
Offset = Annotated[
    int | None, Query(ge=0, le=MAX_OFFSET, description="items to skip (or give page)")
]
SearchOffset = Annotated[
    int | None,
    Query(ge=0, le=MAX_SEARCH_DEPTH, description="results to skip (or give page)"),
]

Day = Annotated[
    str | None,
    Query(
        description=f"YYYY-MM-DD ({SUPPORTED}), today or yesterday",
        json_schema_extra={"format": "date", "pattern": DAY_PATTERN},
    ),
]
Week = Annotated[
    str | None,
    Query(
        description=f"ISO week YYYY-Www ({SUPPORTED}), this, or a day in it",
        json_schema_extra={"pattern": WEEK_PATTERN},
    ),
]
Month = Annotated[
    str | None,
    Query(
        description=f"YYYY-MM ({SUPPORTED}) or this", json_schema_extra={"pattern": MONTH_PATTERN}
    ),
]
SearchText = Annotated[
    str, Query(max_length=MAX_QUERY_CHARS, description='words, "a phrase", prefix*')
]
Category = Annotated[str | None, Query(max_length=MAX_NAME_CHARS, description="e.g. cs.LG")]
# Checked by usable_mode (400 with the choices), listed in the schema.
Mode = Annotated[
    str, Query(description="keyword, semantic or hybrid", json_schema_extra={"enum": list(MODES)})
]
# The sorts are the registered rankers (rank/rankers.py), so they are checked per request.
Sort = Annotated[
    str,
    Query(
        max_length=MAX_NAME_CHARS,
        description="publishedAt, trending, or another registered ranker's name",
    ),
]
# A topic id is an SQLite integer: a larger number is no topic, not a database overflow.
TopicId = Annotated[int, Path(ge=0, le=SQL_INT_MAX)]

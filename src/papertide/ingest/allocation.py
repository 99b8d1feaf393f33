"""Python's cyclic garbage collector during bulk imports.

A bulk batch is tens of thousands of small dicts, lists and tuples, alive until the batch is
stored. The collector runs after every 700 net allocations and, at each of the youngest
generation's thresholds, walks every object that survived, so it rescans the growing batch
again and again: measured on a 100k-record snapshot import, a third of the importing process's
time, and most of the cost of unpickling what the reader process sends. None of these objects
form cycles, so collecting rarely loses nothing; the thresholds are put back afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young-generation threshold while importing: a collection every 100k allocations, not 700.
BULK_THRESHOLD = 100_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(BULK_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)

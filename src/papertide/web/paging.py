"""Pagination: which slice of a list a request asks for, and the counts and links around it.

Pages ask with `?page=N` (from 1) or `?offset=N`; the links they show use `page`, or `offset`
for a list entered at an offset between pages. A page past the end is an empty page that links
back to the last one, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.datastructures import URL


def start_of(page: int | None, offset: int | None, limit: int) -> int:
    """The offset of the first item asked for: from PAGE (counted from 1) or OFFSET, not both."""
    if page is not None and offset is not None:
        raise HTTPException(400, "give page or offset, not both")
    if page is not None:
        return (page - 1) * limit
    return offset or 0


@dataclass(frozen=True)
class Pager:
    """Where a page is in its list: items OFFSET+1 to OFFSET+SHOWN of TOTAL, or of more than
    BOUND when TOTAL is None (search results are counted only to their depth); MORE: a next
    page exists."""

    url: str  # this page's path and query
    offset: int
    limit: int
    shown: int
    total: int | None
    more: bool
    bound: int | None = None

    @classmethod
    def of(
        cls,
        request: Request,
        offset: int,
        limit: int,
        shown: int,
        total: int | None,
        more: bool,
        bound: int | None = None,
    ) -> Pager:
        url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return cls(url, offset, limit, shown, total, more, bound)

    @property
    def first(self) -> int:
        return self.offset + 1

    @property
    def last(self) -> int:
        return self.offset + self.shown

    @property
    def past_the_end(self) -> bool:
        return self.shown == 0 and self.offset > 0

    def _link(self, offset: int) -> str:
        """This page's URL moved to OFFSET: as `page` when OFFSET starts a page (the usual
        case), else as `offset`, so that a list entered at any offset reads on without gaps."""
        url = URL(self.url).remove_query_params(["page", "offset"])
        if offset % self.limit:
            url = url.include_query_params(offset=offset)
        elif offset:
            url = url.include_query_params(page=offset // self.limit + 1)
        return url.path + (f"?{url.query}" if url.query else "")

    @property
    def previous_url(self) -> str | None:
        if self.offset == 0:
            return None
        if self.past_the_end:  # back to the last page there is (the first, if unknown)
            total = self.total or 0
            return self._link(max(0, (total - 1) // self.limit * self.limit))
        return self._link(max(0, self.offset - self.limit))

    @property
    def next_url(self) -> str | None:
        return self._link(self.offset + self.limit) if self.more and self.shown else None

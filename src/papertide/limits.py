"""Sizes papertide accepts from one user, in one place (docs/security.md lists them).

Every field a user or an upload supplies has a bound: without one, a single member could make
every recommendation slow (a 20 MB saved search) or fill the server's memory (a huge body).
"""

from __future__ import annotations

MAX_QUERY_CHARS = 1_000  # a search, from the web, the API or a feed
MAX_FOLLOW_CHARS = 200  # an author name or a saved search
MAX_FOLLOWS = 100  # per user: each saved search is a search on every recommendation
MAX_UPLOAD_BYTES = 50 << 20  # a library file: a 100,000-entry BibTeX export is ~40 MB
MAX_BODY_BYTES = 1 << 20  # any other request body (forms, JSON)

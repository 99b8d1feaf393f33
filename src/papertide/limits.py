"""Sizes papertide accepts from one user, in one place (docs/security.md lists them).

Every field a user or an upload supplies has a bound: without one, a single member could make
every recommendation slow (a 20 MB saved search) or fill the server's memory (a huge body).
The ranges of numbers in request parameters (offsets, pages) are in web/params.py.
"""

from __future__ import annotations

MAX_QUERY_CHARS = 1_000  # a search, from the web, the API or a feed
MAX_FOLLOW_CHARS = 200  # an author name or a saved search
MAX_FOLLOWS = 100  # per user: each saved search is a search on every recommendation
# argon2 reads the whole password: without a cap, one 10 MB password costs seconds of CPU.
MAX_PASSWORD = 1024
# Longer than any name ever stored (names from before the rule included): a longer login name
# is refused before it reaches the database or the password hasher.
MAX_NAME_INPUT = 256
MAX_TOKEN_NAME = 100  # an API token's label
MAX_EMAIL = 254  # RFC 5321: the longest address a mail server has to accept
MAX_UPLOAD_BYTES = 50 << 20  # a library file: a 100,000-entry BibTeX export is ~40 MB
MAX_BODY_BYTES = 1 << 20  # any other request body (forms, JSON)
MAX_COLLECTION_NAME = 100  # a collection's name
MAX_COLLECTION_DESCRIPTION = 2_000  # and its description
MAX_COLLECTIONS = 50  # per member (the library, their default collection, not counted)
MAX_COLLECTION_PAPERS = 5_000  # per collection: a page, a feed and an export read them all

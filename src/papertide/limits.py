"""Sizes papertide accepts from one user, in one place (docs/security.md lists them).

Every field a user or an upload supplies has a bound: without one, a single member could make
every recommendation slow (a 20 MB saved search) or fill the server's memory (a huge body).
The ranges of numbers in request parameters (offsets, pages) are in web/params.py.
"""

from __future__ import annotations

MAX_QUERY_CHARS = 1_000  # a search: longer is refused by the web, API and feeds, cut by the CLI
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
# A comment on a paper: a long answer with a derivation fits; a pasted paper does not, and
# every view renders the thread's Markdown.
MAX_COMMENT_CHARS = 10_000
MAX_REPORT_REASON = 500  # why a member reports a comment
MAX_ARXIV_REF_CHARS = 300  # an arXiv id or link a member submits
MAX_SUBMISSION_COMMENT = 500  # the comment that comes with a submission
MAX_AUTHOR_NAME = 800  # an author name (in a URL, or read from a paper): names.parse reads no more
MAX_COLLECTION_NAME = 100  # a collection's name
MAX_COLLECTION_DESCRIPTION = 2_000  # and its description
MAX_COLLECTIONS = 50  # per member (the library, their default collection, not counted)
MAX_COLLECTION_PAPERS = 5_000  # per collection: a page, a feed and an export read them all

"""A polite HTTP client for paper sources: rate limit, retries with backoff, typed errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from papertide import __version__

USER_AGENT = f"papertide/{__version__} (+self-hosted paper discovery)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 120.0


class FetchError(Exception):
    """A source could not be fetched; the message is meant for the user."""


class SourceUnreachable(FetchError):
    """No connection at all (offline, DNS failure, refused): retrying later may help."""


class SourceRefused(FetchError):
    """The source answered with a client error: the request itself is wrong."""


class SourceFailing(FetchError):
    """The source kept failing (rate limited, server errors, timeouts) after every retry."""


class PoliteClient:
    """At most one request every MIN_INTERVAL seconds, retrying transient failures with backoff."""

    def __init__(
        self,
        min_interval: float,
        *,
        retries: int = 4,
        backoff: float = 2.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.min_interval = min_interval
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self._last_request = float("-inf")
        self._client = httpx.Client(
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
            transport=transport,
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._client.close()

    def _wait_turn(self) -> None:
        wait = self._last_request + self.min_interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last_request = time.monotonic()

    def get(self, url: str, params: dict[str, Any] | None = None) -> bytes:
        last_problem = ""
        for attempt in range(self.retries + 1):
            self._wait_turn()
            try:
                response = self._client.get(url, params=params)
            except httpx.ConnectError as exc:
                # Offline machines fail here at once; a couple of tries separate that from a blip.
                if attempt >= 1:
                    raise SourceUnreachable(f"cannot connect to {_host(url)}: {exc}") from exc
                last_problem = str(exc)
                self.sleep(self.backoff)
                continue
            except httpx.TransportError as exc:  # timeouts, dropped connections
                last_problem = f"{type(exc).__name__}: {exc}"
                self.sleep(self.backoff * 2**attempt)
                continue
            if response.status_code in RETRY_STATUSES:
                last_problem = f"HTTP {response.status_code}"
                self.sleep(_retry_after(response) or self.backoff * 2**attempt)
                continue
            if response.status_code >= 400:
                raise SourceRefused(
                    f"{_host(url)} answered HTTP {response.status_code}: {response.text[:200]}"
                )
            return response.content
        raise SourceFailing(
            f"{_host(url)} still failing after {self.retries + 1} tries ({last_problem})"
        )


def _host(url: str) -> str:
    return httpx.URL(url).host or url


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    return None

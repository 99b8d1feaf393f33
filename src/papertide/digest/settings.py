"""Mail settings, taken from the application's Settings (config.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from papertide.config import Settings


@dataclass(frozen=True)
class MailSettings:
    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"  # none | starttls | ssl
    user: str | None = None
    password: str | None = None
    sender: str = "papertide <papertide@localhost>"
    base_url: str = "http://127.0.0.1:8000"  # where links in messages point
    timeout: float = 30.0
    ca_file: str | None = None  # a private CA's certificate, for a lab's own mail server

    retry_seconds: float = 60.0  # first backoff after a failed message
    lease_seconds: float = 120.0  # how long a sender holds a message it is sending

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSettings:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port_or_default,
            security=settings.smtp_security,
            user=settings.smtp_user or None,
            password=settings.smtp_password or None,
            sender=settings.mail_from,
            base_url=settings.base_url,
            timeout=settings.smtp_timeout,
            ca_file=settings.smtp_ca_file or None,
            retry_seconds=settings.smtp_retry_seconds,
            lease_seconds=settings.smtp_lease_seconds,
        )

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

"""Mail settings, from the environment (documented in README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit


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

    @classmethod
    def from_env(cls) -> MailSettings:
        env = os.environ
        security = env.get("PAPERTIDE_SMTP_SECURITY", "none").lower()
        if security not in ("none", "starttls", "ssl"):
            raise ValueError("PAPERTIDE_SMTP_SECURITY is none, starttls or ssl")
        default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]
        return cls(
            host=env.get("PAPERTIDE_SMTP_HOST", cls.host),
            port=int(env.get("PAPERTIDE_SMTP_PORT", default_port)),
            security=security,
            user=env.get("PAPERTIDE_SMTP_USER") or None,
            password=env.get("PAPERTIDE_SMTP_PASSWORD") or None,
            sender=env.get("PAPERTIDE_MAIL_FROM", cls.sender),
            base_url=env.get("PAPERTIDE_BASE_URL", cls.base_url).rstrip("/"),
            timeout=float(env.get("PAPERTIDE_SMTP_TIMEOUT", cls.timeout)),
            ca_file=env.get("PAPERTIDE_SMTP_CA_FILE") or None,
        )

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

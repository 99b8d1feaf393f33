"""Signed links for subscription actions: confirming and unsubscribing need no login, so the
link itself carries the subscriber id, signed with the instance's secret (itsdangerous)."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

PURPOSES = ("confirm", "unsubscribe")


def make(secret: str, purpose: str, subscriber_id: int) -> str:
    return URLSafeSerializer(secret, salt=purpose).dumps(subscriber_id)


def read(secret: str, purpose: str, token: str) -> int | None:
    """The subscriber id in TOKEN, or None when it is forged, damaged or for another purpose."""
    try:
        value = URLSafeSerializer(secret, salt=purpose).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None

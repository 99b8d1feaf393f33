"""Signed links for subscription actions: confirming and unsubscribing need no login, so the
link itself carries what it is for, signed with the instance's secret (itsdangerous), and the
subscription's generation, so a link stops working once the subscription is confirmed again."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from papertide.store.digests import PERIODS, Change


def _dumps(secret: str, purpose: str, value: Any) -> str:
    return URLSafeSerializer(secret, salt=purpose).dumps(value)


def _loads(secret: str, purpose: str, token: str) -> Any:
    try:
        return URLSafeSerializer(secret, salt=purpose).loads(token)
    except BadSignature:
        return None


def confirm_token(secret: str, change: Change) -> str:
    return _dumps(
        secret,
        "confirm",
        [change.subscriber_id, change.generation, change.period, change.user_id],
    )


def read_confirm(secret: str, token: str) -> Change | None:
    """The change a confirmation link asks for; None when it is forged, damaged or from before
    links carried one (those confirmed whatever the row said, so they are not honoured)."""
    value = _loads(secret, "confirm", token)
    match value:
        case [int(subscriber_id), int(generation), str(period), int() | None as user_id] if (
            period in PERIODS
        ):
            return Change(subscriber_id, generation, period, user_id)
    return None


def unsubscribe_token(secret: str, subscriber: dict[str, Any]) -> str:
    return _dumps(secret, "unsubscribe", [subscriber["id"], subscriber["generation"]])


def read_unsubscribe(secret: str, token: str) -> tuple[int, int] | None:
    """(subscriber id, generation) of an unsubscribe link, or None when forged or damaged.
    Links from before generations (a bare id) hold while the subscription is still at the
    generation every subscription had then, 0."""
    value = _loads(secret, "unsubscribe", token)
    match value:
        case [int(subscriber_id), int(generation)]:
            return subscriber_id, generation
        case int(subscriber_id):
            return subscriber_id, 0
    return None

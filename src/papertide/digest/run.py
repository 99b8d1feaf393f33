"""One digest run: compose what is due into the outbox, then send everything pending."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from papertide.clock import Clock
from papertide.digest.compose import compose
from papertide.digest.deliver import deliver
from papertide.digest.settings import MailSettings
from papertide.rank.recommend import Recommender

Progress = Callable[[str, int, int | None], None]


def send_digests(
    engine: Engine,
    recommender: Recommender,
    period: str,
    mail: MailSettings,
    clock: Clock,
    day: datetime | None = None,
    email: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """DAY picks whose digest is composed (default: now); sending follows the clock."""
    now = day or clock.now()

    def composing(done: int, total: int) -> None:
        if progress:
            progress(f"composing {period} digests", done, total)

    messages = compose(engine, recommender, period, mail, now, email, dry_run, composing)
    if dry_run:
        return {"composed": len(messages), "to": [m["To"] for m in messages], "sent": 0}
    report = deliver(
        engine, mail, clock, on_progress=lambda n: progress and progress("sending", n, None)
    )
    return {"composed": len(messages), **report.as_json()}

"""Sending the outbox over SMTP: each message is marked sent in its own transaction right after
the server accepts it, so a crash, a refusal or a dropped connection leaves the rest pending for
the next run (with backoff) and never re-sends what was acknowledged. One window is inherent to
SMTP: a crash between the server's acceptance and that commit (well under a millisecond here)
re-sends that one message, under the same Message-ID. A message is claimed (leased) before it
is sent, so concurrent senders never send the same one."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy.engine import Engine

from papertide.clock import Clock
from papertide.digest.settings import MailSettings
from papertide.store import digests

# A sender holds (leases) a message while sending it, for MailSettings.lease_seconds: two
# `digest send` runs at once (the scheduler and a manual run) never send the same message; one
# killed mid-send leaves it due again after the lease.
MAX_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 12
BATCH = 500


@dataclass
class DeliveryReport:
    sent: int = 0
    retry_later: int = 0
    failed: int = 0
    dropped: int = 0
    server_error: str | None = None

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


class _ServerTrouble(Exception):
    """The server is down or misbehaving: stop this run, everything left stays pending."""


def connect(mail: MailSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=mail.ca_file)
    if mail.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            mail.host, mail.port, timeout=mail.timeout, context=context
        )
    else:
        client = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
    try:
        if mail.security == "starttls":
            client.starttls(context=context)
        if mail.user:
            client.login(mail.user, mail.password or "")
    except BaseException:
        client.close()
        raise
    return client


def retry_time(attempts: int, now: datetime, first_backoff: float) -> datetime | None:
    """When to try a message again after ATTEMPTS failures (doubling from FIRST_BACKOFF
    seconds), or None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(timedelta(seconds=first_backoff * 2 ** (attempts - 1)), MAX_RETRY)


def deliver(
    engine: Engine,
    mail: MailSettings,
    clock: Clock,
    on_progress: Callable[[int], None] | None = None,
    limit: int | None = None,
) -> DeliveryReport:
    """Send every due message in the outbox (at most LIMIT, to pace a large batch)."""
    now = clock.now()
    report = DeliveryReport()
    sender = parseaddr(mail.sender)[1] or mail.sender
    client: smtplib.SMTP | None = None
    try:
        while True:
            wanted = BATCH if limit is None else min(BATCH, limit - report.sent)
            if wanted <= 0:
                break
            with engine.connect() as conn:
                batch = digests.due(conn, now, wanted)
            if not batch:
                break
            for row in batch:
                with engine.begin() as conn:
                    lease = clock.now() + timedelta(seconds=mail.lease_seconds)
                    if not digests.claim(conn, row["id"], now, lease):
                        continue
                reason = _outdated(row)
                if reason is not None:
                    with engine.begin() as conn:
                        digests.mark_dropped(conn, row["id"], reason)
                    report.dropped += 1
                    continue
                try:
                    client = client or connect(mail)
                except (smtplib.SMTPException, OSError) as exc:  # the server, not this message
                    _failed(engine, mail, clock, row, repr(exc), now, report)
                    raise _ServerTrouble(repr(exc)) from exc
                try:
                    client.sendmail(sender, [row["email"]], row["message"])
                except smtplib.SMTPRecipientsRefused as exc:
                    _failed(
                        engine,
                        mail,
                        clock,
                        row,
                        f"recipient refused: {exc.recipients}",
                        now,
                        report,
                    )
                except smtplib.SMTPResponseException as exc:
                    error = f"{exc.smtp_code} {exc.smtp_error!r}"
                    _failed(engine, mail, clock, row, error, now, report)
                    # 5xx refuses this message; 4xx (and 554, often a block on the sender)
                    # says the server cannot take mail now
                    if not 500 <= exc.smtp_code < 600 or exc.smtp_code == 554:
                        raise _ServerTrouble(error) from exc
                except (smtplib.SMTPException, OSError) as exc:
                    _failed(engine, mail, clock, row, repr(exc), now, report)
                    raise _ServerTrouble(repr(exc)) from exc
                else:
                    with engine.begin() as conn:
                        digests.mark_sent(conn, row["id"])
                    report.sent += 1
                    if on_progress:
                        on_progress(report.sent)
    except _ServerTrouble as exc:
        report.server_error = str(exc)
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    return report


def _outdated(row: dict) -> str | None:
    """Why a composed message must not go out any more, if it must not."""
    if row["unsubscribed_at"] is not None:
        return "unsubscribed before sending"
    if row["confirmed_at"] is not None and row["confirmed_at"] > row["created_at"]:
        # composed for the subscription before its owner confirmed a change: another period
        # or reader, and an unsubscribe link of the generation that has passed
        return "the subscription changed after this digest was composed"
    return None


def _failed(
    engine: Engine,
    mail: MailSettings,
    clock: Clock,
    row: dict,
    error: str,
    now: datetime,
    report: DeliveryReport,
) -> None:
    # From the clock, not the run's start: a retry is never due within the run that failed.
    later = max(now, clock.now()) + timedelta(microseconds=1)
    retry_at = retry_time(row["attempts"] + 1, later, mail.retry_seconds)
    with engine.begin() as conn:
        digests.mark_failed(conn, row["id"], error, retry_at)
    if retry_at is None:
        report.failed += 1
    else:
        report.retry_later += 1

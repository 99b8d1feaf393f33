"""`papertide digest ...` and `papertide scheduler`: email digests and scheduled jobs."""

from __future__ import annotations

import contextlib
import re
import smtplib
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from papertide.cli.common import (
    AS_JSON,
    EXIT_UNREACHABLE,
    application,
    emit_json,
    engine,
    err,
    fail,
    out,
    staged_progress,
    user_named,
    writing_to,
)
from papertide.cli.framework import CommandGroup
from papertide.cli.sync import checked_category
from papertide.digest import compose, run, subscribe
from papertide.periods import PeriodError, parse_day
from papertide.store import digests

digest_app = CommandGroup(
    help="Email digests: subscribers, sending, previews.", no_args_is_help=True
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # as APScheduler's cron names them
PERIOD = typer.Option("daily", "--period", metavar="PERIOD", help="daily or weekly.")


def checked_period(period: str) -> str:
    if period not in compose.WINDOW_DAYS:
        fail(f"--period is daily or weekly, not {period!r}")
    return period


def send_digests(
    ctx: typer.Context,
    period: str,
    dry_run: bool = False,
    to: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    checked_period(period)
    eng, pt = engine(ctx), application(ctx)
    with staged_progress() as show:
        return run.send_digests(
            eng, pt.recommender, period, pt.mail, pt.clock, now, to, dry_run, show
        )


@digest_app.command("send")
def digest_send(
    ctx: typer.Context,
    period: str = PERIOD,
    dry_run: bool = typer.Option(False, "--dry-run", help="Compose and list; send nothing."),
    to: str | None = typer.Option(
        None, "--to", metavar="ADDRESS", help="Only this subscriber's digest."
    ),
    day: str | None = typer.Option(
        None,
        "--date",
        metavar="DAY",
        help="The digest of this day (YYYY-MM-DD), e.g. to catch up a missed one.",
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Send this period's digest to every subscriber who has not had it (safe to rerun)."""
    now = None
    if day:
        try:  # periods.py's supported years: the digest window must not leave the calendar
            picked = parse_day(day, application(ctx).clock.now().date())
        except PeriodError as exc:
            fail(str(exc))
        now = datetime(picked.year, picked.month, picked.day, 12)
    result = send_digests(ctx, period, dry_run, to, now)
    if as_json:
        emit_json(result)
    else:
        out.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items() if k != "to"))
    if result.get("server_error"):
        err.print(f"mail server trouble, the rest stays queued: {result['server_error']}")
        raise typer.Exit(EXIT_UNREACHABLE)


@digest_app.command("preview")
def digest_preview(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", "-u", metavar="USER", help="Whose digest."),
    out_file: Path = typer.Option(..., "--out", metavar="FILE", help="HTML file to write."),
    period: str = PERIOD,
) -> None:
    """Write the digest a user would get now as HTML (nothing is queued or marked seen)."""
    checked_period(period)
    eng = engine(ctx)
    found = user_named(eng, user)
    pt = application(ctx)
    message = compose.preview(eng, pt.recommender, found, period, pt.mail, pt.clock.now())
    with writing_to(out_file):
        out_file.write_text(compose.part_of(message, "html"), encoding="utf-8")
    out.print(f"wrote {out_file}: {message['Subject']}", highlight=False)


@digest_app.command("subscribe")
def digest_subscribe(
    ctx: typer.Context,
    email: str = typer.Argument(..., metavar="EMAIL", help="The reader's address."),
    period: str = PERIOD,
    user: str | None = typer.Option(
        None, "--user", "-u", metavar="USER", help="Personal picks of this user."
    ),
    confirmed: bool = typer.Option(
        False, "--confirmed", help="The reader already agreed: skip the confirmation email."
    ),
) -> None:
    """Subscribe an address (double opt-in: a confirmation link is mailed unless --confirmed)."""
    eng = engine(ctx, create=True)
    user_id = user_named(eng, user)["id"] if user else None
    try:
        if confirmed:  # the operator vouches for the address's owner
            address = subscribe.checked_email(email)
            with eng.begin() as conn:
                change = digests.subscribe(conn, address, period, user_id)
                if change is not None:
                    digests.confirm(conn, change)
        else:
            subscribe.request(eng, application(ctx).mail, email, period, user_id)
    except ValueError as exc:
        fail(str(exc))
    except (smtplib.SMTPException, OSError) as exc:
        fail(f"could not send the confirmation email: {exc}", EXIT_UNREACHABLE)
    state = "subscribed" if confirmed else "confirmation sent to"
    out.print(f"{state} {email} ({period})", highlight=False)


@digest_app.command("unsubscribe")
def digest_unsubscribe(
    ctx: typer.Context,
    email: str = typer.Argument(..., metavar="EMAIL", help="The subscribed address."),
) -> None:
    """Stop sending digests to an address."""
    eng = engine(ctx)
    with eng.begin() as conn:
        subscriber = digests.by_email(conn, email)
        if subscriber is None:
            fail(f"no subscriber {email!r}")
            return
        digests.unsubscribe(conn, subscriber["id"])
    out.print(f"unsubscribed {email}", highlight=False)


@digest_app.command("status")
def digest_status(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Outbox messages by status (pending, sent, failed, dropped)."""
    with engine(ctx).connect() as conn:
        counts = digests.counts(conn)
    if as_json:
        emit_json(counts)
    else:
        out.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "outbox empty")


def scheduler(
    ctx: typer.Context,
    category: list[str] = typer.Option(
        ["cs.LG"], "--category", "-c", metavar="CATEGORY", help="arXiv category (repeatable)."
    ),
    sync_minutes: int = typer.Option(
        180, min=5, metavar="N", help="Fetch and index every N minutes."
    ),
    digest_time: str = typer.Option(
        "07:00", metavar="HH:MM", help="Local time of the digests (HH:MM)."
    ),
    weekly_day: str = typer.Option(
        "mon", metavar="DAY", help="Day of the weekly digest (mon..sun)."
    ),
    once: bool = typer.Option(False, "--once", help="Run every job once now, then exit."),
    as_json: bool = AS_JSON,
) -> None:
    """Fetch, index and send digests on a schedule (runs until stopped)."""
    import logging

    from papertide import scheduler as schedule

    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", digest_time):
        fail("--digest-time is HH:MM")
    if weekly_day not in WEEKDAYS:
        fail(f"--weekly-day is one of {', '.join(WEEKDAYS)}, not {weekly_day!r}")
    for name in category:
        checked_category(name)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    plan = schedule.Plan(category, sync_minutes, digest_time, weekly_day)
    engine(ctx, create=True)  # a clear error for a database that cannot be opened
    if once:
        result = schedule.run_once(application(ctx), plan)
        if as_json:
            emit_json(result)
        return
    jobs = schedule.build(application(ctx), plan)
    err.print(f"scheduler running: fetch every {sync_minutes} min, digests at {digest_time}")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it is stopped
        jobs.start()


def register(app: Any) -> None:
    app.add_typer(digest_app, name="digest")
    app.command()(scheduler)

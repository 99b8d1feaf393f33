"""Several schedulers on one database (one per app host): each job runs once per time slot.
(Two real scheduler processes at once: tests/test_digest.py, beside its mail fixtures.)"""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from papertide.scheduler import Plan, slots
from papertide.store import schedule

NOON = datetime(2026, 3, 18, 12, 0)


def test_timers_offset_within_a_slot_share_it_and_the_next_slot_is_new():
    plan = Plan(sync_minutes=180)
    first, later = slots(plan, NOON), slots(plan, NOON + timedelta(minutes=59))
    assert first == later  # 12:00 and 12:59 fall in the 12:00-15:00 slot
    after = slots(plan, NOON + timedelta(hours=3))
    assert after["fetch_and_index"] != first["fetch_and_index"]
    assert after["daily_digest"] == first["daily_digest"]  # same day
    assert slots(plan, NOON + timedelta(days=7))["weekly_digest"] != first["weekly_digest"]


def test_only_the_first_of_concurrent_claims_wins(engine):
    def claim(holder: str) -> bool:
        with engine.begin() as conn:
            return schedule.claim(conn, "daily_digest", "2026-03-18", holder, NOON)

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(claim, [f"host{n}" for n in range(8)]))
    assert won.count(True) == 1
    with engine.begin() as conn:
        assert schedule.claim(conn, "daily_digest", "2026-03-19", "host0", NOON)  # a new slot
        assert schedule.claim(conn, "topics", "2026-03-18", "host0", NOON)  # another job


def test_a_job_meeting_a_database_outage_logs_one_line_and_the_next_tick_retries(caplog):
    import socket

    import pytest
    from sqlalchemy import create_engine, text

    from papertide.scheduler import surviving_database_outages

    with socket.socket() as probe:  # a loopback port nobody listens on: the server is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{port}/papertide")
    calls = []

    def job():
        calls.append(1)
        with down.connect() as conn:
            conn.execute(text("SELECT 1"))

    guarded = surviving_database_outages("fetch_and_index", job)
    with caplog.at_level("WARNING", logger="papertide.scheduler"):
        assert guarded() is None
        assert guarded() is None  # the next tick runs it again
    assert len(calls) == 2
    lines = [r for r in caplog.records if r.name == "papertide.scheduler"]
    assert [r.getMessage() for r in lines] == [
        "fetch_and_index skipped: the database is unreachable; the next run retries"
    ] * 2
    assert all(r.exc_info is None for r in lines)  # one line each, no traceback

    def defect():
        raise KeyError("a bug, not an outage")

    with pytest.raises(KeyError):  # other errors still reach APScheduler's own report
        surviving_database_outages("topics", defect)()

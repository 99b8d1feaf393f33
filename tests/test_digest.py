"""Email digests against a real SMTP server (aiosmtpd on 127.0.0.1) started by the tests."""

from __future__ import annotations

import asyncio
import email
import json
import re
import shutil
import subprocess
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from conftest import FIXTURES, Cli, application, free_port, index_dir
from papertide.clock import FixedClock
from papertide.store import accounts, digests, library
from papertide.store.engine import open_engine
from papertide.web.app import create_app
from test_web_accounts import csrf_of, log_in

BASE = "http://testserver"


class Sink:
    """Records every accepted message. `refuse_after` answers 421 to MAIL once that many were
    accepted; `hold_after` keeps the next MAIL waiting until `release()` (the sender is then
    stuck in the middle of a transaction, before any DATA)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse_after: int | None = None
        self.hold_after: int | None = None
        self.holding = threading.Event()
        self.controller: Controller | None = None
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.refuse_after is not None and len(self.messages) >= self.refuse_after:
            return "421 4.3.2 Service not available, closing channel"
        if self.hold_after is not None and len(self.messages) >= self.hold_after:
            self.holding.set()
            while not self._released.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.2 Try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("bounce@"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def per_recipient(self) -> Counter:
        return Counter(m["To"] for m in self.messages)


@pytest.fixture
def sink():
    handler = Sink()
    handler.port = free_port()
    handler.start()
    yield handler
    handler.release()
    handler.stop()


@pytest.fixture(scope="module")
def indexed(backend, databases, tmp_path_factory, embedder):
    """The database (its URL) with the fixture papers, indexed, and a reader with a library."""
    folder = tmp_path_factory.mktemp("digest")
    cli = Cli(databases.new(backend, folder), folder)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml", "zotero.bib"):
        cli.run("import", str(FIXTURES / name))
    cli.run("index")
    cli.run("users", "create", "ada", "--password-stdin", stdin="correct horse battery\n")
    cli.run("library", "add", "2407.05528", "--user", "ada")
    return cli.env["PAPERTIDE_DB"]


@pytest.fixture
def mail_cli(indexed, databases, tmp_path, sink, monkeypatch):
    url = databases.copy(indexed, tmp_path)
    shutil.copytree(index_dir(indexed), index_dir(url))
    cli = Cli(url, tmp_path)
    cli.env.update(
        PAPERTIDE_SMTP_HOST="127.0.0.1",
        PAPERTIDE_SMTP_PORT=str(sink.port),
        PAPERTIDE_BASE_URL=BASE,
        PAPERTIDE_MAIL_FROM="papertide <digest@papertide.test>",
        PAPERTIDE_SMTP_RETRY_SECONDS="0",
    )
    for name, value in cli.env.items():  # the web app in this process mails too
        if name.startswith(("PAPERTIDE_SMTP", "PAPERTIDE_BASE", "PAPERTIDE_MAIL")):
            monkeypatch.setenv(name, value)
    cli.url = cli.env["PAPERTIDE_DB"]
    return cli


def add_subscribers(url: str, count: int) -> list[str]:
    engine = open_engine(url)
    addresses = [f"reader{i}@example.org" for i in range(count)]
    with engine.begin() as conn:
        for address in addresses:
            digests.confirm(conn, digests.subscribe(conn, address, "daily"))
    engine.dispose()
    return addresses


def links(message) -> list[str]:
    html = message.get_body(("html",)).get_content()
    return re.findall(r'href="([^"]+)"', html)


def test_digest_arrives_well_formed_and_one_click_unsubscribe_stops_the_next(mail_cli, sink):
    mail_cli.run("digest", "subscribe", "ada@example.org", "--user", "ada", "--confirmed")
    mail_cli.run("follow", "query", "Radiant Fields", "--user", "ada")
    report = mail_cli.json("digest", "send", "--date", "2026-11-22")
    assert report["composed"] == 1 and report["sent"] == 1
    (message,) = sink.messages
    assert message["To"] == "ada@example.org" and message.is_multipart()
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    assert "For you" in text and "Why: close to “" in text  # a pick with its reason
    followed = text.split("New from what you follow")[1].split("For you")[0]
    assert "Radiant Fields" in followed and "Why: matches your saved search “Radiant" in followed
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe.startswith(f"{BASE}/unsubscribe?token=")
    with TestClient(create_app(mail_cli.url)) as client:
        for link in links(message):
            if link.startswith(BASE):
                assert client.get(link.removeprefix(BASE)).status_code == 200, link
        # the same digest is never sent twice, however often `send` runs
        assert mail_cli.json("digest", "send", "--date", "2026-11-22")["composed"] == 0
        forged = client.post("/unsubscribe?token=" + unsubscribe[-10:] + "x")
        assert forged.status_code == 400
        # RFC 8058: a mail client POSTs the body below to the header's URL, no session
        one_click = client.post(
            unsubscribe.removeprefix(BASE),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200 and "Unsubscribed" in one_click.text
    assert mail_cli.json("digest", "send", "--date", "2026-11-23")["composed"] == 0
    assert len(sink.messages) == 1


def test_picks_are_not_sent_again_the_next_day(mail_cli, sink):
    mail_cli.run("digest", "subscribe", "ada@example.org", "--user", "ada", "--confirmed")
    mail_cli.run("digest", "send", "--date", "2026-11-22")
    mail_cli.run("digest", "send", "--date", "2026-11-23")
    first, second = (m.get_body(("plain",)).get_content() for m in sink.messages)
    picked = re.findall(r"^\* (.+)\n.*\n  Why:", first, re.MULTILINE)
    assert picked and not any(f"* {title}\n" in second.split("Trending")[0] for title in picked)


def test_double_opt_in_through_the_web(mail_cli, sink):
    with TestClient(create_app(mail_cli.url)) as client:
        page = client.get("/about")
        token = page.cookies.get("pt_csrf") or client.cookies.get("pt_csrf")
        answer = client.post(
            "/subscribe", data={"email": "new@example.org", "period": "daily", "csrf_token": token}
        )
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        (confirmation,) = sink.messages
        assert mail_cli.json("digest", "send", "--date", "2026-11-22")["composed"] == 0
        link = re.search(r"(http://testserver/confirm\?token=\S+)", confirmation.get_content())
        page = client.get(link.group(1).removeprefix(BASE))
        assert page.status_code == 200 and "new@example.org" in page.text
        assert client.post(link.group(1).removeprefix(BASE)).status_code == 200
    assert mail_cli.json("digest", "send", "--date", "2026-11-22")["sent"] == 1
    assert sink.per_recipient()["new@example.org"] == 2  # the confirmation, then the digest
    digest = sink.messages[-1].get_body(("plain",)).get_content()
    assert "Trending" in digest and "For you" not in digest  # anonymous: no personal picks


def test_smtp_down_then_refusing_mid_batch_delivers_everything_once(mail_cli, sink):
    addresses = add_subscribers(mail_cli.url, 12)
    sink.stop()  # the server is down
    down = mail_cli.run("digest", "send", "--date", "2026-11-22", "--json", check=False)
    assert down.returncode == 3 and sink.messages == []
    assert mail_cli.json("digest", "status") == {"pending": 12}
    sink.start()
    sink.refuse_after = 5  # up again, but it gives out after five messages
    partial = mail_cli.run("digest", "send", "--date", "2026-11-22", "--json", check=False)
    assert partial.returncode == 3 and len(sink.messages) == 5
    sink.refuse_after = None
    mail_cli.run("digest", "send", "--date", "2026-11-22")
    assert sink.per_recipient() == dict.fromkeys(addresses, 1)
    assert mail_cli.json("digest", "status") == {"sent": 12}


def test_a_refused_recipient_is_retried_later_not_in_the_same_run(mail_cli, sink):
    addresses = add_subscribers(mail_cli.url, 3)
    engine = open_engine(mail_cli.url)
    with engine.begin() as conn:
        digests.confirm(conn, digests.subscribe(conn, "bounce@example.org", "daily"))
    report = mail_cli.json("digest", "send", "--date", "2026-11-22")
    assert report["sent"] == 3 and report["retry_later"] == 1 and report["server_error"] is None
    assert sink.per_recipient() == dict.fromkeys(addresses, 1)
    with engine.connect() as conn:
        assert digests.counts(conn) == {"sent": 3, "pending": 1}
        (row,) = digests.due(conn, datetime(2100, 1, 1), 10)
    assert row["attempts"] == 1 and "refused" in row["last_error"]  # once, not 12 times
    engine.dispose()


def test_kill_9_mid_batch_then_resume_sends_nothing_twice(mail_cli, sink):
    addresses = add_subscribers(mail_cli.url, 30)
    sink.hold_after = 10
    mail_cli.kill_9_when(sink.holding.is_set, "digest", "send", "--date", "2026-11-22")
    sink.release()
    sink.hold_after = None
    assert len(sink.messages) == 10
    mail_cli.run("digest", "send", "--date", "2026-11-22")
    assert len(sink.messages) == 29  # the one in flight is still held by the dead sender
    # its lease (PAPERTIDE_SMTP_LEASE_SECONDS, 120 s) runs out: the clock, not a sleep, says so
    mail_cli.clock = FixedClock(datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=121))
    mail_cli.run("digest", "send", "--date", "2026-11-22")
    assert sink.per_recipient() == dict.fromkeys(addresses, 1)
    engine = open_engine(mail_cli.url)
    with engine.connect() as conn:
        assert digests.counts(conn) == {"sent": 30}
    engine.dispose()


def test_two_senders_at_once_send_each_message_once(mail_cli, sink):
    addresses = add_subscribers(mail_cli.url, 40)
    from papertide.digest.compose import compose

    pt = application(mail_cli.url)  # composed first, so both runs only send
    compose(pt.engine, pt.recommender, "daily", pt.mail, datetime(2026, 11, 22, 12))
    pt.close()
    senders = [
        subprocess.Popen(
            mail_cli.command("digest", "send", "--date", "2026-11-22"),
            env=mail_cli.process_env,
            cwd=mail_cli.cwd,
        )
        for _ in range(2)
    ]
    assert [s.wait(120) for s in senders] == [0, 0]
    assert sink.per_recipient() == dict.fromkeys(addresses, 1)


def test_preview_writes_the_html_without_queueing(mail_cli, tmp_path):
    mail_cli.clock = FixedClock(datetime(2026, 11, 22, 12))  # the fixtures' newest day
    out = tmp_path / "preview.html"
    mail_cli.run("digest", "preview", "--user", "ada", "--out", str(out))
    html = out.read_text()
    assert "<h2" in html and "Why: close to" in html
    assert mail_cli.json("digest", "status") == {}
    engine = open_engine(mail_cli.url)
    with engine.connect() as conn:
        user = accounts.user_by_name(conn, "ada")
        assert library.signals(conn, user["id"]).seen == set()
    engine.dispose()


def test_scheduler_once_survives_offline_sources_and_sends(mail_cli, sink):
    dead = f"http://127.0.0.1:{free_port()}"
    mail_cli.env.update(
        PAPERTIDE_ARXIV_API_URL=dead + "/api/query",
        PAPERTIDE_HF_API_URL=dead + "/api/daily_papers",
        PAPERTIDE_HTTP_BACKOFF="0",
        PAPERTIDE_HTTP_MIN_INTERVAL="0",
    )
    mail_cli.run("digest", "subscribe", "ada@example.org", "--user", "ada", "--confirmed")
    result = mail_cli.json("scheduler", "--once")
    fetched = result["fetch_and_index"]
    assert fetched["arxiv cs.LG"].startswith("failed") and fetched["hf"].startswith("failed")
    assert fetched["index"]["keyword_updated"] == 0  # nothing new, and no crash
    assert result["topics"] >= 2
    assert result["daily_digest"]["sent"] == 1 and result["weekly_digest"]["sent"] == 0
    assert sink.per_recipient() == {"ada@example.org": 1}


def test_two_schedulers_at_once_run_each_job_once_and_mail_each_digest_once(mail_cli, sink):
    addresses = add_subscribers(mail_cli.url, 5)
    dead = f"http://127.0.0.1:{free_port()}"
    mail_cli.env.update(
        PAPERTIDE_ARXIV_API_URL=dead + "/api/query",
        PAPERTIDE_HF_API_URL=dead + "/api/daily_papers",
        PAPERTIDE_HTTP_BACKOFF="0",
        PAPERTIDE_HTTP_MIN_INTERVAL="0",
    )
    schedulers = [
        subprocess.Popen(
            mail_cli.command("scheduler", "--once", "--json"),
            env=mail_cli.process_env,
            cwd=mail_cli.cwd,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    reports = [json.loads(s.communicate(timeout=300)[0]) for s in schedulers]
    assert [s.returncode for s in schedulers] == [0, 0]
    for job in ("topics", "daily_digest", "weekly_digest"):
        skipped = [str(r[job]).startswith("skipped: another scheduler") for r in reports]
        assert sorted(skipped) == [False, True], (job, reports)
    # the site fetches once; each host indexes its own copy
    fetched = [r["fetch_and_index"] for r in reports]
    assert sorted("fetch" in f for f in fetched) == [False, True], fetched
    assert all("index" in f for f in fetched)
    assert sink.per_recipient() == dict.fromkeys(addresses, 1)


def test_scheduler_plans_its_jobs(mail_cli):
    from papertide.scheduler import Plan, build

    jobs = build(application(mail_cli.url), Plan(digest_time="06:30"))
    planned = {job.id: job.trigger for job in jobs.get_jobs()}
    assert set(planned) == {"fetch_and_index", "topics", "daily_digest", "weekly_digest"}
    assert "hour='6'" in str(planned["daily_digest"]) and "minute='30'" in str(
        planned["daily_digest"]
    )
    assert "day_of_week='mon'" in str(planned["weekly_digest"])


# -- subscriptions change only with the address owner's consent ------------------------------


def confirmation_links(sink: Sink, address: str) -> list[str]:
    """The /confirm links mailed to ADDRESS so far, oldest first, as paths of the app."""
    found = []
    for message in sink.messages:
        if message["To"] == address and "Confirm" in message["Subject"]:
            link = re.search(r"http://testserver(/confirm\?token=\S+)", message.get_content())
            found.append(link.group(1))
    return found


def web_subscribe(client: TestClient, address: str, period: str) -> None:
    token = csrf_of(client)
    answer = client.post(
        "/subscribe", data={"email": address, "period": period, "csrf_token": token}
    )
    assert answer.status_code == 200, answer.text


def weekly_composed(cli: Cli) -> int:
    return cli.json("digest", "send", "--period", "weekly", "--date", "2026-11-23")["composed"]


def test_subscribe_to_another_members_address_needs_fresh_confirmation(mail_cli, sink):
    mail_cli.run("users", "create", "bob", "--password-stdin", stdin="password123\n")
    mail_cli.run("digest", "subscribe", "a@example.org", "--user", "ada", "--confirmed")
    mail_cli.run("digest", "unsubscribe", "a@example.org")
    with TestClient(create_app(mail_cli.url), base_url=BASE) as bob:
        assert log_in(bob, "bob", "password123") == 303
        web_subscribe(bob, "A@example.org", "weekly")
        # nothing changed: no digest for the address, and bob's page does not show it
        assert weekly_composed(mail_cli) == 0
        assert "a@example.org" not in bob.get("/for-you").text.lower()
        # the address's owner was asked, in a mail to that address
        (link,) = confirmation_links(sink, "a@example.org")
        page = bob.get(link)
        assert page.status_code == 200 and "bob" in page.text  # says whose picks they would get
        assert weekly_composed(mail_cli) == 0  # opening the link is not agreeing
        assert bob.post(link).status_code == 200  # the owner agrees
        assert "a@example.org" in bob.get("/for-you").text
        assert bob.post(link).status_code == 400  # a confirmation link works once
    assert weekly_composed(mail_cli) == 1


def test_anonymous_subscribe_does_not_reactivate_an_unsubscribed_address(mail_cli, sink):
    mail_cli.run("digest", "subscribe", "a@example.org", "--period", "weekly", "--confirmed")
    mail_cli.run("digest", "unsubscribe", "a@example.org")
    with TestClient(create_app(mail_cli.url), base_url=BASE) as stranger:
        web_subscribe(stranger, "a@example.org", "weekly")
    assert weekly_composed(mail_cli) == 0
    assert len(confirmation_links(sink, "a@example.org")) == 1


def test_subscribe_request_for_an_active_address_leaves_it_as_it_is(mail_cli, sink):
    mail_cli.run("digest", "subscribe", "a@example.org", "--period", "weekly", "--confirmed")
    with TestClient(create_app(mail_cli.url), base_url=BASE) as stranger:
        web_subscribe(stranger, "a@example.org", "daily")  # would stop the weekly one
        web_subscribe(stranger, "a@example.org", "weekly")  # already so: no mail at all
    assert len(confirmation_links(sink, "a@example.org")) == 1
    assert weekly_composed(mail_cli) == 1  # still weekly


def test_get_confirm_link_changes_nothing_until_posted(mail_cli, sink):
    with TestClient(create_app(mail_cli.url), base_url=BASE) as client:
        web_subscribe(client, "new@example.org", "weekly")
        (link,) = confirmation_links(sink, "new@example.org")
        for _ in range(3):  # a mail scanner opening the link, and opening it again
            assert client.get(link).status_code == 200
        assert weekly_composed(mail_cli) == 0
        assert client.post(link).status_code == 200
    assert weekly_composed(mail_cli) == 1


def test_unsubscribe_link_stops_working_after_resubscribing(mail_cli, sink):
    mail_cli.run("digest", "subscribe", "a@example.org", "--period", "weekly", "--confirmed")
    assert weekly_composed(mail_cli) == 1
    (digest,) = [m for m in sink.messages if m["To"] == "a@example.org"]
    old_link = digest["List-Unsubscribe"].strip().strip("<>").removeprefix(BASE)
    with TestClient(create_app(mail_cli.url), base_url=BASE) as client:
        assert client.post(old_link).status_code == 200
        mail_cli.run("digest", "subscribe", "a@example.org", "--period", "weekly", "--confirmed")
        assert client.get(old_link).status_code == 400
        assert client.post(old_link).status_code == 400
    assert (
        mail_cli.json("digest", "send", "--period", "weekly", "--date", "2026-11-30")["composed"]
        == 1
    )  # still subscribed: the old link did nothing


def test_addresses_differing_only_in_case_are_one_subscription(mail_cli, sink):
    mail_cli.run("digest", "subscribe", "Reader@Example.ORG", "--period", "weekly", "--confirmed")
    mail_cli.run("digest", "subscribe", "reader@example.org", "--period", "weekly", "--confirmed")
    assert weekly_composed(mail_cli) == 1
    assert sink.per_recipient() == {"reader@example.org": 1}


def test_bad_subscription_input_gets_a_clear_400(mail_cli, sink):
    with TestClient(create_app(mail_cli.url), base_url=BASE) as client:
        token = csrf_of(client)
        for email, period in (
            ("x" * 250 + "@example.org", "daily"),
            ("a@example.org\r\nBcc: b@example.org", "daily"),
            ("a@example.org", "hourly"),
        ):
            answer = client.post(
                "/subscribe", data={"email": email, "period": period, "csrf_token": token}
            )
            assert answer.status_code == 400 and "Not subscribed" in answer.text
        assert client.get("/confirm?token=forged").status_code == 400
        assert client.post("/confirm?token=forged").status_code == 400
    too_long = mail_cli.run("digest", "subscribe", "x" * 250 + "@example.org", check=False)
    assert too_long.returncode == 2 and "at most 254 characters" in too_long.stderr
    assert sink.messages == []


def test_digest_composed_before_a_confirmed_change_is_not_sent_with_a_dead_unsubscribe_link(
    mail_cli, sink
):
    mail_cli.run("digest", "subscribe", "a@example.org", "--confirmed")
    sink.stop()  # the daily digest is composed, but cannot go out yet
    assert mail_cli.run("digest", "send", "--date", "2026-11-22", check=False).returncode == 3
    mail_cli.run("digest", "subscribe", "a@example.org", "--period", "weekly", "--confirmed")
    sink.start()
    mail_cli.run("digest", "send", "--date", "2026-11-22")
    assert sink.messages == []  # its unsubscribe link belonged to the replaced subscription
    assert mail_cli.json("digest", "status") == {"dropped": 1}


def test_digest_items_carry_their_one_line_summary_and_keywords(mail_cli, sink):
    mail_cli.run("digest", "subscribe", "ada@example.org", "--user", "ada", "--confirmed")
    mail_cli.run("digest", "send", "--date", "2026-11-22")
    (message,) = sink.messages
    text = message.get_body(("plain",)).get_content()
    assert re.search(r"^\* .+\n.*\n(  Why: .*\n)?  Key sentence: \S.+\n  Keywords: \S", text, re.M)
    html = message.get_body(("html",)).get_content()
    assert '<span class="summary">' in html and '<span class="keywords"' in html

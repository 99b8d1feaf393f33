"""The polite client against a real local server: pacing, retries, typed errors."""

import socket

import pytest

from localserver import Reply, Script, serve
from papertide.ingest.http import PoliteClient, SourceFailing, SourceRefused, SourceUnreachable


class Clock:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_retries_server_errors_then_succeeds():
    script = Script({"/api": [Reply(503), Reply(500), Reply(200, b"ok")]})
    clock = Clock()
    with serve(script) as base, PoliteClient(0, backoff=1.0, sleep=clock) as client:
        assert client.get(f"{base}/api") == b"ok"
    assert len(script.requests) == 3
    assert clock.sleeps == [1.0, 2.0]  # exponential backoff


def test_honours_retry_after_on_429():
    script = Script({"/api": [Reply(429, headers={"Retry-After": "7"}), Reply(200, b"ok")]})
    clock = Clock()
    with serve(script) as base, PoliteClient(0, sleep=clock) as client:
        assert client.get(f"{base}/api") == b"ok"
    assert clock.sleeps == [7.0]


def test_gives_up_after_retries():
    clock = Clock()
    with (
        serve(Script({"/api": [Reply(503)]})) as base,
        PoliteClient(0, retries=2, sleep=clock) as client,
        pytest.raises(SourceFailing, match="3 tries"),
    ):
        client.get(f"{base}/api")


def test_client_errors_are_not_retried():
    script = Script({"/api": [Reply(400, b"bad query")]})
    with (
        serve(script) as base,
        PoliteClient(0, sleep=Clock()) as client,
        pytest.raises(SourceRefused, match="400"),
    ):
        client.get(f"{base}/api")
    assert len(script.requests) == 1


def test_waits_between_requests():
    clock = Clock()
    with (
        serve(Script({"/api": [Reply(200, b"ok")]})) as base,
        PoliteClient(3.0, sleep=clock) as client,
    ):
        client.get(f"{base}/api")
        client.get(f"{base}/api")
    assert len(clock.sleeps) == 1 and 2.5 < clock.sleeps[0] <= 3.0


def test_closed_port_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with PoliteClient(0, sleep=Clock()) as client, pytest.raises(SourceUnreachable):
        client.get(f"http://127.0.0.1:{port}/")


def test_timeouts_are_retried():
    import threading
    import time

    slow_once = threading.Event()

    def chooser(path, query):
        if not slow_once.is_set():
            slow_once.set()
            time.sleep(1.0)
        return Reply(200, b"late but fine")

    script = Script(chooser=chooser)
    with serve(script) as base, PoliteClient(0, timeout=0.3, sleep=Clock()) as client:
        assert client.get(f"{base}/x") == b"late but fine"

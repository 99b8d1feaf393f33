"""The autouse guard in conftest.py: connections leave neither loopback nor Unix sockets."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from conftest import NetworkBlocked

OUTSIDE = ("203.0.113.1", 80)  # TEST-NET-3: routable nowhere, so only the guard answers fast


def test_connections_outside_loopback_are_refused():
    with socket.socket() as sock:
        sock.settimeout(2)  # were the guard gone, fail in 2 s rather than hang
        with pytest.raises(NetworkBlocked, match=r"'203\.0\.113\.1', 80"):
            sock.connect(OUTSIDE)
        with pytest.raises(NetworkBlocked, match=r"203\.0\.113\.1"):
            sock.connect_ex(OUTSIDE)
    with pytest.raises(NetworkBlocked, match=r"203\.0\.113\.1"):
        socket.create_connection(OUTSIDE, timeout=2)
    with pytest.raises(NetworkBlocked, match=r"example\.com"):  # refused before any name lookup
        socket.create_connection(("example.com", 80), timeout=2)
    with socket.socket(socket.AF_INET6) as sock, pytest.raises(NetworkBlocked, match="2001:db8"):
        sock.connect(("2001:db8::1", 80, 0, 0))


def test_library_code_in_this_process_is_covered():
    with pytest.raises(NetworkBlocked, match=r"203\.0\.113\.1"):
        httpx.get(f"http://{OUTSIDE[0]}/", timeout=2)


@pytest.mark.parametrize(
    ("family", "host"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]
)
def test_loopback_connections_work(family, host):
    with socket.socket(family) as server:
        try:
            server.bind((host, 0))
        except OSError:
            pytest.skip(f"no {host} here")
        server.listen(1)
        port = server.getsockname()[1]
        received = []

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                received.append(conn.recv(5))
                conn.sendall(b"pong")

        thread = threading.Thread(target=answer)
        thread.start()
        with socket.create_connection((host, port), timeout=5) as client:
            client.sendall(b"ping!")
            assert client.recv(4) == b"pong"
        thread.join(5)
    assert received == [b"ping!"]


def test_unix_sockets_work(tmp_path):
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen(1)
        client.connect(path)
        conn, _ = server.accept()
        with conn:
            client.sendall(b"x")
            assert conn.recv(1) == b"x"

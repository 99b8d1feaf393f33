"""Delivery over STARTTLS and implicit TLS with a login, against aiosmtpd on 127.0.0.1 using a
certificate made by the test (trusted through PAPERTIDE_SMTP_CA_FILE)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from papertide.clock import FixedClock
from papertide.digest.compose import compose
from papertide.digest.deliver import deliver
from papertide.digest.settings import MailSettings
from papertide.rank.recommend import Recommender
from papertide.search.generations import Indexes
from papertide.store import digests
from papertide.store.engine import open_engine


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def check_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=(auth_data.login, auth_data.password) == (b"digest", b"s3cret"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def queued(db_url, tmp_path):
    """One confirmed subscriber with a composed digest waiting in the outbox."""
    engine = open_engine(db_url)
    with engine.begin() as conn:
        digests.confirm(conn, digests.subscribe(conn, "tls@example.org", "daily"))
    recommender = Recommender(engine, lambda: Indexes.at(tmp_path / "idx"))
    compose(engine, recommender, "daily", MailSettings(), dt.datetime(2026, 11, 22, 12))
    return engine


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login_delivers_and_a_wrong_password_keeps_the_message(queued, tmp_path, security):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    options = {"authenticator": check_login, "auth_require_tls": True}
    if security == "starttls":
        options.update(tls_context=context, require_starttls=True)
    else:  # aiosmtpd does not count implicit TLS as TLS for auth_require_tls
        options.update(ssl_context=context, auth_require_tls=False)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        mail = MailSettings(
            host="127.0.0.1",
            port=port,
            security=security,
            user="digest",
            ca_file=str(cert),
            timeout=5,  # after a refused login aiosmtpd leaves smtplib's next try unanswered
        )
        clock = FixedClock(dt.datetime.now())
        wrong = MailSettings(**{**mail.__dict__, "password": "wrong"})
        refused = deliver(queued, wrong, clock)
        assert refused.sent == 0 and refused.server_error and inbox.messages == []
        clock.advance(hours=1)  # past the failed message's backoff
        untrusted = deliver(
            queued, MailSettings(**{**mail.__dict__, "password": "s3cret", "ca_file": None}), clock
        )
        assert untrusted.sent == 0 and "CERTIFICATE_VERIFY_FAILED" in untrusted.server_error
        clock.advance(hours=1)
        report = deliver(queued, MailSettings(**{**mail.__dict__, "password": "s3cret"}), clock)
        assert report.sent == 1 and [m["To"] for m in inbox.messages] == ["tls@example.org"]
    finally:
        controller.stop()

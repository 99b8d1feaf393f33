"""Double opt-in: a new address gets a signed confirmation link before any digest."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from sqlalchemy.engine import Engine

from papertide.digest import tokens
from papertide.digest.compose import TEMPLATES
from papertide.digest.deliver import connect
from papertide.digest.settings import MailSettings
from papertide.store import digests


def looks_like_email(value: str) -> bool:
    address = parseaddr(value)[1]
    local, _, domain = address.rpartition("@")
    return bool(local) and "." in domain and address == value.strip() and " " not in address


def request(
    engine: Engine, mail: MailSettings, email: str, period: str, user_id: int | None = None
) -> dict[str, Any]:
    """Record the subscription and, unless the address is already confirmed, mail the link.
    Raises ValueError for a bad address or period, OSError/SMTPException when mail fails."""
    if not looks_like_email(email):
        raise ValueError(f"not an email address: {email!r}")
    with engine.begin() as conn:
        subscriber = digests.subscribe(conn, email, period, user_id)
        secret = digests.signing_secret(conn)
    if subscriber["confirmed_at"] is None:
        link = f"{mail.base_url}/confirm?token={tokens.make(secret, 'confirm', subscriber['id'])}"
        message = EmailMessage()
        message["Subject"] = "Confirm your papertide digest"
        message["From"] = mail.sender
        message["To"] = subscriber["email"]
        message.set_content(
            TEMPLATES.get_template("confirm.txt").render(period=period, confirm=link)
        )
        client = connect(mail)
        try:
            client.send_message(message)
        finally:
            client.quit()
    return subscriber

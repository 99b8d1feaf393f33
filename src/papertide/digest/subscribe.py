"""Double opt-in: nothing about a subscription changes (who it is for, its period, whether it
runs) until its address's owner follows a signed confirmation link mailed to that address."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy.engine import Engine

from papertide.digest import tokens
from papertide.digest.compose import TEMPLATES
from papertide.digest.deliver import connect
from papertide.digest.settings import MailSettings
from papertide.limits import MAX_EMAIL
from papertide.store import digests


def checked_email(value: str) -> str:
    """VALUE as the address it stores (lower case), or ValueError saying what is wrong."""
    value = value.strip()
    if len(value) > MAX_EMAIL:
        raise ValueError(f"an email address has at most {MAX_EMAIL} characters")
    address = parseaddr(value)[1]
    local, _, domain = address.rpartition("@")
    plain = value.isprintable() and not any(c.isspace() for c in value)
    if not (local and "." in domain and address == value and plain):
        raise ValueError(f"not an email address: {value!r}")
    return digests.normalise_email(value)


def request(
    engine: Engine, mail: MailSettings, email: str, period: str, user_id: int | None = None
) -> digests.Change | None:
    """Ask for EMAIL to get PERIOD's digest (with USER_ID's picks) and mail the address the
    link that confirms it. None, and no mail, when the address already gets exactly that.
    Raises ValueError for a bad address or period, OSError/SMTPException when mail fails."""
    address = checked_email(email)
    with engine.begin() as conn:
        change = digests.subscribe(conn, address, period, user_id)
        secret = digests.signing_secret(conn)
    if change is None:
        return None
    link = f"{mail.base_url}/confirm?token={tokens.confirm_token(secret, change)}"
    message = EmailMessage()
    message["Subject"] = "Confirm your papertide digest"
    message["From"] = mail.sender
    message["To"] = address
    message.set_content(TEMPLATES.get_template("confirm.txt").render(period=period, confirm=link))
    client = connect(mail)
    try:
        client.send_message(message)
    finally:
        client.quit()
    return change

"""A copy of a message by email, when the server has SMTP set up: stdlib smtplib in a thread, within a timeout,
after the message is stored (a failure is logged; the message stays in the inbox).

TENANTEDGE_CONTACT_FORM_SMTP_URL: `smtp://[user:password@]host[:port][?from=address&starttls=1]`, or `smtps://`
for TLS from the start.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("tenantedge.plugins.contact-form")

TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Copy:
    to: str
    sender: str
    subject: str
    reply_to: str
    text: str


def compose(*, to: str, domain: str, prefix: str, name: str, email: str, message: str, smtp_url: str) -> Copy:
    query = parse_qs(urlsplit(smtp_url).query)
    sender = query.get("from", [f"contact-form@{domain}"])[0]
    subject = f"{prefix} {name}".strip()
    text = f"{name} <{email}> wrote through the contact form of {domain}:\n\n{message}\n"
    return Copy(to=to, sender=sender, subject=subject, reply_to=email, text=text)


def send(smtp_url: str, copy: Copy, timeout: float = TIMEOUT) -> bool:
    """Send one copy (blocking: call it in a thread); False, logged, when it could not be sent."""
    parts = urlsplit(smtp_url)
    letter = EmailMessage()
    try:
        letter["From"] = copy.sender
        letter["To"] = copy.to
        letter["Reply-To"] = copy.reply_to
        letter["Subject"] = copy.subject
        letter.set_content(copy.text)
        host, port = parts.hostname or "localhost", parts.port
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port or 465, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port or 25, timeout=timeout)
        with client:
            if parse_qs(parts.query).get("starttls") == ["1"]:
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(letter)
    except (OSError, smtplib.SMTPException, ValueError) as e:
        log.error("contact-form: the copy to %s could not be sent through %s: %s", copy.to, parts.hostname, e)
        return False
    return True

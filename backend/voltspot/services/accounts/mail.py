"""Sending email: the one narrow interface accounts use (sign-in links, receipts), with a
real implementation (SMTP, ``VOLTSPOT_SMTP_*``) and one for the demo that writes each
message to the log instead (so a demo driver can still follow a sign-in link)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from voltspot.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    """One message to one person: plain text, optionally with an HTML alternative."""

    to: str
    subject: str
    text: str
    html: str | None = None


class MailUnavailable(Exception):
    """The mail server could not take the message (try again later)."""


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Hand ``mail`` over for delivery; raises :class:`MailUnavailable` when it could
        not be."""


class SmtpMailer:
    """Delivers through an SMTP server (STARTTLS and login when configured)."""

    def __init__(self, host: str, port: int, sender: str, *, user: str = "",
                 password: str = "", starttls: bool = False, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls = user, password, starttls
        self.timeout = timeout

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        if mail.html:
            message.add_alternative(mail.html, subtype="html")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailUnavailable(f"{self.host}:{self.port}: {error}") from error


class LogMailer:
    """The demo's mail: each message goes to the log, in full (no SMTP server set)."""

    def send(self, mail: Mail) -> None:
        log.warning("No SMTP server is set (VOLTSPOT_SMTP_HOST), so this email was not "
                    "sent; it reads:\nTo: %s\nSubject: %s\n\n%s", mail.to, mail.subject,
                    mail.text)


def mailer_for(settings: Settings) -> Mailer:
    """The mailer the settings ask for: SMTP with a host, else the log."""
    if settings.smtp_host:
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                          user=settings.smtp_user, password=settings.smtp_password,
                          starttls=settings.smtp_starttls)
    return LogMailer()

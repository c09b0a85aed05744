"""A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread of the test process) that keeps
every message it receives, so a test reads the email a live server sent."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.server import free_port


@dataclass
class Inbox:
    """The messages received, oldest first."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    # The next this many messages are refused with "451 try again later", as a busy
    # server does.
    refuse: int = 0
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 Requested action aborted: try again later"
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, count: int = 1, seconds: float = 15) -> list[EmailMessage]:
        """The first ``count`` messages to ``to``; fails when they do not arrive in time."""
        deadline = time.monotonic() + seconds
        with self._arrived:
            while True:
                found = [m for m in self.messages if m["To"] == to]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{count} message(s) to {to} did not arrive; "
                                         f"received: {[m['To'] for m in self.messages]}")
                self._arrived.wait(left)

    def to(self, address: str) -> list[EmailMessage]:
        """Every message received for ``address`` so far."""
        with self._arrived:
            return [m for m in self.messages if m["To"] == address]


def body(message: EmailMessage) -> str:
    """The plain-text body of ``message``."""
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: EmailMessage) -> str:
    """The first http(s) address in the message's text."""
    match = re.search(r"https?://\S+", body(message))
    assert match, body(message)
    return match[0]


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    """Run an SMTP server on a free port of 127.0.0.1 for the block."""
    inbox = Inbox("127.0.0.1", free_port())
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()

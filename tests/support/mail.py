"""A real SMTP server in the test process (aiosmtpd, in a thread of its own) and the comment
server's settings that send to it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.live import free_port

SENDER = "Test Blog <comments@blog.example.com>"


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message) per mail."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"{len(self.received)} of {count} emails arrived"


class SmtpServer:
    def __init__(self, **auth) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.auth = auth
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.auth)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def mail_config(smtp: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {"MAIL_HOST": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_TLS": "off", "MAIL_FROM": SENDER,
            "MAIL_SEND_IN_BACKGROUND": False, **extra}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) in this process, for one test."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()

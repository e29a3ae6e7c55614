"""Sending the outbox over SMTP: build each message, send what is due, retry with backoff.

A comment request only writes outbox rows; `OutboxSender` (one thread per server process) and
`blogengine comments send-mail` deliver them. A server that is down costs a retry, never a mail.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate, make_msgid
from typing import Any

from comments_server.compose import header_text, safe_address
from comments_server.models import QueuedMail
from comments_server.storage.outbox import OutboxStore

log = logging.getLogger(__name__)
MAX_BACKOFF = 3600
# Headers a queued mail may set; anything else in the row is ignored.
EXTRA_HEADERS = ("Auto-Submitted", "List-Unsubscribe", "List-Unsubscribe-Post")


@dataclass(frozen=True)
class MailSettings:
    """The MAIL_* settings."""

    host: str = ""
    port: int = 587
    tls: str = "starttls"
    username: str = ""
    password: str = ""
    sender: str = ""
    timeout: int = 10
    retry_seconds: int = 60

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(host=config["MAIL_HOST"], port=config["MAIL_PORT"], tls=config["MAIL_TLS"],
                   username=config["MAIL_USERNAME"], password=config["MAIL_PASSWORD"],
                   sender=config["MAIL_FROM"], timeout=config["MAIL_TIMEOUT"],
                   retry_seconds=config["MAIL_RETRY_SECONDS"])


class _MailPolicy(EmailPolicy):
    """The default policy, except that List-Unsubscribe goes out as written: folded, a long URL
    becomes RFC 2047 encoded words, and mail clients then offer no one-click unsubscribe."""

    def fold(self, name: str, value: str) -> str:
        return _verbatim(name, value, self.linesep) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        verbatim = _verbatim(name, value, self.linesep)
        return verbatim.encode("ascii") if verbatim else super().fold_binary(name, value)


def _verbatim(name: str, value: str, linesep: str) -> str | None:
    """`Name: value` on one line, for a List-Unsubscribe header that is plain ASCII and short
    enough (RFC 5322's 998 characters); None for any other header."""
    text = str(value)
    if name.lower() != "list-unsubscribe" or not text.isascii() or len(name) + len(text) > 990:
        return None
    if any(char in text for char in "\r\n"):
        return None
    return f"{name}: {text}{linesep}"


MAIL_POLICY = _MailPolicy()


def build_message(mail: QueuedMail, sender: str, now: datetime) -> EmailMessage:
    """A multipart/alternative message: plain text first, then HTML; every header single-line."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = header_text(sender, 300)
    message["To"] = mail.recipient
    message["Subject"] = header_text(mail.subject)
    message["Date"] = formatdate(now.timestamp(), usegmt=True)
    domain = sender.rsplit("@", 1)[-1].strip(" >") or None
    message["Message-ID"] = make_msgid("comments", domain=domain)
    for name in EXTRA_HEADERS:
        if name in mail.headers:
            message[name] = header_text(mail.headers[name], 900)
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    return message


class SmtpTransport:
    """One SMTP connection for a batch of messages."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        s = self.settings
        context = ssl.create_default_context()
        if s.tls == "ssl":
            self._smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            self._smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.tls == "starttls":
                self._smtp.starttls(context=context)
        if s.username:
            self._smtp.login(s.username, s.password)
        return self

    def send(self, message: EmailMessage, recipient: str) -> None:
        assert self._smtp is not None
        # The envelope names the one recipient: no header can add another.
        self._smtp.send_message(message, from_addr=_envelope_sender(self.settings.sender), to_addrs=[recipient])

    def __exit__(self, *exc: object) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()


def _envelope_sender(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip("> ").strip()
    return safe_address(address) or ""


def _is_permanent(error: Exception) -> bool:
    """5xx answers about this message (an unknown recipient, refused content) will not change on a
    retry. A refused sender or login is the server's configuration: fixed, the mail goes out."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    return False


def backoff(attempts: int, base: int) -> timedelta:
    """The wait before the next try after `attempts` failed ones: base, 2 base, 4 base, ... up to an hour."""
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF))


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def send_pending(outbox: OutboxStore, settings: MailSettings, clock: Callable[[], datetime],
                 *, limit: int = 50) -> SendReport:
    """Send every due message once; failures are rescheduled (or given up if permanent)."""
    report = SendReport()
    if not settings.enabled:
        return report
    due = outbox.claim_due(clock(), limit)
    if not due:
        return report
    try:
        transport = SmtpTransport(settings).__enter__()
    except (smtplib.SMTPException, OSError) as exc:
        for mail in due:
            _retry(outbox, settings, mail, f"cannot reach {settings.host}:{settings.port}: {exc}", clock())
            report.retrying += 1
        log.warning("outbox: %s messages wait: cannot reach the SMTP server (%s)", len(due), exc)
        return report
    try:
        for mail in due:
            recipient = safe_address(mail.recipient)
            if recipient is None:
                outbox.mark_failed(mail.id, f"not an email address: {mail.recipient!r}", clock())
                report.failed += 1
                continue
            try:
                transport.send(build_message(mail, settings.sender, clock()), recipient)
            except (smtplib.SMTPException, OSError) as exc:
                if _is_permanent(exc):
                    outbox.mark_failed(mail.id, str(exc), clock())
                    report.failed += 1
                else:
                    _retry(outbox, settings, mail, str(exc), clock())
                    report.retrying += 1
                continue
            outbox.mark_sent(mail.id, clock())
            report.sent += 1
    finally:
        transport.__exit__(None, None, None)
    return report


def _retry(outbox: OutboxStore, settings: MailSettings, mail: QueuedMail, error: str, now: datetime) -> None:
    outbox.mark_retry(mail.id, error, now + backoff(mail.attempts + 1, settings.retry_seconds))


class OutboxSender:
    """A daemon thread that sends the outbox: woken when mail is queued, and on a timer for retries.

    Made before the app (the notifier wakes it), started by its first request: a server that forks
    workers after loading the app gets one thread per worker, as threads do not survive a fork."""

    def __init__(self, outbox: OutboxStore, settings: MailSettings, clock: Callable[[], datetime],
                 *, poll_seconds: float = 30.0) -> None:
        self.outbox = outbox
        self.settings = settings
        self.clock = clock
        self.poll_seconds = min(poll_seconds, float(settings.retry_seconds))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="comments-outbox", daemon=True)
        self._pid = os.getpid()
        self._thread.start()

    def ensure_started(self) -> None:
        """Start the thread unless this process runs it already (a forked worker starts its own)."""
        if self._pid == os.getpid():
            return
        with self._starting:
            if self._pid != os.getpid():
                self.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                send_pending(self.outbox, self.settings, self.clock)
            except Exception:  # the database may be briefly away; the thread must outlive that
                log.exception("outbox: sending failed; trying again later")
            self._wake.wait(self.poll_seconds)

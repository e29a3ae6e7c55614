"""The background job kinds this server runs and their handlers (`handler(job, services)`; see
jobs.py). Each feature that queues jobs adds its kind here."""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging

from comments_server.fediverse.answer import ANSWER_KIND, post_answer
from comments_server.fediverse.poller import PLAN_KIND, POLL_KIND, plan, poll
from comments_server.jobs import JobFailed, JobHandler
from comments_server.models import Job
from comments_server.netguard import FetchError, UnsafeURL
from comments_server.webmention.receive import SEND_KIND, VERIFY_KIND, VerificationFailed
from comments_server.webmention_client import send_webmention

if TYPE_CHECKING:
    from comments_server.services import Services

log = logging.getLogger(__name__)


def verify_webmention(job: Job, services: Services) -> None:
    """Fetch a received Webmention's source and store what it says (receive.Webmentions.verify)."""
    try:
        outcome = services.webmentions.verify(str(job.payload["source"]), str(job.payload["target"]))
    except VerificationFailed as exc:
        raise JobFailed(str(exc)) from None
    log.info("webmention from %s: %s", job.payload["source"], outcome)
    services.publisher.wake()   # the thread changed: baked pages republish


def send_answer(job: Job, services: Services) -> None:
    """Send the Webmention that tells a replier's page the author answered (queued by
    Webmentions.queue_answer). A server error or no answer is retried; a refusal is not."""
    source, target = str(job.payload["source"]), str(job.payload["target"])
    try:
        result = send_webmention(source, target, policy=services.webmentions.fetch_policy)
    except UnsafeURL as exc:
        raise JobFailed(f"target refused: {exc}") from None
    if result.endpoint is None:
        raise JobFailed(f"{target} advertises no Webmention endpoint")
    if result.status is not None and 400 <= result.status < 500 and result.status != 429:
        raise JobFailed(f"the endpoint {result.endpoint} refused it ({result.status})")
    if not result.ok:
        raise FetchError(f"the endpoint {result.endpoint} answered {result.status}")
    log.info("webmention sent: %s -> %s (%s)", source, target, result.status)


def job_handlers() -> dict[str, JobHandler]:
    """Every kind of job this server runs."""
    return {VERIFY_KIND: verify_webmention, SEND_KIND: send_answer,
            PLAN_KIND: plan, POLL_KIND: poll, ANSWER_KIND: post_answer}   # fediverse replies

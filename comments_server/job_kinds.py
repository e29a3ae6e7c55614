"""The background job kinds this server runs and their handlers (`handler(job, services)`; see
jobs.py). Each feature that queues jobs adds its kind here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from comments_server.fediverse.answer import ANSWER_KIND, post_answer
from comments_server.fediverse.poller import PLAN_KIND, POLL_KIND, plan, poll
from comments_server.jobs import JobFailed, JobHandler
from comments_server.models import Job
from comments_server.webmention.receive import VERIFY_KIND, VerificationFailed

if TYPE_CHECKING:
    from comments_server.services import Services


def verify_webmention(job: Job, services: Services) -> None:
    """Fetch a received Webmention's source and store what it says (receive.Webmentions.verify)."""
    try:
        services.webmentions.verify(str(job.payload["source"]), str(job.payload["target"]))
    except VerificationFailed as exc:
        raise JobFailed(str(exc)) from None
    services.publisher.wake()   # the thread changed: baked pages republish


def job_handlers() -> dict[str, JobHandler]:
    """Every kind of job this server runs."""
    return {VERIFY_KIND: verify_webmention,
            PLAN_KIND: plan, POLL_KIND: poll, ANSWER_KIND: post_answer}   # fediverse replies

"""Answering on the fediverse: an author's dashboard reply beneath a fediverse reply is posted
there too, as a "fediverse-answer" job enqueued with the reply (so a crash loses nothing), when
FEDIVERSE_ACCESS_TOKEN is set; without one the dashboard links to the status instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from comments_server.fediverse.client import FediverseError, handle_of, parse_status_url
from comments_server.fediverse.poller import ORIGIN, announcement_of, web_url
from comments_server.jobs import JobFailed
from comments_server.models import Comment, Job, NewJob, Status

if TYPE_CHECKING:
    from comments_server.services import Services

ANSWER_KIND = "fediverse-answer"
# Mastodon's default limit; a longer answer is cut and links to the whole reply on the post.
MAX_STATUS_CHARACTERS = 500
ELLIPSIS = "…"


def answer_jobs(parent: Comment, reply: Comment) -> list[NewJob]:
    """The job that posts an author's `reply` to `parent` on the fediverse, if `parent` is a
    fediverse reply (storage.add_comment enqueues it with the reply, in one transaction)."""
    if parent.origin != ORIGIN or not parent.origin_id:
        return []
    return [NewJob(ANSWER_KIND, f"comment:{reply.id}", {"comment_id": reply.id, "parent_id": parent.id})]


def status_text(body: str, *, mention: str, full_url: str, limit: int = MAX_STATUS_CHARACTERS) -> str:
    """The answer as a status: the replier's handle (so they are notified), then the reply as
    plain text; cut to `limit` characters with a link to the full reply when longer."""
    text = " ".join(part for part in (mention, body.strip()) if part)
    if len(text) <= limit:
        return text
    tail = f"{ELLIPSIS} {full_url}" if full_url else ELLIPSIS
    return text[: max(limit - len(tail), 0)].rstrip() + tail


def instance_of(url: str | None) -> str:
    """The host a status lives on, for "Answer on <instance>"."""
    return (urlsplit(url).hostname or "") if url else ""


def post_answer(job: Job, services: Services) -> None:
    """Handler of "fediverse-answer": post the author's reply (job payload: the comment it answers,
    and the reply once stored) as a reply to that comment's status."""
    payload: Mapping[str, object] = job.payload
    reply_id, parent_id = payload.get("comment_id"), payload.get("parent_id")
    if not isinstance(reply_id, int) or not isinstance(parent_id, int):
        raise JobFailed(f"a fediverse answer job without its comments: {dict(payload)!r}")
    reply, parent = services.storage.get_comment(reply_id), services.storage.get_comment(parent_id)
    if reply is None or parent is None or reply.status != Status.PUBLISHED or reply.origin_url:
        return   # deleted since, or posted already
    if parent.origin != ORIGIN or not parent.origin_id:
        return
    ref = parse_status_url(announcement_of(services, parent.thread))
    if ref is None:
        raise JobFailed(f"the post {parent.thread} has no fediverse announcement to answer on")
    client = services.fediverse.client(ref.base_url, account=services.threads.manifest.fediverse_account,
                                        clock=services.clock)
    if not client.token:
        raise JobFailed("no FEDIVERSE_ACCESS_TOKEN for the announcement's server")
    full_url = f"{services.links.post_url(reply.thread)}#comment-{reply.id}" if services.links.post_url(reply.thread) else ""
    text = status_text(reply.body, mention=handle_of(parent.author_url) or "", full_url=full_url)
    try:
        posted = client.post_reply(text, parent.origin_id, idempotency_key=f"blogengine-{reply.uid}").data
    except FediverseError as exc:
        if not exc.transient:
            raise JobFailed(str(exc)) from None
        raise
    url = web_url(posted.get("url")) if isinstance(posted, Mapping) else None
    status_id = posted.get("id") if isinstance(posted, Mapping) else None
    if url is not None and isinstance(status_id, str):
        services.storage.remote.link_answer(reply.id, url, status_id)

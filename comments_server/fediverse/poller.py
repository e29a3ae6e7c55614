"""Polling the posts' announcements for replies: one durable "fediverse-poll" job per announced
post, rescheduled by itself (often while the post is new, rarely once it is old, later when the
server asks for rest), and one "fediverse-plan" job that keeps the poll jobs in step with the
thread manifest (announcements named in front matter, or found among the account's statuses).

A reply is stored as a comment of origin "fediverse"; a reply from the site's own account is an
author reply (it answers the comment it replies to), every other reply is a reader comment."""

from __future__ import annotations

import logging
from html.parser import HTMLParser
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from comments_server.fediverse.client import (
    FediverseError,
    MastodonClient,
    RateLimit,
    parse_account_url,
    parse_status_url,
)
from comments_server.jobs import JobFailed
from comments_server.models import Job, Status, Thread

if TYPE_CHECKING:
    from comments_server.services import Services

log = logging.getLogger(__name__)

POLL_KIND = "fediverse-poll"
PLAN_KIND = "fediverse-plan"
ORIGIN = "fediverse"
# How often an announcement is polled, by its age: replies come in the first hours and days.
POLL_STEPS = ((timedelta(days=1), timedelta(minutes=5)), (timedelta(days=7), timedelta(minutes=30)),
              (timedelta(days=30), timedelta(hours=3)))
OLD_POST_INTERVAL = timedelta(hours=24)
PLAN_INTERVAL = timedelta(minutes=15)
# Below this many requests left in the server's window, wait for the window to reset.
RATE_LIMIT_RESERVE = 5
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
# Only statuses meant for everyone become comments; followers-only and direct ones stay private.
PUBLIC_VISIBILITIES = ("public", "unlisted")
MAX_NAME = 200
STATUSES_TO_MATCH = 40


def poll_interval(age: timedelta) -> timedelta:
    """How long to wait before polling an announcement this old again."""
    for younger_than, interval in POLL_STEPS:
        if age < younger_than:
            return interval
    return OLD_POST_INTERVAL


def next_poll_at(now: datetime, announced_at: datetime | None, rate: RateLimit) -> datetime:
    """When to poll next after a good answer: by the announcement's age, but never before the
    rate-limit window resets when the server said few requests are left."""
    due = now + poll_interval(now - announced_at if announced_at is not None else timedelta(0))
    if rate.remaining is not None and rate.remaining <= RATE_LIMIT_RESERVE and rate.reset_at is not None:
        due = max(due, rate.reset_at)
    return due


def backoff_at(now: datetime, failures: int, error: FediverseError) -> datetime:
    """When to try again after the `failures`-th failure in a row: when the server said (429
    Retry-After or X-RateLimit-Reset), else 1, 2, 4, ... minutes, at most six hours."""
    if error.retry_at is not None:
        return error.retry_at if error.retry_at > now else now
    return now + min(FIRST_BACKOFF * (1 << min(max(failures - 1, 0), 20)), MAX_BACKOFF)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time from the API (`2026-12-01T10:00:00.000Z`), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def same_profile(a: str, b: str) -> bool:
    """Two profile URLs of one account (case of the host and a trailing slash aside)."""
    pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
    return bool(pa.netloc) and (pa.scheme, pa.netloc.lower(), pa.path.rstrip("/")) == \
        (pb.scheme, pb.netloc.lower(), pb.path.rstrip("/"))


def web_url(value: Any) -> str | None:
    """An http(s) URL from the remote side, or None: nothing else is linked or loaded."""
    if isinstance(value, str) and urlsplit(value).scheme in ("http", "https") and urlsplit(value).netloc \
            and not any(c.isspace() for c in value) and len(value) <= 2000:
        return value
    return None


@dataclass(frozen=True)
class Reply:
    """One status of the announcement's reply tree, as much of it as a comment keeps."""

    id: str
    url: str
    in_reply_to_id: str | None
    author_name: str
    author_url: str | None
    author_photo: str | None
    content_html: str
    created_at: datetime
    public: bool


def read_reply(status: Mapping[str, Any], now: datetime) -> Reply | None:
    """A status from the API as a Reply; None when it lacks what a comment needs."""
    account = status.get("account")
    status_id, url = status.get("id"), web_url(status.get("url")) or web_url(status.get("uri"))
    if not isinstance(account, Mapping) or not isinstance(status_id, str) or url is None:
        return None
    name = account.get("display_name") or account.get("username") or account.get("acct") or "someone"
    in_reply_to, content = status.get("in_reply_to_id"), status.get("content")
    return Reply(
        id=status_id, url=url, in_reply_to_id=in_reply_to if isinstance(in_reply_to, str) else None,
        author_name=" ".join(str(name).split())[:MAX_NAME], author_url=web_url(account.get("url")),
        author_photo=web_url(account.get("avatar")),
        content_html=content if isinstance(content, str) else "",
        created_at=parse_time(status.get("created_at")) or now,
        public=status.get("visibility", "public") in PUBLIC_VISIBILITIES,
    )


# Keeping one thread in step with its announcement --------------------------------------------------

def sync_replies(services: Services, thread: Thread, announcement_id: str, author_url: str,
                 statuses: Sequence[Mapping[str, Any]]) -> None:
    """Store the announcement's reply tree (`statuses`: the context's descendants, parents first)
    under `thread`, and remove the stored replies that are no longer in it."""
    now = services.clock()
    replies = {r.id: r for s in statuses if isinstance(s, Mapping) and (r := read_reply(s, now)) is not None}
    stored: dict[str, int] = {}   # status id -> comment id, for the replies below it
    seen: set[str] = set()
    for reply in replies.values():
        if not reply.public:
            continue
        is_author = bool(author_url) and reply.author_url is not None and same_profile(reply.author_url, author_url)
        answer = services.storage.remote.find_reply("comment", reply.url) if is_author else None
        if answer is not None:
            # The author's answer from the dashboard, posted here by us: it is that comment already.
            stored[reply.id] = answer.id
            continue
        comment = services.remote_replies.store_remote_reply(
            thread.path, ORIGIN, reply.url, reply.id, reply.author_name, reply.author_url, reply.author_photo,
            reply.content_html, reply.created_at, _parent(reply, replies, stored, announcement_id),
            is_author=is_author)
        stored[reply.id] = comment.id
        seen.add(comment.origin_url or reply.url)
    for gone in _stored_replies(services, thread.path):
        if gone.origin_url is not None and gone.origin_url not in seen:
            services.remote_replies.remove_remote_reply(ORIGIN, gone.origin_url)


def _parent(reply: Reply, replies: Mapping[str, Reply], stored: Mapping[str, int],
            announcement_id: str) -> int | None:
    """The comment a reply nests under: the one stored for the status it answers, else for the
    nearest status above that one which was stored; None at the top of the thread."""
    above = reply.in_reply_to_id
    for _ in range(len(replies) + 1):
        if above is None or above == announcement_id:
            return None
        if above in stored:
            return stored[above]
        parent = replies.get(above)
        above = parent.in_reply_to_id if parent is not None else None
    return None


def _stored_replies(services: Services, path: str) -> list[Any]:
    """The thread's fediverse replies that are still there (not deleted)."""
    comments = services.storage.thread_snapshot(path, None).comments or []
    return [c for c in comments if c.origin == ORIGIN and c.status != Status.DELETED]


# The jobs --------------------------------------------------------------------------------------

def poll_key(thread: str) -> str:
    return thread


def enqueue_poll(services: Services, thread: str, status_url: str, *, due_at: datetime,
                 announced_at: str | None = None, author_url: str = "", failures: int = 0) -> None:
    """Schedule the poll of one announcement (an open poll of the thread is moved, not doubled)."""
    services.storage.jobs.enqueue(POLL_KIND, poll_key(thread), {
        "thread": thread, "status_url": status_url, "announced_at": announced_at, "author_url": author_url,
        "failures": failures}, due_at, services.clock())


def announcement_of(services: Services, thread: str) -> str:
    """The announcement URL the manifest names for a thread, or the one matched from the account
    (kept in its poll job); "" when it has none."""
    found = services.threads.get(thread)
    if found is None:
        return ""
    if found.fediverse:
        return found.fediverse
    job = services.storage.jobs.find(POLL_KIND, poll_key(thread))
    return str(job.payload.get("status_url", "")) if job is not None and job.payload.get("matched") else ""


def poll(job: Job, services: Services) -> None:
    """Handler of "fediverse-poll": read the announcement's context, store its replies, and
    schedule the next poll (or a retry with backoff)."""
    payload = dict(job.payload)
    thread = services.threads.get(str(payload.get("thread", "")))
    status_url = str(payload.get("status_url", ""))
    if thread is None or not (thread.fediverse == status_url or (payload.get("matched") and not thread.fediverse)):
        return  # the post or its announcement went away: this poll ends (the plan starts the new one)
    ref = parse_status_url(status_url)
    if ref is None:
        raise JobFailed(f"{status_url} is not the URL of a status")
    account = services.threads.manifest.fediverse_account
    client = services.fediverse.client(ref.base_url, account=account, clock=services.clock)
    now = services.clock()
    try:
        if not payload.get("author_url") or not payload.get("announced_at"):
            announcement = client.status(ref.id).data
            if isinstance(announcement, Mapping):
                payload["announced_at"] = announcement.get("created_at")
                who = announcement.get("account")
                payload["author_url"] = web_url(who.get("url")) if isinstance(who, Mapping) else ""
        answer = client.context(ref.id)
    except FediverseError as exc:
        if not exc.transient:
            raise JobFailed(str(exc)) from None
        failures = int(payload.get("failures", 0)) + 1
        log.info("fediverse: polling %s failed (%d in a row): %s", status_url, failures, exc)
        services.storage.jobs.enqueue(POLL_KIND, job.key, {**payload, "failures": failures},
                                      backoff_at(now, failures, exc), now)
        return
    descendants = answer.data.get("descendants") if isinstance(answer.data, Mapping) else None
    if not isinstance(descendants, list):
        raise JobFailed(f"{status_url}: the context has no list of descendants")
    author = account or str(payload.get("author_url") or "")
    sync_replies(services, thread, ref.id, author, descendants)
    services.publisher.wake()   # the thread may have changed: baked pages republish
    services.storage.jobs.enqueue(POLL_KIND, job.key, {**payload, "failures": 0},
                                  next_poll_at(now, parse_time(payload.get("announced_at")), answer.rate), now)


def plan(job: Job, services: Services) -> None:
    """Handler of "fediverse-plan": every announced post has a poll job; posts without one named
    get the account's status that links to them, if any. Runs again every PLAN_INTERVAL."""
    now = services.clock()
    manifest = services.threads.manifest
    unannounced: list[Thread] = []
    for thread in manifest.threads.values():
        if thread.fediverse:
            current = services.storage.jobs.find(POLL_KIND, poll_key(thread.path))
            # A finished poll (its post left the manifest a while) starts again; a failed one (the
            # announcement is gone) stays failed until the post names another.
            if current is None or current.payload.get("status_url") != thread.fediverse or current.done_at is not None:
                enqueue_poll(services, thread.path, thread.fediverse, due_at=now)
        else:
            unannounced.append(thread)
    if manifest.fediverse_account and unannounced:
        try:
            _match_announcements(services, manifest.fediverse_account, unannounced, now)
        except FediverseError as exc:
            log.info("fediverse: reading %s's statuses failed: %s", manifest.fediverse_account, exc)
    services.storage.jobs.enqueue(PLAN_KIND, job.key, {}, now + PLAN_INTERVAL, now)


def _match_announcements(services: Services, account: str, threads: Sequence[Thread], now: datetime) -> None:
    """Find, among the account's newest statuses, the one whose content links to each post."""
    parsed = parse_account_url(account)
    if parsed is None:
        return
    base_url, user = parsed
    client = services.fediverse.client(base_url, account=account, clock=services.clock)
    found = client.lookup_account(user).data
    account_id = found.get("id") if isinstance(found, Mapping) else None
    if not isinstance(account_id, str):
        return
    statuses = client.account_statuses(account_id, STATUSES_TO_MATCH).data
    if not isinstance(statuses, list):
        return
    for thread in threads:
        post_url = services.links.post_url(thread.path)
        current = services.storage.jobs.find(POLL_KIND, poll_key(thread.path))
        if current is not None and (current.payload.get("matched") or not _closed(current)):
            continue   # matched already (or still polling the announcement it named until now)
        for status in statuses:
            if isinstance(status, Mapping) and _links_to(status.get("content"), post_url):
                url = web_url(status.get("url"))
                if url is not None and parse_status_url(url) is not None:
                    services.storage.jobs.enqueue(POLL_KIND, poll_key(thread.path), {
                        "thread": thread.path, "status_url": url, "announced_at": status.get("created_at"),
                        "author_url": account, "failures": 0, "matched": True}, now, now)
                break


def _links_to(content: Any, post_url: str) -> bool:
    """Whether a status's HTML has a link to the post (a trailing slash aside)."""
    if not isinstance(content, str) or not post_url:
        return False
    target = post_url.rstrip("/")
    return any(href.rstrip("/") == target for href in _hrefs(content))


class _Reader(HTMLParser):
    """The links of a status's HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.extend(value for name, value in attrs if name == "href" and value)


def _hrefs(html: str) -> list[str]:
    reader = _Reader()
    reader.feed(html)
    return reader.links


def start_polling(services: Services) -> bool:
    """Plan the polls now, when polling is on and the manifest names an announcement or an account
    (create_app and a manifest reload call this; the plan then runs every PLAN_INTERVAL). Whether
    it was planned."""
    manifest = services.threads.manifest
    if not services.fediverse.poll:
        return False
    if not (manifest.fediverse_account or any(t.fediverse for t in manifest.threads.values())):
        return False
    now = services.clock()
    services.storage.jobs.enqueue(PLAN_KIND, "site", {}, now, now)
    services.jobs.wake()
    return True


def _closed(job: Job) -> bool:
    """A job that has finished (done or given up): it runs no more unless enqueued again."""
    return job.done_at is not None or job.failed_at is not None

"""Conversation health from tracked comments: reply rate, time to the first author reply, the
unanswered count over time, and the same per post. Pure functions; the states come from storage.

Definitions (as in docs/dashboard.md): reader comments are published comments not by an author
account; over a period, each reader comment written in it is answered, waiting (unanswered,
snoozed or not) or "no reply needed" (dismissed), so answered + waiting + no reply needed = reader
comments, and reply rate = answered ÷ reader comments: 100% means none of them is waiting. Older
comments still waiting are counted apart (older_unanswered); response time = first author reply beneath a comment − the comment's time; median is
the middle value (the mean of the two middle ones for an even count); the 90th percentile is the
nearest rank.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from comments_server.models import State, Thread, TrackedComment

READER_STATES = (State.ANSWERED, State.UNANSWERED, State.DISMISSED)
PUBLISHED_STATES = (*READER_STATES, State.AUTHOR)


def median_seconds(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def percentile_seconds(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least pct% of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return float(ordered[rank - 1])


def response_seconds(tracked: Iterable[TrackedComment]) -> list[float]:
    """Seconds from each answered comment to its first author reply."""
    return [(t.first_reply_at - t.comment.created_at).total_seconds()
            for t in tracked if t.state == State.ANSWERED and t.first_reply_at is not None]


def unanswered_at(tracked: Iterable[TrackedComment], moment: datetime) -> int:
    """How many reader comments were waiting at `moment` (as far as today's states tell)."""
    return sum(
        1 for t in tracked
        if t.state in READER_STATES and t.comment.created_at <= moment
        and (t.first_reply_at is None or t.first_reply_at > moment)
        and (t.dismissed_at is None or t.dismissed_at > moment)
    )


@dataclass(frozen=True)
class Point:
    day: datetime
    unanswered: int


@dataclass
class PostHealth:
    thread: Thread
    post_url: str
    mine: bool
    comments: int = 0
    readers: set[str] = field(default_factory=set)
    reader_comments: int = 0
    answered: int = 0
    oldest_waiting: timedelta | None = None

    @property
    def reply_rate(self) -> float | None:
        return self.answered / self.reader_comments if self.reader_comments else None


@dataclass(frozen=True)
class Health:
    """Conversation health over a period (`since` None: all time) at `now`."""

    since: datetime | None
    now: datetime
    reader_comments: int         # reader comments written in the period
    answered: int                # ...of which an author answered
    unanswered: int              # ...still waiting now (snoozed ones too)
    dismissed: int               # ...marked "no reply needed"
    median_response: float | None
    p90_response: float | None
    series: list[Point]
    posts: list[PostHealth]
    older_unanswered: int = 0    # waiting now, but written before the period

    @property
    def reply_rate(self) -> float | None:
        return self.answered / self.reader_comments if self.reader_comments else None


def reader_key(t: TrackedComment) -> str:
    """Who a reader is, for counting readers: their email, else their name."""
    return (t.comment.author_email or t.comment.author_name).strip().casefold()


def compute_health(
    tracked: Sequence[TrackedComment], *, now: datetime, since: datetime | None,
    thread_of: Callable[[str], Thread], post_url: Callable[[str], str], is_mine: Callable[[Thread], bool],
    series_days: int = 30,
) -> Health:
    """Everything the health page shows, from every published comment's tracked state."""
    in_period = [t for t in tracked if since is None or t.comment.created_at >= since]
    readers = [t for t in in_period if t.state in READER_STATES]
    times = response_seconds(readers)
    start_day = datetime.combine((now - timedelta(days=series_days - 1)).date(), time.max, tzinfo=now.tzinfo)
    series = [Point(day, unanswered_at(tracked, min(day, now)))
              for day in (start_day + timedelta(days=n) for n in range(series_days))]
    posts: dict[str, PostHealth] = {}

    def post_of(path: str) -> PostHealth:
        if path not in posts:
            thread = thread_of(path)
            posts[path] = PostHealth(thread, post_url(path), is_mine(thread))
        return posts[path]

    for t in in_period:
        if t.state not in PUBLISHED_STATES:
            continue
        post = post_of(t.comment.thread)
        post.comments += 1
        if t.state in READER_STATES:
            post.readers.add(reader_key(t))
            post.reader_comments += 1
            post.answered += t.state == State.ANSWERED
    for t in tracked:  # a post's oldest waiting comment, whenever it came
        if t.state == State.UNANSWERED:
            post = post_of(t.comment.thread)
            waited = now - t.comment.created_at
            post.oldest_waiting = max(post.oldest_waiting or waited, waited)
    ordered = sorted(posts.values(), key=lambda p: (
        not p.mine, -(p.oldest_waiting or timedelta(0)).total_seconds(), -p.comments, p.thread.title))
    return Health(
        since=since, now=now, reader_comments=len(readers),
        answered=sum(1 for t in readers if t.state == State.ANSWERED),
        unanswered=sum(1 for t in readers if t.state == State.UNANSWERED),
        dismissed=sum(1 for t in readers if t.state == State.DISMISSED),
        median_response=median_seconds(times), p90_response=percentile_seconds(times, 90),
        series=series, posts=ordered,
        older_unanswered=sum(1 for t in tracked if t.state == State.UNANSWERED
                             and since is not None and t.comment.created_at < since),
    )

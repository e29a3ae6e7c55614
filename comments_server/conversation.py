"""The author's side of the conversation, without HTTP: the unanswered queue, replying, dismissing,
snoozing, moderating, and the digest. The dashboard, the API and the CLI all call this."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from comments_server.accounts import Accounts, Identity, owners
from comments_server.errors import ApiError
from comments_server.fediverse.answer import answer_jobs
from comments_server.health import Health, compute_health, median_seconds, response_seconds
from comments_server.links import SiteLinks
from comments_server.manifest import ThreadIndex
from comments_server.models import (
    Author,
    Comment,
    Limits,
    Mention,
    NewComment,
    State,
    Status,
    Thread,
    TrackedComment,
    validate_body,
)
from comments_server.compose import LinkError, Notifier, account_stamp
from comments_server.plugins import CommentPlugins
from comments_server.reply_links import LinkRefusal, ReplyByLink, ReplyDraft, ReplyLinkRefused
from comments_server.sanitize import render_comment
from comments_server.storage import ConversationQuery, Storage

# "Usually replies within": the median over this many days, from at least this many answers.
MEDIAN_DAYS = 90
MEDIAN_MIN_ANSWERS = 3
MEDIAN_CACHE_SECONDS = 60.0

# Openings that make a comment a question even without a question mark.
QUESTION_OPENINGS = (
    "how", "why", "what", "when", "where", "which", "who", "whom", "whose", "is there", "are there",
    "could you", "can you", "would you", "will you", "should", "do you", "does", "did you", "have you",
    "has anyone", "is it", "are you", "any idea", "any ideas", "any tips", "wondering", "i wonder",
)
_OPENING = re.compile(r"^(?:" + "|".join(re.escape(o) for o in QUESTION_OPENINGS) + r")\b", re.IGNORECASE)
_SENTENCE_START = re.compile(r"(?:^|[.!\n]\s*)([^.!\n]+)")
_GREETING = re.compile(r"^(?:hi|hey|hello|thanks|thank you|great post|nice post)\b[^,.!\n]*[,.!]?\s*", re.IGNORECASE)


def byline_key(author: str) -> str:
    """An author's name as posts are grouped by it: case and spacing do not matter."""
    return " ".join(author.split()).casefold()


def byline_reply_median(storage: Storage, posts: Sequence[str], now: datetime) -> int | None:
    """Seconds an author usually takes to answer on `posts` (theirs): the median time to the first
    author reply over the last MEDIAN_DAYS; None with fewer than MEDIAN_MIN_ANSWERS answers."""
    answered = storage.conversation(ConversationQuery(
        states=(State.ANSWERED,), threads=posts, since=now - timedelta(days=MEDIAN_DAYS)))
    times = response_seconds(answered)
    median = median_seconds(times)
    return round(median) if median is not None and len(times) >= MEDIAN_MIN_ANSWERS else None


def is_question(text: str) -> bool:
    """A question mark (outside code), or a sentence that opens like a question ("how", "could you")."""
    prose = re.sub(r"```.*?```|`[^`\n]*`", " ", text, flags=re.DOTALL)
    if "?" in prose:
        return True
    for match in _SENTENCE_START.finditer(prose):
        sentence = _GREETING.sub("", match.group(1).strip().lstrip("> ").strip())
        if _OPENING.match(sentence):
            return True
    return False


@dataclass(frozen=True)
class QueueItem:
    """One unanswered comment as the dashboard shows it."""

    tracked: TrackedComment
    waiting: timedelta
    question: bool

    @property
    def comment(self) -> Comment:
        return self.tracked.comment


@dataclass
class PostGroup:
    """The queue's comments on one post."""

    thread: Thread
    post_url: str
    mine: bool
    items: list[QueueItem] = field(default_factory=list)


@dataclass(frozen=True)
class Queue:
    groups: list[PostGroup]
    count: int
    oldest_waiting: timedelta | None
    snoozed: int
    questions: int


@dataclass(frozen=True)
class Replied:
    """An author's reply, and the other reader comments it took out of the queue: those above it
    on its branch that were waiting (the one rule answers them too), oldest first."""

    comment: Comment
    also_answered: list[Comment]


@dataclass(frozen=True)
class Listing:
    """Tracked comments with the post each is on (the moderation and all-comments pages)."""

    rows: list[TrackedComment]
    threads: dict[str, Thread]


class Conversations:
    """The author's desk: the comment store, the manifest's posts and their links, the author
    accounts and the notifier, with the comment limits and the clock of the comment service."""

    def __init__(self, storage: Storage, threads: ThreadIndex, links: SiteLinks, accounts: Accounts,
                 notifier: Notifier, *, limits: Limits, clock: Callable[[], datetime],
                 plugins: CommentPlugins | None = None,
                 answered: Callable[[Comment, Comment], None] | None = None,
                 fediverse_answers: bool = False) -> None:
        self.storage = storage
        # Told of each author reply and the comment it answers (a received Webmention is answered
        # by sending one back: webmention/receive.py Webmentions.queue_answer).
        self._answered = answered
        # With FEDIVERSE_ACCESS_TOKEN: a reply to a fediverse reply is posted there too, by a job
        # written in the reply's own transaction.
        self.fediverse_answers = fediverse_answers
        self.plugins = plugins or CommentPlugins()
        self.threads = threads
        self.links = links
        self.accounts = accounts
        self.notifier = notifier
        self.limits = limits
        self.clock = clock
        self._medians: dict[str, tuple[float, int | None]] = {}

    def thread_of(self, path: str) -> Thread:
        """The manifest's entry, or a stand-in for a post no longer in it (its comments still count)."""
        return self.threads.get(path) or Thread(path=path, title=path)

    def posts(self) -> list[Thread]:
        """Every post of the manifest, by title."""
        return sorted(self.threads.all(), key=lambda t: t.title.casefold())

    def is_mine(self, thread: Thread, author: Author | None, authors: Sequence[Author]) -> bool:
        return author is not None and any(a.id == author.id for a in owners(thread, authors))

    # The queue -------------------------------------------------------------------------------

    def queue(self, author: Author | None, *, questions_first: bool = False) -> Queue:
        """Unanswered reader comments grouped by post: the author's own posts first, then the post
        whose reader has waited longest; in a post, oldest first (questions first if asked)."""
        now = self.clock()
        waiting = self.storage.unanswered(now, include_snoozed=True)
        awake = [t for t in waiting if t.snoozed_until is None or t.snoozed_until <= now]
        authors = self.accounts.all()
        groups: dict[str, PostGroup] = {}
        for tracked in awake:
            path = tracked.comment.thread
            if path not in groups:
                thread = self.thread_of(path)
                groups[path] = PostGroup(thread, self.links.post_link(path),
                                         self.is_mine(thread, author, authors))
            groups[path].items.append(QueueItem(tracked, now - tracked.comment.created_at,
                                                is_question(tracked.comment.body)))
        for group in groups.values():
            if questions_first:
                group.items.sort(key=lambda i: (not i.question, i.comment.created_at, i.comment.id))
        ordered = sorted(groups.values(), key=lambda g: (not g.mine, min(i.comment.created_at for i in g.items)))
        oldest = max((now - t.comment.created_at for t in awake), default=None)
        return Queue(groups=ordered, count=len(awake), oldest_waiting=oldest, snoozed=len(waiting) - len(awake),
                     questions=sum(1 for g in ordered for i in g.items if i.question))

    # Listings ----------------------------------------------------------------------------------

    def held(self) -> Listing:
        """Comments held for moderation, oldest first."""
        return self._listing(self.storage.conversation(ConversationQuery(states=(State.HELD,))))

    def search(self, query: ConversationQuery) -> Listing:
        """The comments a query picks (state, post, words, days, a page of them)."""
        return self._listing(self.storage.conversation(query))

    def mentions(self, query: ConversationQuery, limit: int = 20) -> list[Mention]:
        """Pingbacks, trackbacks and webmentions, newest first, picked by the same post, words and
        days as the comments beside them."""
        return self.storage.mentions.search(threads=query.threads, words=query.search, since=query.since,
                                            until=query.until, limit=limit)

    def _listing(self, rows: list[TrackedComment]) -> Listing:
        return Listing(rows, {t.comment.thread: self.thread_of(t.comment.thread) for t in rows})

    # Health ----------------------------------------------------------------------------------

    def health(self, author: Author | None, days: int | None) -> Health:
        """Conversation health over the last `days` days (None: all time), `author`'s posts first;
        its days are the site's (the manifest's time zone)."""
        now = self.clock().astimezone(self.links.site_zone)
        authors = self.accounts.all()
        tracked = self.storage.conversation(ConversationQuery(
            states=(State.ANSWERED, State.UNANSWERED, State.DISMISSED, State.AUTHOR)))
        return compute_health(
            tracked, now=now, since=now - timedelta(days=days) if days else None, thread_of=self.thread_of,
            post_url=self.links.post_link,
            is_mine=lambda thread: self.is_mine(thread, author, authors), series_days=min(days or 90, 90),
        )

    def outbox_status(self) -> tuple[int, int, str | None] | None:
        """(waiting, failed, the latest error) of the notification emails; None when mail is off."""
        return self.storage.outbox.status() if self.notifier.enabled else None

    # How soon authors reply -----------------------------------------------------------------------

    def reply_median(self, thread: Thread) -> int | None:
        """Seconds the post's author usually takes to answer: the median time to the first author
        reply over the last 90 days on the posts with the same byline; None with fewer than 3 answers.

        Cached for a minute per byline: the thread read that shows it is the busiest request."""
        byline = byline_key(thread.author)
        cached = self._medians.get(byline)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        posts = [t.path for t in self.threads.all() if byline_key(t.author) == byline] or [thread.path]
        value = byline_reply_median(self.storage, posts, self.clock())
        self._medians[byline] = (time.monotonic() + MEDIAN_CACHE_SECONDS, value)
        return value

    # Acting on a comment -----------------------------------------------------------------------

    def _comment(self, comment_id: int) -> Comment:
        comment = self.storage.get_comment(comment_id)
        if comment is None:
            raise ApiError(404, "not_found", f"comment {comment_id} does not exist")
        return comment

    def reply(self, identity: Identity, parent_id: int, body: str) -> Comment:
        """Publish an author comment under `parent_id`: no moderation, no spam checks, the badge.

        Replying to a held comment approves it first."""
        return self._publish_reply(identity, self._comment(parent_id), body)

    def reply_and_tell(self, identity: Identity, parent_id: int, body: str) -> Replied:
        """`reply`, telling which other reader comments the reply answered too: the thread's queue
        before and after it, as the one unanswered rule says (storage.unanswered)."""
        parent = self._comment(parent_id)
        before = {t.comment.id: t.comment for t in
                  self.storage.unanswered(self.clock(), [parent.thread], include_snoozed=True)}
        comment = self._publish_reply(identity, parent, body)
        after = {t.comment.id for t in self.storage.unanswered(self.clock(), [parent.thread], include_snoozed=True)}
        also = [c for cid, c in before.items() if cid not in after and cid != parent_id]
        return Replied(comment, sorted(also, key=lambda c: (c.created_at, c.id)))

    def reopen(self, comment_id: int, reply_id: int) -> Comment:
        """Put a reader comment back in the queue that the author reply `reply_id` answered in
        passing: from now on only author replies written after that one answer it."""
        comment = self._comment(comment_id)
        reply = self._comment(reply_id)
        if comment.is_author or not reply.is_author or reply.thread != comment.thread:
            raise ApiError(400, "invalid", "only a reader comment answered by an author reply on its post can "
                           "go back in the queue", "reply")
        self.storage.set_marks(comment_id, reopened_at=reply.created_at)
        return comment

    def _publish_reply(self, identity: Identity, parent: Comment, body: str) -> Comment:
        parent_id = parent.id
        text = validate_body(body, self.limits)
        if parent.status == Status.PENDING:
            self.approve(parent.id)
            parent = self._comment(parent_id)
        if parent.status != Status.PUBLISHED:
            raise ApiError(409, "not_published", "this comment was deleted or marked as spam; it takes no replies")
        thread = self.thread_of(parent.thread)
        author = identity.author
        name = author.name if author else (thread.author or "Author")
        new = NewComment(
            thread=parent.thread, parent_id=parent.id, status=Status.PUBLISHED, author_name=name,
            author_email=author.email if author else None, author_url=None, is_author=True,
            notify_replies=False, body=text, body_html=render_comment(text), created_at=self.clock(),
            ip=None, edit_token_hash=None, author_id=author.id if author else None,
        )
        jobs = functools.partial(answer_jobs, parent) if self.fediverse_answers else None
        comment = self.storage.add_comment(new, self.notifier.for_new_comment(thread, parent, []), jobs=jobs)
        self.notifier.wake()
        self._medians.clear()
        if self._answered is not None:
            self._answered(parent, comment)
        return comment

    def open_reply_link(self, token: str) -> ReplyDraft:
        """What a reply link opens; ReplyLinkRefused when it is forged, expired or used, or what
        it was made for is gone."""
        try:
            grant = self.notifier.read_reply_link(token)
        except LinkError as error:
            raise ReplyLinkRefused(LinkRefusal.INVALID, str(error)) from None
        if self.storage.outbox.link_used(grant.nonce):
            raise ReplyLinkRefused(LinkRefusal.USED, "Each reply link works once. Open the dashboard to answer again.")
        author = self.accounts.get(grant.author_id) if grant.author_id else None
        if author is not None and account_stamp(author) != grant.author_created:
            author = None  # the id now belongs to another account (SQLite reused it before 0007)
        if grant.author_id and author is None:
            raise ReplyLinkRefused(LinkRefusal.AUTHOR_GONE, "The author account it was made for no longer exists.")
        comment = self.storage.get_comment(grant.comment_id)
        if comment is None:
            raise ReplyLinkRefused(LinkRefusal.COMMENT_GONE, f"comment {grant.comment_id} does not exist")
        thread = self.thread_of(comment.thread)
        parent = self.storage.get_comment(comment.parent_id) if comment.parent_id else None
        return ReplyDraft(grant.nonce, comment, parent, thread, self.links.post_link(thread.path), author)

    def reply_by_link(self, token: str, body: str) -> ReplyByLink:
        """Answer the comment a reply link was made for, as the author it was made for, once.

        A body that does not pass comes back as `problem`, and the link stays unused."""
        draft = self.open_reply_link(token)
        try:
            validate_body(body, self.limits)
        except ApiError as exc:
            return ReplyByLink(draft, problem=exc.message)
        if not self.storage.outbox.use_link(draft.nonce, self.clock()):
            raise ReplyLinkRefused(LinkRefusal.USED, "Each reply link works once.")
        reply = self.reply(Identity(draft.author), draft.comment.id, body)
        return ReplyByLink(draft, reply, f"{self.links.post_link(reply.thread)}#comment-{reply.id}")

    def approve(self, comment_id: int) -> Comment:
        comment = self._comment(comment_id)
        if comment.status != Status.PENDING:
            return comment
        parent = self.storage.get_comment(comment.parent_id) if comment.parent_id else None
        mail = self.notifier.for_published(self.thread_of(comment.thread), parent)
        updated = self.storage.set_status(comment_id, Status.PUBLISHED, mail, self.clock())
        self.notifier.wake()
        assert updated is not None
        self.plugins.published(updated)
        return updated

    def mark_spam(self, comment_id: int) -> None:
        self._comment(comment_id)
        self.storage.set_status(comment_id, Status.SPAM, now=self.clock())

    def delete(self, comment_id: int) -> None:
        self._comment(comment_id)
        self.storage.delete_comment(comment_id, self.clock())

    def take_down_mention(self, mention_id: int) -> None:
        """Take a like, repost or mention off its post; 404 if none is showing."""
        if not self.storage.remote.take_down_mention(mention_id, self.clock()):
            raise ApiError(404, "not_found", f"mention {mention_id} is not on any post")

    def dismiss(self, comment_id: int) -> None:
        """"No reply needed": off the queue (answered comments stay answered)."""
        self._comment(comment_id)
        self.storage.set_marks(comment_id, dismissed_at=self.clock())

    def undismiss(self, comment_id: int) -> None:
        self._comment(comment_id)
        self.storage.set_marks(comment_id, dismissed_at=None)

    def snooze(self, comment_id: int, until: datetime | None) -> None:
        """Hide from the queue until `until` (None wakes it now)."""
        self._comment(comment_id)
        if until is not None and until <= self.clock():
            raise ApiError(400, "invalid", "pick a day after today", "until")
        self.storage.set_marks(comment_id, snoozed_until=until)

    # Digest ----------------------------------------------------------------------------------

    def enqueue_digests(self) -> int:
        """Queue one digest email per author with comments waiting on their posts; how many (an
        author's digest is queued once a day, however often this runs)."""
        now = self.clock()
        day = now.date().isoformat()
        authors = self.accounts.all()
        waiting = self.storage.unanswered(now)
        mails = []
        for author in authors:
            items = []
            for tracked in waiting:
                thread = self.thread_of(tracked.comment.thread)
                if any(a.id == author.id for a in self.accounts.authors_of(thread, authors)):
                    items.append((tracked, thread))
            mail = self.notifier.digest(author, items, day)
            if mail is not None:
                mails.append(mail)
        added = self.storage.outbox.add(mails, now)
        self.notifier.wake()
        return added

"""The dashboard's pages and actions: queue, reply, dismiss, snooze, moderation, all comments, health,
and the reply page a signed email link opens."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, get_flashed_messages, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from comments_server.auth import session_identity
from comments_server.compose import excerpt
from comments_server.conversation import Conversations
from comments_server.dashboard import bp, current_identity, login_required, message, page, safe_next
from comments_server.dashboard.chart import line_chart
from comments_server.errors import ApiError
from comments_server.fediverse.answer import instance_of
from comments_server.humanize import human_duration
from comments_server.models import State
from comments_server.reply_links import LinkRefusal, ReplyByLink, ReplyLinkRefused
from comments_server.serialize import rfc3339, source_site
from comments_server.services import services
from comments_server.storage import ConversationQuery

PAGE_SIZE = 50
PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}
FILTER_STATES = (State.UNANSWERED, State.ANSWERED, State.DISMISSED, State.HELD, State.SPAM)
# How the reply page says no: title, status, and whether it offers the dashboard instead.
REFUSED_LINK = {
    LinkRefusal.INVALID: ("This link does not work", 403, True),
    LinkRefusal.USED: ("This link was used already", 410, True),
    LinkRefusal.AUTHOR_GONE: ("This link does not work", 403, False),
}


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def desk() -> Conversations:
    """The author's desk, which every page and action of the dashboard calls."""
    return services().conversations


def local_time(moment: datetime) -> str:
    """A time in the site's time zone, as the dashboard shows it: '16 Jan 2026, 07:55 GMT'."""
    return moment.astimezone(services().links.site_zone).strftime("%-d %b %Y, %H:%M %Z")


def site_day_start(day: date) -> datetime:
    """When `day` starts in the site's time zone, in UTC (snoozing, day filters)."""
    return datetime.combine(day, time.min, tzinfo=services().links.site_zone).astimezone(UTC)


def web_link(url: str) -> str:
    """`url` if it is an http(s) address, else "" (a mention's source came from an import file)."""
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else ""


def site_today() -> date:
    return services().clock().astimezone(services().links.site_zone).date()


@bp.context_processor
def _helpers() -> dict[str, Any]:
    identity = session_identity()
    app_services = services()
    links = app_services.links
    return {"identity": identity, "waiting": human_duration, "duration": human_duration, "percent": percent,
            "rfc3339": rfc3339, "excerpt": excerpt, "now": app_services.clock(), "local_time": local_time,
            "source_site": source_site,
            "post_url": links.post_link, "site_title": links.site_title, "site_url": links.site_url,
            "zone_name": links.site_zone.key, "web_link": web_link,
            "multi_author": len(app_services.accounts.all()) > 1 if identity else False}


def _back(default_endpoint: str = "dashboard.home") -> str:
    return safe_next(request.form.get("next"), url_for(default_endpoint))


def _undo_flashes() -> list[tuple[str, Any]]:
    """The flashed notices; an "also answered" one is a dict (comment, reply, text) for its Undo form."""
    notices: list[tuple[str, Any]] = []
    for item in get_flashed_messages(with_categories=True):
        category, text = str(item[0]), str(item[1])
        notices.append((category, json.loads(text) if category == "also_answered" else text))
    return notices


# The queue -------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def home() -> BaseResponse:
    """Unanswered reader comments, grouped by post, oldest first."""
    questions_first = request.args.get("sort") == "questions"
    queue = desk().queue(current_identity().author, questions_first=questions_first)
    flashes = _undo_flashes()
    # A reply that was refused opens its box again, with the reason beside it.
    reply_errors = {int(category.split(":", 1)[1]): str(text) for category, text in flashes
                    if category.startswith("error:") and category.split(":", 1)[1].isdigit()}
    return page("home.html", queue=queue, questions_first=questions_first, flashes=flashes,
                reply_errors=reply_errors, today=site_today(),
                fediverse_answers=desk().fediverse_answers, instance_of=instance_of)


@bp.post("/comments/<int:comment_id>/reply")
@login_required
def reply(comment_id: int) -> BaseResponse:
    """Publish the author's reply; the comment leaves the queue."""
    body = request.form.get("body", "")
    try:
        replied = desk().reply_and_tell(current_identity(), comment_id, body)
    except ApiError as error:
        if error.field != "body":
            raise
        flash(f"Reply not published: {error.message}.", f"error:{comment_id}")
        return redirect(_back() + f"#comment-{comment_id}", code=303)
    comment = replied.comment
    services().jobs.wake()   # an answer to a fediverse reply is posted there by a job
    flash(f"{services().links.post_link(comment.thread)}#comment-{comment.id}", "replied")
    title = desk().thread_of(comment.thread).title
    for other in replied.also_answered:
        # The rule is right (a reply answers the whole branch above it); the author is told, with an Undo.
        flash(json.dumps({"comment": other.id, "reply": comment.id,
                          "text": f"This reply also answered {other.author_name or 'a reader'}’s comment "
                                  f"on “{title}”."}), "also_answered")
    return redirect(_back(), code=303)


@bp.post("/comments/<int:comment_id>/reopen")
@login_required
def reopen(comment_id: int) -> BaseResponse:
    """Undo "also answered": the comment waits again, until an author reply after that one."""
    reply_id = request.form.get("reply", "")
    if not reply_id.isdigit():
        raise ApiError(400, "invalid", "reply: expected the id of the author reply", "reply")
    comment = desk().reopen(comment_id, int(reply_id))
    flash(f"{comment.author_name or 'The reader'}’s comment is back in the queue.", "info")
    return redirect(_back() + f"#comment-{comment_id}", code=303)


@bp.post("/comments/<int:comment_id>/dismiss")
@login_required
def dismiss(comment_id: int) -> BaseResponse:
    desk().dismiss(comment_id)
    flash(str(comment_id), "dismissed")
    return redirect(_back(), code=303)


@bp.post("/comments/<int:comment_id>/undismiss")
@login_required
def undismiss(comment_id: int) -> BaseResponse:
    desk().undismiss(comment_id)
    flash("Back in the queue.", "info")
    return redirect(_back() + f"#comment-{comment_id}", code=303)


@bp.post("/comments/<int:comment_id>/snooze")
@login_required
def snooze(comment_id: int) -> BaseResponse:
    """Hide a comment from the queue until the start of the chosen day (the site's time zone)."""
    raw = request.form.get("until", "")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid", f"{raw!r} is not a day (expected YYYY-MM-DD)", "until") from None
    desk().snooze(comment_id, site_day_start(day))
    flash(f"Snoozed until {day.isoformat()}.", "info")
    return redirect(_back(), code=303)


@bp.post("/comments/<int:comment_id>/wake")
@login_required
def wake(comment_id: int) -> BaseResponse:
    desk().snooze(comment_id, None)
    return redirect(_back(), code=303)


# Moderation ------------------------------------------------------------------------------------


@bp.get("/moderation")
@login_required
def moderation() -> BaseResponse:
    """Held comments, with the comment each replies to."""
    held = desk().held()
    return page("moderation.html", held=held.rows, threads=held.threads, flashes=_undo_flashes())


@bp.post("/comments/<int:comment_id>/approve")
@login_required
def approve(comment_id: int) -> BaseResponse:
    desk().approve(comment_id)
    flash("Approved and published.", "info")
    return redirect(_back("dashboard.moderation"), code=303)


@bp.post("/comments/<int:comment_id>/spam")
@login_required
def spam(comment_id: int) -> BaseResponse:
    desk().mark_spam(comment_id)
    flash("Marked as spam.", "info")
    return redirect(_back("dashboard.moderation"), code=303)


@bp.post("/comments/<int:comment_id>/delete")
@login_required
def delete(comment_id: int) -> BaseResponse:
    desk().delete(comment_id)
    flash("Deleted.", "info")
    return redirect(_back("dashboard.moderation"), code=303)


@bp.post("/mentions/<int:mention_id>/delete")
@login_required
def delete_mention(mention_id: int) -> BaseResponse:
    desk().take_down_mention(mention_id)
    flash("Taken off the post.", "info")
    return redirect(_back("dashboard.all_comments"), code=303)


# All comments ----------------------------------------------------------------------------------


def _day(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid", f"{name}: {raw!r} is not a day (expected YYYY-MM-DD)", name) from None


@bp.get("/comments")
@login_required
def all_comments() -> BaseResponse:
    """Every comment, newest first: search, and filter by post, state and day."""
    search = request.args.get("q", "").strip()[:200]
    thread = request.args.get("thread", "")
    state = request.args.get("state", "")
    if state and state not in {s.value for s in FILTER_STATES}:
        raise ApiError(400, "invalid", f"state must be one of {', '.join(s.value for s in FILTER_STATES)}", "state")
    since, until = _day("from"), _day("to")
    page_number = max(request.args.get("page", 1, type=int) or 1, 1)
    query = ConversationQuery(
        states=(State(state),) if state else FILTER_STATES + (State.AUTHOR,),
        threads=(thread,) if thread else None, search=search,
        since=site_day_start(since) if since else None,
        until=site_day_start(until + timedelta(days=1)) if until else None,
        newest_first=True, limit=PAGE_SIZE + 1, offset=(page_number - 1) * PAGE_SIZE,
    )
    listing = desk().search(query)
    # Links from other sites have no conversation state: shown unless a state is asked for.
    mentions = desk().mentions(query) if not state and page_number == 1 else []
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return page("comments.html", rows=listing.rows[:PAGE_SIZE], more=len(listing.rows) > PAGE_SIZE,
                mentions=mentions, mention_titles={m.thread: desk().thread_of(m.thread).title for m in mentions},
                page_number=page_number, posts=desk().posts(), threads=listing.threads, states=FILTER_STATES,
                args=args,
                filters={"q": search, "thread": thread, "state": state, "from": since, "to": until},
                flashes=_undo_flashes())


# Health ----------------------------------------------------------------------------------------


@bp.get("/health")
@login_required
def health() -> BaseResponse:
    """Reply rate, response times, the unanswered count over time, and each post."""
    period = request.args.get("period", "90")
    if period not in PERIODS:
        abort(404)
    report = desk().health(current_identity().author, PERIODS[period])
    return page("health.html", report=report, chart=line_chart(report.series), period=period,
                periods=list(PERIODS), outbox=desk().outbox_status())


# The reply page of a signed email link -----------------------------------------------------------


@bp.route("/reply/<token>", methods=["GET", "POST"])
def reply_link(token: str) -> BaseResponse:
    """Answer one comment from an email: no login while the link is valid, and only once."""
    body = request.form.get("body", "") if request.method == "POST" else ""
    try:
        if request.method == "POST":
            sent = desk().reply_by_link(token, body)
        else:
            sent = ReplyByLink(desk().open_reply_link(token))
    except ReplyLinkRefused as refused:
        if refused.refusal is LinkRefusal.COMMENT_GONE:
            abort(404)
        title, status, offers_dashboard = REFUSED_LINK[refused.refusal]
        link = (url_for("dashboard.home"), "Open the dashboard") if offers_dashboard else ("", "")
        return message(title, refused.message, status, *link)
    draft = sent.draft
    if sent.reply is not None:
        return message("Reply published", f"Your answer to {draft.comment.author_name} is on the post.", 201,
                       sent.reply_url, "See it on the post")
    return page("reply.html", 422 if sent.problem else 200, comment=draft.comment, parent=draft.parent,
                thread=draft.thread, post_url=draft.post_link, error=sent.problem, body=body,
                author=draft.author, token=token)

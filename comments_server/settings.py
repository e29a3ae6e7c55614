"""Every server setting: its name, default, kind of value and one line of help.

The help is the settings table of docs/comment-server.md (`python -m tests.support.docs_tables --write`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODERATION_MODES = ("none", "first-time", "all")
MAIL_TLS_MODES = ("starttls", "ssl", "off")
FORM_WITHOUT_TOKEN_MODES = ("publish", "hold", "refuse")


class Kind:
    """Kinds of setting values; config.parse_env reads each from an environment string."""

    STR = "string"
    BOOL = "boolean"
    INT = "integer"
    INT_OFF = "integer or off"
    FLOAT_OFF = "number or off"
    LIST = "list of strings"
    LIMIT_OFF = "rate limit or off"
    CHOICE = "choice"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    kind: str
    help: str
    choices: tuple[str, ...] = ()


SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", None, Kind.STR,
            "Signs form tokens, dashboard sessions and email links. Required; `comments serve` "
            "makes one for development. Every instance needs the same one."),
    Setting("SITE", "", Kind.STR,
            "A site folder: read its blogengine.toml `[comments]` settings and thread manifest."),
    Setting("DATABASE_URL", "sqlite:///comments.sqlite3", Kind.STR,
            "`sqlite:///path/to/file.sqlite3` or `postgresql+psycopg://user@host/db`."),
    Setting("AUTO_MIGRATE", True, Kind.BOOL,
            "Create the schema in an empty database at start-up."),
    Setting("THREADS_MANIFEST", "", Kind.STR,
            "Path or http(s) URL of the `threads.json` written by `blogengine build`."),
    Setting("THREADS_MANIFEST_TTL", 60, Kind.INT,
            "Seconds between fetches of a manifest given by URL "
            "(a file is re-read when it changes)."),
    Setting("ALLOW_UNKNOWN_THREADS", False, Kind.BOOL,
            "Accept comments on any well-formed path not in the manifest (development only)."),
    Setting("SITE_URL", "", Kind.STR,
            "The site's base URL, for links in feeds and redirects (default: the manifest's)."),
    Setting("PUBLIC_URL", "", Kind.STR,
            "The comment server's own public URL, if it differs from the site's."),
    Setting("CORS_ORIGINS", [], Kind.LIST,
            "Origins (`scheme://host[:port]`) allowed to call the API from a browser."),
    Setting("MODERATION", "none", Kind.CHOICE,
            "`none`: publish at once; `first-time`: hold every reader comment, and let a "
            "returning commenter publish theirs from a link emailed to their address (needs "
            "`MAIL_HOST`); `all`: hold everything.",
            MODERATION_MODES),
    Setting("DISPLAY_DEPTH", 5, Kind.INT,
            "Reply levels shown nested (0 to 50); deeper replies are listed under the last level."),
    Setting("RATE_LIMIT", "5/minute;30/hour", Kind.LIMIT_OFF,
            "Writes (post, edit, delete, form) per client IP (an IPv6 client by its /64), e.g. "
            "`10/minute;100/hour`, or off."),
    Setting("READ_RATE_LIMIT", "300/minute", Kind.LIMIT_OFF,
            "Reads (threads, counts, feeds, form) per client IP, or off. Previews have their own."),
    Setting("PREVIEW_RATE_LIMIT", "30/minute;300/hour", Kind.LIMIT_OFF,
            "Live previews (`POST /api/preview`) per client IP: a budget of their own, since each "
            "one renders Markdown; or off."),
    Setting("RATE_LIMIT_STORAGE_URL", "memory://", Kind.STR,
            "`memory://` for one process; `redis://host:6379/0` shared by several instances."),
    Setting("RATE_LIMIT_KEY_PREFIX", "blogengine-comments", Kind.STR,
            "Prefix of the rate-limit keys in Redis."),
    Setting("TRUSTED_PROXY_COUNT", 0, Kind.INT,
            "Reverse proxies whose `X-Forwarded-For`/`-Proto`/`-Host` are trusted "
            "(1 behind nginx)."),
    Setting("TRUSTED_PROXIES", ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                "fc00::/7"], Kind.LIST,
            "Addresses or networks the proxies connect from: `X-Forwarded-*` is read only from "
            "them, so a client reaching the server directly cannot pick its own address."),
    Setting("MIN_SUBMIT_SECONDS", 3.0, Kind.FLOAT_OFF,
            "Least time between loading the form (its form token) and submitting it, or off."),
    Setting("FORM_TOKEN_MAX_AGE", 86400, Kind.INT,
            "Seconds a form token stays valid; each one posts one comment."),
    Setting("FORM_WITHOUT_TOKEN", "publish", Kind.CHOICE,
            "What the HTML form (`POST /comments/form`) does with a comment sent without a form "
            "token, as the form baked into a static page sends it (when form tokens are on): "
            "`publish` it (like any other, under `MODERATION`), `hold` it for moderation, or "
            "`refuse` it (the reader gets the form back, with a token, to send again). The JSON "
            "API always requires a token.",
            FORM_WITHOUT_TOKEN_MODES),
    Setting("IDEMPOTENCY_KEY_TTL", 86400, Kind.INT,
            "Seconds a new comment's `Idempotency-Key` is remembered: a retry within it gets the "
            "first answer instead of posting again."),
    Setting("HONEYPOT_FIELD", "website", Kind.STR,
            "Hidden field people leave empty; filled means spam (answered 202, kept as SPAM). "
            '`""` = off.'),
    Setting("MAX_LINKS", 3, Kind.INT_OFF, "Links allowed in one body, or off."),
    Setting("MIN_BODY_LENGTH", 2, Kind.INT_OFF, "Shortest body in characters, or off."),
    Setting("MAX_BODY_LENGTH", 10000, Kind.INT_OFF,
            "Longest body in characters (413 beyond it), or off."),
    Setting("MAX_PREVIEW_LENGTH", 5000, Kind.INT_OFF,
            "Longest body `POST /api/preview` renders (413 beyond it; the widget then shows no "
            "preview), or off."),
    Setting("MAX_NAME_LENGTH", 80, Kind.INT_OFF, "Longest author name, or off."),
    Setting("MAX_EMAIL_LENGTH", 254, Kind.INT_OFF, "Longest author email, or off."),
    Setting("MAX_URL_LENGTH", 500, Kind.INT_OFF, "Longest author URL, or off."),
    Setting("MAX_CONTENT_LENGTH", 262144, Kind.INT_OFF,
            "Largest request body in bytes (413 beyond it), or off."),
    Setting("EDIT_WINDOW_SECONDS", 900, Kind.INT_OFF,
            "How long an edit token may edit or delete its comment, or off (no limit)."),
    Setting("COUNTS_MAX_THREADS", 100, Kind.INT_OFF,
            "Most `thread` parameters in one `/api/counts` request, or off."),
    Setting("FEED_ITEMS", 50, Kind.INT, "Entries in a comments feed."),
    Setting("AUTHOR_TOKENS", [], Kind.LIST,
            "Secret API tokens (16+ characters) that post as the site's author."),
    # The dashboard and author accounts.
    Setting("LOGIN_RATE_LIMIT", "5/minute;20/hour", Kind.LIMIT_OFF,
            "Dashboard login attempts per client IP (an IPv6 client by its /64), or off."),
    Setting("LOGIN_ACCOUNT_RATE_LIMIT", "5/15 minutes;20/day", Kind.LIMIT_OFF,
            "Failed dashboard logins per account, from any address, or off; beyond it the "
            "account's logins wait (its API tokens and reply links still work)."),
    Setting("SECURE_COOKIES", True, Kind.BOOL,
            "Send the dashboard's session cookie over HTTPS only (browsers also allow it on "
            "`http://localhost`); never in debug mode."),
    Setting("REPLY_LINK_MAX_AGE", 604800, Kind.INT,
            "Seconds the one-click reply link in a notification email stays valid."),
    Setting("CONFIRM_LINK_MAX_AGE", 604800, Kind.INT,
            "Seconds the link in a reader's confirmation email (reply emails, publishing a "
            "returning commenter's comment) stays valid; each works once."),
    # Email notifications.
    Setting("MAIL_HOST", "", Kind.STR, 'SMTP server for notifications; `""` sends no email.'),
    Setting("MAIL_PORT", 587, Kind.INT, "SMTP port (587 for STARTTLS, 465 for SSL, 25 plain)."),
    Setting("MAIL_TLS", "starttls", Kind.CHOICE,
            "`starttls`: upgrade the connection; `ssl`: TLS from the start; `off`: plain (local "
            "relays only).",
            MAIL_TLS_MODES),
    Setting("MAIL_USERNAME", "", Kind.STR, 'SMTP login name; `""` for a server without login.'),
    Setting("MAIL_PASSWORD", "", Kind.STR, "SMTP password (set it in the environment)."),
    Setting("MAIL_FROM", "", Kind.STR,
            "Sender of notifications, e.g. `Blog comments <comments@example.com>`. Required with "
            "`MAIL_HOST`."),
    Setting("MAIL_TIMEOUT", 10, Kind.INT, "Seconds to wait for the SMTP server."),
    Setting("MAIL_RETRY_SECONDS", 60, Kind.INT,
            "First retry of an email the SMTP server did not take; the wait doubles, up to an hour."),
    Setting("MAIL_SEND_IN_BACKGROUND", True, Kind.BOOL,
            "Each server process sends the outbox from a background thread; `false`: only "
            "`blogengine comments send-mail` sends."),
    Setting("NOTIFY_AUTHORS", True, Kind.BOOL,
            "Email the post's author about each new reader comment (and each held one)."),
    # Fediverse replies (docs/fediverse.md): polled from each post's announcement.
    Setting("FEDIVERSE_POLL", True, Kind.BOOL,
            "Poll the fediverse for replies to the posts' announcements (threads.json `fediverse`, "
            "or statuses of the site's `[fediverse] account` that link to a post)."),
    Setting("FEDIVERSE_ACCESS_TOKEN", "", Kind.STR,
            "A Mastodon API access token of the site's account (scope `write:statuses`): an "
            "author's dashboard reply to a fediverse reply is posted there too. `\"\"`: the dashboard "
            "links to the status instead (set it in the environment)."),
    Setting("FEDIVERSE_ALLOW_HOSTS", [], Kind.LIST,
            "Hosts (`host` or `host:port`) the fediverse client may reach although they are "
            "private or loopback addresses (tests, a private network)."),
    Setting("FEDIVERSE_TIMEOUT", 10, Kind.INT,
            "Seconds to wait for a fediverse server; one that does not answer is polled again later."),
    # Publish on comment: rebuild and deploy the site when its conversations change.
    Setting("PUBLISH_COMMAND", "", Kind.STR,
            "Run after comments change (published, approved, edited, deleted), e.g. "
            "`blogengine deploy`; split like a shell command, run in the site folder (SITE) without a shell."),
    Setting("PUBLISH_WEBHOOK_URL", "", Kind.STR,
            "POST `{\"event_type\": \"blogengine-comments\"}` here after comments change, e.g. a "
            "GitHub `repository_dispatch` URL."),
    Setting("PUBLISH_WEBHOOK_TOKEN", "", Kind.STR,
            "Sent to PUBLISH_WEBHOOK_URL as `Authorization: Bearer …` (set it in the environment)."),
    Setting("PUBLISH_DEBOUNCE_SECONDS", 5, Kind.INT,
            "Publish once writes have been quiet this long (at most ten times this after the first)."),
    Setting("PUBLISH_POLL_SECONDS", 30, Kind.INT,
            "Also look for changes made elsewhere (another instance, the CLI) this often."),
    Setting("PUBLISH_TIMEOUT", 600, Kind.INT,
            "Seconds PUBLISH_COMMAND may run before it is stopped and counted as failed."),
    # Background jobs and Webmentions (docs/webmentions.md).
    Setting("JOBS_IN_BACKGROUND", True, Kind.BOOL,
            "Each server process runs due background jobs (verifying Webmentions, ...) from a "
            "thread; `false`: only `blogengine comments run-jobs` runs them."),
    Setting("WEBMENTION_RECEIVE", True, Kind.BOOL,
            "Accept Webmentions at `POST /webmention`; replies join the thread and the queue."),
    Setting("WEBMENTION_RATE_LIMIT", "10/minute;100/day", Kind.LIMIT_OFF,
            "Webmentions received per source host (the site that says it links here), or off."),
    Setting("WEBMENTION_SEND_DELAY", 300, Kind.INT,
            "Seconds after an author answers a reply received as a Webmention before one is sent "
            "back: time for the site to publish the answer, which the other side reads."),
    Setting("WEBMENTION_ALLOW_HOSTS", [], Kind.LIST,
            "Hosts fetched even though they are private or loopback addresses (tests, private "
            "networks); by default only public addresses are fetched."),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}

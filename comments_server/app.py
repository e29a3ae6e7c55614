"""The app factory: create_app() first builds every part of the server, each whole from its
constructor (config, thread manifest, storage, accounts, mail, notifier, services), then wires
them into a Flask app (blueprints, error handlers, CORS, rate limits, headers, health check)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from comments_server import api, comments, dashboard, feeds, notify, webmention, widget
from comments_server.accounts import Accounts
from comments_server.api.caching import ThreadCache
from comments_server.api.counts import CountsCache, CountsLane
from comments_server.clientip import TrustedProxyFix, parse_networks
from comments_server.compose import Notifier
from comments_server.config import load_config, validate
from comments_server.confirm import Confirmations
from comments_server.conversation import Conversations
from comments_server.cors import allowed_origins, init_cors
from comments_server.errors import ApiError, ConfigError, SchemaError
from comments_server.fediverse.config import FediverseSettings
from comments_server.fediverse.poller import start_polling
from comments_server.job_kinds import job_handlers
from comments_server.jobs import JobRunner
from comments_server.links import SiteLinks
from comments_server.mail import MailSettings, OutboxSender
from comments_server.manifest import ManifestError, ThreadIndex
from comments_server.models import Limits
from comments_server.netguard import FetchPolicy
from comments_server.plugins import CommentPlugins
from comments_server.publish import Publisher, build_publisher
from comments_server.ratelimit import init_rate_limits
from comments_server.receipts import Receipts
from comments_server.remote_replies import RemoteReplies
from comments_server.security import init_security_headers
from comments_server.service import CommentService, Policy, utcnow
from comments_server.services import EXTENSION, Services
from comments_server.shell import PageShell, shell_source
from comments_server.storage import Storage, open_storage
from comments_server.web import register_error_handlers, register_health_check
from comments_server.webmention.receive import Webmentions

if TYPE_CHECKING:
    from comments_server.demo import DemoLogin
    from comments_server.site import SiteLayer

__all__ = ["create_app", "ApiError", "ConfigError", "SchemaError"]
BLUEPRINTS = (api.bp, comments.bp, feeds.bp, widget.bp, dashboard.bp, notify.bp, webmention.bp)


def create_app(test_config: Mapping[str, Any] | None = None, *, clock: Callable[[], datetime] = utcnow,
               site: SiteLayer | None = None, demo_login: DemoLogin | None = None) -> Flask:
    """Build the app; ConfigError lists every config problem, SchemaError says to migrate.

    `site` is a site's settings as the generator gives them (`blogengine serve`); `demo_login`
    the demo author's credentials the login page shows, which only site.development_app passes."""
    # Construct: each part from the ones above it, whole.
    config, layer = checked_config(test_config, site)
    plugins = CommentPlugins(layer.plugins() if layer is not None and layer.plugins is not None else ())
    threads = load_threads(config)
    storage = open_storage(config["DATABASE_URL"], auto_migrate=config["AUTO_MIGRATE"])
    links = SiteLinks(threads, config["SITE_URL"])
    accounts = Accounts(storage, clock)
    mail = MailSettings.from_config(config)
    sender = background_sender(config, storage, mail, clock)
    notifier = build_notifier(config, mail, links, sender, clock, storage)
    limits, policy = Limits.from_config(config), Policy.from_config(config)
    confirmations = Confirmations(storage, threads, notifier, clock, plugins=plugins)
    remote_replies = RemoteReplies(storage, threads, accounts=accounts, limits=limits, policy=policy,
                                   plugins=plugins, clock=clock, notifier=notifier)
    jobs = JobRunner(storage.jobs, job_handlers(), clock)
    webmentions = Webmentions(storage, threads, links, remote_replies, fetch_policy=fetch_policy(config), clock=clock,
                              wake=jobs.wake, send_delay=config["WEBMENTION_SEND_DELAY"])
    fediverse = FediverseSettings.from_config(config)
    # An author's answer, from the dashboard or the API, goes back where a remote reply came from.
    answered, fediverse_answers = webmentions.queue_answer, bool(fediverse.access_token)
    service = CommentService(storage, threads, accounts=accounts, notifier=notifier,
                             secret_key=config["SECRET_KEY"], limits=limits, policy=policy, clock=clock,
                             plugins=plugins, answered=answered, fediverse_answers=fediverse_answers)
    conversations = Conversations(storage, threads, links, accounts, notifier, limits=limits, clock=clock,
                                  plugins=plugins, answered=answered, fediverse_answers=fediverse_answers)
    publisher = build_publisher(config, storage.publish_marker, cwd=site_folder(config, site),
                                user_agent="blogengine-comments (publish on comment)")
    services = Services(clock=clock, threads=threads, storage=storage, links=links, accounts=accounts, mail=mail,
                        sender=sender, notifier=notifier, comments=service, conversations=conversations,
                        confirmations=confirmations, thread_cache=ThreadCache(), counts_cache=CountsCache(service),
                        page_shell=PageShell(shell_source(config["THREADS_MANIFEST"]), ttl=config["THREADS_MANIFEST_TTL"]),
                        receipts=Receipts(storage, config["SECRET_KEY"], clock), publisher=publisher,
                        remote_replies=remote_replies, webmentions=webmentions, jobs=jobs, fediverse=fediverse,
                        demo_login=demo_login)

    start_polling(services)   # fediverse replies: plan the polls of the announcements the manifest names

    # Wire: the app, its routes and the hooks around them.
    app = Flask("comments_server")
    app.config.update(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = services
    starters = background_starters(config, services)
    for start in starters:
        app.before_request(start)
    app.after_request(wake_after_writes(publisher))
    if config["TRUSTED_PROXY_COUNT"]:
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, config["TRUSTED_PROXY_COUNT"], parse_networks(config["TRUSTED_PROXIES"]))
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    dashboard.init_app(app)
    register_error_handlers(app)
    init_cors(app, config["CORS_ORIGINS"], config["PUBLIC_URL"])
    init_rate_limits(app, config)
    init_security_headers(app)
    register_health_check(app)
    if config["READ_RATE_LIMIT"] is None:
        # With no read limit to count, counts need none of Flask's request machinery (api/counts.py).
        app.wsgi_app = CountsLane(  # type: ignore[method-assign]
            app.wsgi_app, services.counts_cache, allowed_origins(config["CORS_ORIGINS"], config["PUBLIC_URL"]), starters)
    return app


def background_starters(config: Mapping[str, Any], services: Services) -> list[Callable[[], None]]:
    """What each request makes sure runs in this process: the mail sender, the publisher, the jobs."""
    starters: list[Callable[[], None]] = []
    if services.sender is not None:
        starters.append(services.sender.ensure_started)
    starters.append(services.publisher.ensure_started)
    if config["JOBS_IN_BACKGROUND"]:
        starters.append(lambda: services.jobs.ensure_started(services))
    return starters


def checked_config(test_config: Mapping[str, Any] | None,
                   site: SiteLayer | None) -> tuple[dict[str, Any], SiteLayer | None]:
    """The merged settings (defaults, file, environment, `test_config`) and the site they were read
    for (given, or the SITE folder); ConfigError lists every problem.

    `test_config` may also hold Flask's own keys (DEBUG, TESTING, ...)."""
    cfg = load_config(test_config, extra_keys=frozenset(Flask.default_config), site=site)
    problems = cfg.problems + validate(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg.values, cfg.site


def load_threads(config: Mapping[str, Any]) -> ThreadIndex:
    """The thread manifest, read once now: one that exists but is broken is a ConfigError."""
    threads = ThreadIndex(config["THREADS_MANIFEST"], ttl=config["THREADS_MANIFEST_TTL"])
    try:
        threads.load()
    except (OSError, UnicodeDecodeError, ManifestError) as exc:
        raise ConfigError([f"THREADS_MANIFEST: {exc}"]) from None
    return threads


def site_folder(config: Mapping[str, Any], site: SiteLayer | None) -> Path | None:
    """Where PUBLISH_COMMAND runs: the site folder, when the server knows it."""
    if site is not None:
        return site.root
    return Path(config["SITE"]) if config["SITE"] else None


def wake_after_writes(publisher: Publisher) -> Callable[[Response], Response]:
    """After a write request that went through, the publisher looks whether readers' view changed."""
    def after(response: Response) -> Response:
        if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            publisher.wake()
        return response
    return after


def background_sender(config: Mapping[str, Any], storage: Storage, mail: MailSettings,
                      clock: Callable[[], datetime]) -> OutboxSender | None:
    """The thread that sends the outbox, when mail is on and MAIL_SEND_IN_BACKGROUND; started by
    the app's first request in each process."""
    if not (mail.enabled and config["MAIL_SEND_IN_BACKGROUND"]):
        return None
    return OutboxSender(storage.outbox, mail, clock)


def fetch_policy(config: Mapping[str, Any]) -> FetchPolicy:
    """How the server fetches pages named from outside (Webmention sources): public addresses
    only, unless WEBMENTION_ALLOW_HOSTS names a host."""
    return FetchPolicy(allow_hosts=frozenset(config["WEBMENTION_ALLOW_HOSTS"]),
                       user_agent="blogengine-comments (webmention)")


def build_notifier(config: Mapping[str, Any], mail: MailSettings, links: SiteLinks, sender: OutboxSender | None,
                   clock: Callable[[], datetime], storage: Storage) -> Notifier:
    """The notification composer; it asks `storage` which reader addresses may get mail, and
    wakes `sender` when mail is queued."""
    return Notifier(
        secret_key=config["SECRET_KEY"], enabled=mail.enabled, notify_authors=config["NOTIFY_AUTHORS"],
        reply_link_max_age=config["REPLY_LINK_MAX_AGE"], server_url=notify.server_url(config["PUBLIC_URL"], links),
        links=links, clock=clock, addresses=storage.addresses.state,
        confirm_link_max_age=config["CONFIRM_LINK_MAX_AGE"], wake=sender.wake if sender is not None else None,
    )

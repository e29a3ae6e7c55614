"""The app factory: create_app() assembles config, storage, thread manifest, blueprints and errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from comments_server.config import load_config, validate
from comments_server.errors import ApiError, ConfigError, SchemaError
from comments_server.manifest import ManifestError, ThreadIndex
from comments_server.models import Limits
from comments_server.service import CommentService, Policy, utcnow
from comments_server.storage import open_storage

if TYPE_CHECKING:
    from comments_server.site import SiteLayer

__all__ = ["create_app", "ApiError", "ConfigError", "SchemaError"]
log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None, *, clock: Callable[[], datetime] = utcnow,
               site: SiteLayer | None = None) -> Flask:
    """Build the app; ConfigError lists every config problem, SchemaError says to migrate.

    `site` is a site's settings as the generator gives them (`blogengine serve`)."""
    app = Flask("comments_server")
    cfg = load_config(test_config, extra_keys=frozenset(app.config), site=site)
    problems = cfg.problems + validate(cfg)
    if problems:
        raise ConfigError(problems)
    app.config.update(cfg.values)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    threads = ThreadIndex(app.config["THREADS_MANIFEST"], ttl=app.config["THREADS_MANIFEST_TTL"])
    try:
        threads.load()
    except (OSError, UnicodeDecodeError, ManifestError) as exc:
        raise ConfigError([f"THREADS_MANIFEST: {exc}"]) from None

    storage = open_storage(app.config["DATABASE_URL"], auto_migrate=app.config["AUTO_MIGRATE"])
    service = CommentService(
        storage,
        threads,
        secret_key=app.config["SECRET_KEY"],
        limits=Limits.from_config(app.config),
        policy=Policy.from_config(app.config),
        site_url=app.config["SITE_URL"],
        clock=clock,
    )
    app.extensions["comments_server"] = service

    from comments_server.accounts import Accounts
    from comments_server.auth import CONVERSATIONS
    from comments_server.conversation import Conversations
    from comments_server.mail import MailSettings
    from comments_server.notify import init_sender, server_url
    from comments_server.notify.compose import Notifier

    mail = MailSettings.from_config(app.config)
    notifier = Notifier(
        secret_key=app.config["SECRET_KEY"], enabled=mail.enabled, notify_authors=app.config["NOTIFY_AUTHORS"],
        reply_link_max_age=app.config["REPLY_LINK_MAX_AGE"], server_url=server_url(app.config["PUBLIC_URL"], service),
        post_url=service.post_url, site_title=lambda: service.site_title, clock=clock,
    )
    service.accounts, service.notifier = Accounts(storage, clock), notifier
    app.extensions[CONVERSATIONS] = Conversations(service, service.accounts, notifier)
    if mail.enabled and app.config["MAIL_SEND_IN_BACKGROUND"]:
        init_sender(app, storage, mail, notifier, clock)

    if app.config["TRUSTED_PROXY_COUNT"]:
        n = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from comments_server import api, comments, dashboard, feeds, notify, widget
    from comments_server.cors import init_cors
    from comments_server.ratelimit import init_rate_limits
    from comments_server.security import init_security_headers
    from comments_server.web import register_error_handlers

    app.register_blueprint(api.bp)
    app.register_blueprint(comments.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(notify.bp)
    dashboard.init_app(app)
    register_error_handlers(app)
    init_cors(app, app.config["CORS_ORIGINS"], app.config["PUBLIC_URL"])
    init_rate_limits(app, app.config)
    init_security_headers(app)

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            storage.ping()
        except Exception:  # the database, not the request, is at fault: say so with 503
            log.exception("health check: database unreachable")
            response = jsonify(ApiError(503, "unavailable", "the database is unreachable").to_dict())
            response.status_code = 503
            return response
        return jsonify({"status": "ok"})

    return app

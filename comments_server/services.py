"""The services object: every dependency the views and commands use, each built once and whole by
create_app (app.py), kept under one key in `app.extensions` and read back with `services()`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from comments_server.accounts import Accounts
    from comments_server.api.caching import ThreadCache
    from comments_server.api.counts import CountsCache
    from comments_server.compose import Notifier
    from comments_server.confirm import Confirmations
    from comments_server.conversation import Conversations
    from comments_server.demo import DemoLogin
    from comments_server.fediverse.config import FediverseSettings
    from comments_server.jobs import JobRunner
    from comments_server.links import SiteLinks
    from comments_server.mail import MailSettings, OutboxSender
    from comments_server.manifest import ThreadIndex
    from comments_server.publish import Publisher
    from comments_server.receipts import Receipts
    from comments_server.remote_replies import RemoteReplies
    from comments_server.service import CommentService
    from comments_server.shell import PageShell
    from comments_server.storage import Storage
    from comments_server.webmention.receive import Webmentions

EXTENSION = "comments_server"


@dataclass(frozen=True)
class Services:
    """The app's parts, in the order they are built: each needs only those above it."""

    clock: Callable[[], datetime]
    threads: ThreadIndex             # the thread manifest
    storage: Storage
    links: SiteLinks                 # the site's and its posts' URLs
    accounts: Accounts
    mail: MailSettings
    sender: OutboxSender | None      # the background sender, when MAIL_SEND_IN_BACKGROUND
    notifier: Notifier
    comments: CommentService         # the readers' side: post, edit, read threads
    conversations: Conversations     # the author's side: queue, replies, moderation, digest
    confirmations: Confirmations     # readers' confirmation links: reply emails, publishing
    thread_cache: ThreadCache        # serialised threads of this process (GET /api/comments)
    counts_cache: CountsCache        # counts answers of this process (GET /api/counts)
    publisher: Publisher             # publish on comment: rebuild/deploy the site after changes
    page_shell: PageShell            # the site theme's page around the reader pages (the form)
    receipts: Receipts               # signed links to the page after posting from the form
    remote_replies: RemoteReplies    # replies written elsewhere (Webmention, fediverse), stored as comments
    webmentions: Webmentions         # receiving and verifying Webmentions
    jobs: JobRunner                  # the durable background jobs (verifying Webmentions, ...)
    fediverse: FediverseSettings     # polling announcements for replies, posting answers
    demo_login: DemoLogin | None = None   # development only (site.development_app): shown on the login page


def services(app: Flask | None = None) -> Services:
    """The services of `app`, or of the app handling this request or command."""
    found = (app if app is not None else current_app).extensions[EXTENSION]
    assert isinstance(found, Services)
    return found

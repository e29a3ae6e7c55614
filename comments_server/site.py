"""The one door between the generator and the comment server: everything `blogengine` asks of
the server for a site (its comment store, the published conversations, imports, the app that
`blogengine serve` mounts), given as a SiteLayer the generator reads from blogengine.toml, and the reader-facing strings.

Importing this module loads neither Flask nor SQLAlchemy: a build with comments on but no
comment database yet pays for neither. Each function imports what it needs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comments_server.config import LoadedConfig, database_url_problems, load_config
from comments_server.dburl import sqlite_path
from comments_server.errors import ConfigError, SchemaError, TransferError

if TYPE_CHECKING:
    import click
    from flask import Flask

    from comments_server.demo import DemoLogin
    from comments_server.plugins import PluginEntry
    from comments_server.storage.sql import SqlStorage
    from comments_server.transfer import ImportReport

__all__ = ["Access", "ConfigError", "DevelopmentApp", "SiteLayer", "StoreError", "TransferError", "comments_version",
           "command_group", "development_app", "import_records", "open_store", "publish_with", "read_conversations",
           "read_reply_medians", "reader_strings", "send_webmention", "server_config"]


@dataclass(frozen=True)
class SiteLayer:
    """What the comment server needs to know of a site, as the generator read it from
    blogengine.toml; the server turns it into settings (config.py) below every other layer."""

    root: Path                   # the site folder
    manifest: Path               # the threads.json `blogengine build` writes
    database_url: str            # relative sqlite:/// paths are relative to `root`
    base_url: str = ""           # where the site lives: SITE_URL, and an origin always allowed
    public_url: str = ""         # [comments] url: the server's own address when it is elsewhere
    server: Mapping[str, Any] = field(default_factory=dict)   # [comments.server], as written
    label: str = ""              # where [comments.server] is, for messages
    enabled: bool = True         # [comments] enabled
    author_name: str = ""        # [author] name and email: the demo login of a sample site (demo.py)
    author_email: str = ""
    # The site's enabled plugins as (name, module, settings), loaded when an app is made (only
    # then: a build asks the layer for other things); raises ConfigError. See plugins.py.
    plugins: Callable[[], Sequence[PluginEntry]] | None = None


class StoreError(Exception):
    """The site's comment store cannot be opened, read or written; the message says why."""


class Access(Enum):
    """Who opens the store, which decides what may happen to its schema (see open_store)."""

    READ = "read"
    WRITE = "write"
    DEVELOP = "develop"


def server_config(layer: SiteLayer | None = None,
                  overrides: Mapping[str, Any] | None = None) -> LoadedConfig:
    """The server's settings for a site: its layer, under the COMMENTS_CONFIG file, COMMENTS_*
    variables and `overrides`, as the server itself would read them."""
    return load_config(overrides, site=layer)


def open_store(config: LoadedConfig, access: Access) -> SqlStorage | None:
    """Open the comment store the settings name. The one migration policy:

    - READ (the static build) never creates a file or a table: a SQLite file that does not
      exist yet holds no comments (None); an empty or outdated database is a StoreError.
    - WRITE (imports, exports, the server's own commands; create_app does the same at start-up)
      gives an empty database the current schema when AUTO_MIGRATE is on (the default); a
      database behind or ahead of this code is a StoreError naming `blogengine comments migrate`.
    - DEVELOP (`blogengine serve`): the database follows the code; pending migrations are applied.
    """
    # Only the database's own setting: the rest (and the slow import of the rate-limit
    # parser) is the starting server's business, not a build's.
    problems = config.problems + database_url_problems(config)
    if problems:
        raise StoreError("; ".join(problems))
    url = str(config.values["DATABASE_URL"])
    path = sqlite_path(url)
    if access is Access.READ and path is not None and not path.exists():
        return None
    from comments_server.storage import open_storage

    try:
        return open_storage(url, auto_migrate=access is Access.DEVELOP
                            or (access is Access.WRITE and bool(config.values["AUTO_MIGRATE"])),
                            follow_code=access is Access.DEVELOP)
    except SchemaError as exc:
        raise StoreError(str(exc)) from None
    except Exception as exc:  # a bad URL or an unreachable server: one line, no traceback
        raise StoreError(f"cannot open {display_url(url)}: {exc}") from None


def display_url(url: str) -> str:
    """A database URL fit for a message: its password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as "?" rather than crash a message
        return "?"


def comments_version(layer: SiteLayer) -> str:
    """A digest of the comment table's state in one aggregate query: it changes when a comment
    is added, edited, deleted or changes status ("none" before the database exists)."""
    store = open_store(server_config(layer), Access.READ)
    if store is None:
        return "none"
    try:
        return hashlib.sha256(repr(store.change_summary()).encode()).hexdigest()
    except Exception as exc:  # a database gone mid-read
        raise StoreError(str(exc)) from exc
    finally:
        store.close()


def read_conversations(layer: SiteLayer, threads: Iterable[str]) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """For each thread: (published comments, the nested comment JSON the API serves).

    The database and display depth come from the settings the server uses for this site."""
    config = server_config(layer)
    wanted = list(dict.fromkeys(threads))
    store = open_store(config, Access.READ)
    if store is None:
        return {thread: (0, []) for thread in wanted}
    from comments_server.models import Status, assemble_tree
    from comments_server.serialize import tree_json

    depth = int(config.values["DISPLAY_DEPTH"])
    try:
        return {thread: (sum(1 for c in comments if c.status == Status.PUBLISHED),
                         tree_json(assemble_tree(comments, depth)))
                for thread, comments in store.list_threads(wanted).items()}
    except Exception as exc:  # a database gone mid-read: the build warns and goes on without
        raise StoreError(str(exc)) from exc
    finally:
        store.close()


def read_mentions(layer: SiteLayer, threads: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """For each thread: its published likes, reposts, bookmarks and mentions, as the API gives them."""
    wanted = list(dict.fromkeys(threads))
    store = open_store(server_config(layer), Access.READ)
    if store is None:
        return {thread: [] for thread in wanted}
    from comments_server.serialize import mention_json

    try:
        return {thread: [mention_json(m) for m in store.mentions.list_thread(thread)] for thread in wanted}
    except Exception as exc:  # a database gone mid-read: the build warns and goes on without
        raise StoreError(str(exc)) from exc
    finally:
        store.close()


def read_reply_medians(layer: SiteLayer, bylines: Mapping[str, str]) -> dict[str, int | None]:
    """For each thread (path: its author's name), how soon that author usually answers, in seconds
    (the `author_reply_median_seconds` the API serves); None with too few answers."""
    store = open_store(server_config(layer), Access.READ)
    if store is None:  # no comments yet: nothing to measure, and no web framework loaded for it
        return {thread: None for thread in bylines}
    from datetime import UTC, datetime

    from comments_server.conversation import byline_key, byline_reply_median

    posts: dict[str, list[str]] = {}
    for thread, author in bylines.items():
        posts.setdefault(byline_key(author), []).append(thread)
    now = datetime.now(UTC)
    try:
        medians = {key: byline_reply_median(store, paths, now) for key, paths in posts.items()}
    except Exception as exc:  # a database gone mid-read: the build warns and goes on without
        raise StoreError(str(exc)) from exc
    finally:
        store.close()
    return {thread: medians[byline_key(author)] for thread, author in bylines.items()}


def checked_conversation(data: Any) -> tuple[int, list[dict[str, Any]]] | None:
    """A thread as another server's API answered it, checked and sanitised again (serialize.py)."""
    from comments_server.serialize import checked_conversation

    return checked_conversation(data)


def checked_mentions(data: Any) -> list[dict[str, Any]]:
    """A thread's mentions as another server's API answered them, checked (serialize.py)."""
    from comments_server.serialize import checked_mentions

    return checked_mentions(data)


def reader_strings(language: str) -> dict[str, Any]:
    """What the comment section says to readers in a site language ("fr-CA" reads French; an
    unknown language, English): the catalogue the widget and the no-JavaScript form use too."""
    from comments_server.strings import catalogue

    return catalogue(language)


def import_records(store: SqlStorage | None, comments: Sequence[Mapping[str, Any]],
                   mentions: Sequence[Mapping[str, Any]] = (), *, layer: SiteLayer | None = None,
                   repair: bool = False, dry_run: bool = False) -> ImportReport:
    """Store comments and mentions, each a record of the export format (`blogengine comments
    export`: parents before their replies), in one transaction, through the same checks and
    sanitiser as an export file, with the field limits of `layer`'s server settings; records
    already there (same uid) are skipped. `repair` mends a field that fails a check instead
    of refusing the lot (comments from another blog); `dry_run` stores nothing, and with no
    store (a dry run before the database exists) the records are checked and all counted new.

    TransferError names a record that is wrong; StoreError says the database refused them."""
    from sqlalchemy.exc import SQLAlchemyError

    from comments_server.models import Limits
    from comments_server.transfer import FORMAT, VERSION, import_data

    document = {"format": FORMAT, "version": VERSION, "comments": list(comments),
                "mentions": list(mentions)}
    limits = Limits.from_config(server_config(layer).values) if layer is not None else Limits()
    try:
        return import_data(store, document, limits=limits, repair=repair, dry_run=dry_run)
    except SQLAlchemyError as exc:
        raise StoreError(str(getattr(exc, "orig", None) or exc).splitlines()[0]) from None


@dataclass(frozen=True)
class DevelopmentApp:
    """What `blogengine serve` mounts: the app, how many demo comments it imported, and the demo
    login (a sample site's author account, see demo.py), if there is one to show."""

    app: Flask
    imported: int
    demo_login: DemoLogin | None


def development_app(layer: SiteLayer, *, site_url: str, seed: Path | None = None) -> DevelopmentApp:
    """The app `blogengine serve` mounts on the site's own origin (`site_url`), on the site's
    database migrated to this code, and how many comments it imported from `seed` (a comments
    export, imported when the database holds none yet).

    A site with a seed is a sample site: when its database has no author account, one is made
    for the layer's author, and its credentials are shown on the login page (demo.py). Raises
    ConfigError or StoreError."""
    from comments_server.accounts import Accounts
    from comments_server.app import create_app
    from comments_server.cli import dev_secret
    from comments_server.demo import ensure_demo_author
    from comments_server.service import utcnow
    from comments_server.services import services
    from comments_server.transfer import import_document as import_text

    overrides: dict[str, Any] = {"SITE_URL": site_url, "PUBLIC_URL": ""}
    config = server_config(layer, overrides)
    if config.problems:
        raise ConfigError(config.problems)
    if not config.values.get("SECRET_KEY"):
        overrides["SECRET_KEY"] = dev_secret(config)[0]
    store = open_store(config, Access.DEVELOP)
    assert store is not None
    try:
        demo_login = (ensure_demo_author(Accounts(store, utcnow), layer.author_name, layer.author_email,
                                         str(overrides.get("SECRET_KEY") or config.values["SECRET_KEY"]))
                      if seed is not None else None)
    finally:
        store.close()
    app = create_app(overrides, site=layer, demo_login=demo_login)
    imported = 0
    storage = services(app).storage
    if seed is not None and not storage.all_comments():
        try:
            imported = import_text(storage, seed.read_text(encoding="utf-8")).added
        except (OSError, UnicodeDecodeError, TransferError) as exc:
            raise ConfigError([f"[comments] seed: cannot import {seed} ({exc})"]) from None
    return DevelopmentApp(app, imported, demo_login)


# `blogengine serve` rebuilds this soon after a comment changes: the reader sees the page catch up.
SERVE_PUBLISH_DEBOUNCE_SECONDS = 0.3


def publish_with(app: Flask, rebuild: Callable[[], None], build_seconds: float) -> Callable[[], None]:
    """Make `rebuild` the way `app` publishes comment changes (`blogengine serve`'s own build,
    about `build_seconds` long), run at once after each change (the debounce of a keystroke,
    not of a deploy); returns the function that stops it."""
    from comments_server.publish import PublishAction
    from comments_server.services import services

    publisher = services(app).publisher
    publisher.debounce_seconds = SERVE_PUBLISH_DEBOUNCE_SECONDS
    publisher.first_estimate_seconds = build_seconds
    publisher.add_action(PublishAction("serve rebuild", lambda marker: rebuild()))
    return publisher.stop


def send_webmention(source: str, target: str, *, allow_hosts: Iterable[str]) -> tuple[str, str]:
    """Send one Webmention for `blogengine webmention send` (webmention_client; every request
    through netguard). Returns (result, detail), result one of "sent", "failed" (worth another
    try), "no endpoint" and "refused" (a URL netguard will not fetch)."""
    from comments_server.netguard import FetchError, FetchPolicy, UnsafeURL
    from comments_server.webmention_client import send_webmention as send

    try:
        result = send(source, target, policy=FetchPolicy(allow_hosts=frozenset(allow_hosts)))
    except UnsafeURL as exc:
        return "refused", str(exc)
    except FetchError as exc:
        return "failed", str(exc)
    if result.endpoint is None:
        return "no endpoint", ""
    if not result.ok:
        return "failed", f"{result.endpoint} answered {result.status}"
    return "sent", f"{result.status} from {result.endpoint}"


def command_group() -> click.Group:
    """The `blogengine comments ...` commands."""
    from comments_server.cli import comments

    return comments

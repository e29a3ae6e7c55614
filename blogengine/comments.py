"""The generator's side of the one door to the comment server: what a site tells its server,
read from SiteConfig (the only reader of blogengine.toml, with the only defaults), and the calls
the generator makes into `comments_server.site`, the only module of the server it imports.

Importing this module loads nothing of the comment server: each call loads what it needs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blogengine.config import CONFIG_NAME, SiteConfig, load_config
from blogengine.errors import BlogError

if TYPE_CHECKING:
    import click
    from flask import Flask

    from comments_server.site import DevelopmentApp, SiteLayer

# Where the comments live unless [comments] database_url says otherwise: beside blogengine.toml.
DEFAULT_DATABASE_URL = "sqlite:///comments.sqlite3"
MANIFEST_NAME = "threads.json"


class CommentStoreError(BlogError):
    """The site's comment store cannot be opened, read or written."""


def site_layer(config: SiteConfig, *, output_dir: Path | None = None) -> SiteLayer:
    """The site as its comment server sees it; `output_dir` is where the build writes (and so
    the thread manifest), public/ unless told otherwise."""
    from comments_server.site import SiteLayer

    root = config.root.resolve()
    return SiteLayer(
        root=root,
        manifest=(output_dir or manifest_folder(config)).resolve() / MANIFEST_NAME,
        database_url=config.comments.database_url or DEFAULT_DATABASE_URL,
        base_url=config.base_url,
        public_url=config.comments.url,
        server=config.comments.server,
        label=f"{root / CONFIG_NAME} [comments.server]",
        enabled=config.comments.enabled,
        author_name=config.author.name,
        author_email=config.author.email,
        plugins=functools.partial(_comment_plugins, config) if config.plugins.get("enabled") else None,
    )


def manifest_folder(config: SiteConfig) -> Path:
    """Where the site's thread manifest is: public/, or for a site only ever served (public/
    has none, `serve` wrote one), the folder `blogengine serve` builds into."""
    built, served = config.output_dir, config.serve_output_dir
    if not (built / MANIFEST_NAME).is_file() and (served / MANIFEST_NAME).is_file():
        return served
    return built


def _comment_plugins(config: SiteConfig) -> list[tuple[str, Any, dict[str, Any]]]:
    """The site's enabled plugins, for its comment server (which calls their comment hooks)."""
    from comments_server.site import ConfigError

    from blogengine.pluginhost import load_plugins
    try:
        found = load_plugins(config)
    except BlogError as exc:
        raise ConfigError([str(error) for error in getattr(exc, "errors", [exc])]) from None
    return [(plugin.name, plugin.module, dict(plugin.settings)) for plugin in found.plugins]


def site_layer_of_folder(folder: Path) -> tuple[SiteLayer | None, list[str]]:
    """The layer of the site in `folder` (the server's SITE setting), or the problems found."""
    if not (folder / CONFIG_NAME).is_file():
        return None, [f"{folder}: not a site folder (no {CONFIG_NAME} in it)"]
    try:
        return site_layer(load_config(folder)), []
    except BlogError as exc:
        errors = getattr(exc, "errors", [exc])
        return None, [str(error) for error in errors]


def find_site_folder(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding blogengine.toml."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


def open_store(config: SiteConfig, *, dry_run: bool = False) -> Any:
    """The site's comment store for writing (an import), opened before anything is written so
    that a bad database setting stops the work at once. A dry run opens it only to read: None
    when the database does not exist yet (it would be made, and hold nothing)."""
    from comments_server.site import Access, StoreError, open_store, server_config

    try:
        store = open_store(server_config(site_layer(config)), Access.READ if dry_run else Access.WRITE)
    except StoreError as exc:
        raise CommentStoreError(f"comment database: {exc}") from None
    assert store is not None or dry_run
    return store


@dataclass(frozen=True)
class ImportedConversations:
    """What storing imported comments and mentions did (or would do, in a dry run)."""

    added: int
    already: int
    mentions_added: int
    mentions_already: int
    repaired: tuple[tuple[str, str], ...]   # (comment uid, the field mended and why)


def import_conversations(config: SiteConfig, store: Any, comments: list[dict[str, Any]],
                         mentions: list[dict[str, Any]], *, dry_run: bool = False
                         ) -> ImportedConversations:
    """Store comments and mentions from another blog (records of the comment export format,
    parents first) in one transaction, through the server's own field checks, mending a field
    that fails rather than refusing the lot. `store` None (a dry run on a site with no database
    yet) checks them and counts every one as new."""
    from comments_server.site import StoreError, TransferError, import_records

    try:
        report = import_records(store, comments, mentions, layer=site_layer(config), repair=True,
                                dry_run=dry_run)
    except StoreError as exc:
        raise CommentStoreError(f"comment database: storing the comments failed ({exc}); "
                                "nothing was imported") from None
    except TransferError as exc:   # the importer made a record the server refuses: a bug here
        raise CommentStoreError(f"comment database: the imported comments were refused ({exc}); "
                                "nothing was imported") from None
    return ImportedConversations(report.added, report.skipped, report.mentions_added,
                                 report.mentions_skipped, report.repaired)


NO_DATABASE = "none"   # comments_version before the comment database exists: no comment yet


def comments_version(config: SiteConfig) -> str:
    """A digest that changes whenever the published comments may have changed ("none" before
    the database exists); "" when it cannot be told."""
    from comments_server.site import StoreError, comments_version

    try:
        return comments_version(site_layer(config))
    except StoreError:
        return ""


def conversations_version(config: SiteConfig) -> str:
    """A cheap digest that changes whenever the published comments may have changed; "" when
    it cannot be told without reading them all (comments read over the API)."""
    if config.comments.url and not config.comments.database_url:
        return ""
    return comments_version(config)


def read_conversations(config: SiteConfig, threads: list[str]) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """Every thread's published conversation: (count, nested comment JSON)."""
    from comments_server.site import StoreError, read_conversations

    try:
        return read_conversations(site_layer(config), threads)
    except StoreError as exc:
        raise CommentStoreError(str(exc)) from None


def read_mentions(config: SiteConfig, threads: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every thread's published likes, reposts, bookmarks and mentions from other sites."""
    from comments_server.site import StoreError, read_mentions

    try:
        return read_mentions(site_layer(config), threads)
    except StoreError as exc:
        raise CommentStoreError(str(exc)) from None


def read_reply_medians(config: SiteConfig, bylines: dict[str, str]) -> dict[str, int | None]:
    """For each thread (path: its author), the author's usual seconds to a first reply, or None."""
    from comments_server.site import StoreError, read_reply_medians

    try:
        return read_reply_medians(site_layer(config), bylines)
    except StoreError as exc:
        raise CommentStoreError(str(exc)) from None


def checked_conversation(data: Any) -> tuple[int, list[dict[str, Any]]] | None:
    """A conversation as some server's API answered it, rebuilt from checked fields with its HTML
    sanitised again; None when it is not one."""
    from comments_server.site import checked_conversation

    return checked_conversation(data)


def checked_mentions(data: Any) -> list[dict[str, Any]]:
    """A thread's mentions as some server's API answered them, rebuilt from checked fields."""
    from comments_server.site import checked_mentions

    return checked_mentions(data)


def reader_strings(language: str) -> dict[str, Any]:
    """The comment section's strings for a site language, from the comment server's catalogue."""
    from comments_server.site import reader_strings

    return reader_strings(language)


def development_app(config: SiteConfig, *, output_dir: Path, site_url: str) -> DevelopmentApp:
    """The comment server `blogengine serve` mounts, how many demo comments it imported, and the
    demo login of a sample site (one with a `[comments] seed`)."""
    from comments_server.site import ConfigError, StoreError, development_app

    seed = config.root / config.comments.seed if config.comments.seed else None
    try:
        return development_app(site_layer(config, output_dir=output_dir), site_url=site_url, seed=seed)
    except ConfigError as exc:
        raise CommentStoreError("; ".join(exc.problems)) from None
    except StoreError as exc:
        raise CommentStoreError(str(exc)) from None


def rebuild_on_comment(app: Flask, rebuild: Callable[[], None], build_seconds: float) -> Callable[[], None]:
    """Run `rebuild` soon after each change to the comments `app` stores (`blogengine serve`;
    a rebuild takes about `build_seconds`); returns the function that stops it."""
    from comments_server.site import publish_with

    return publish_with(app, rebuild, build_seconds)


def command_group() -> click.Group:
    """The `blogengine comments ...` commands, from the comment server."""
    from comments_server.site import command_group

    return command_group()


def send_webmention(config: SiteConfig, source: str, target: str) -> tuple[str, str]:
    """Send one Webmention from `source` to `target` ([webmention] allow_hosts exempts hosts from
    the private-address refusal); (result, detail) as comments_server.site.send_webmention says."""
    from comments_server.site import send_webmention

    return send_webmention(source, target, allow_hosts=config.webmention.allow_hosts)

"""The comment server's plugin hooks. They share the pluggy project name "blogengine" with the
generator's (blogengine/hookspecs.py), so one plugin module may implement both with the same
`hookimpl` marker; docs/plugins.md is generated from both modules."""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "blogengine"
hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def comment_about_to_be_stored(comment: Any, body_html: str,
                               settings: dict[str, Any]) -> tuple[str, str] | None:
    """A reader's comment passed every check and is about to be stored (author comments are not
    checked).

    `comment`: its validated fields (`thread`, `parent_id`, `author_name`, `author_email`,
    `author_url`, `body`), `body_html`: the sanitised HTML readers would see. Return None to let
    it through, or `("pending", reason)` to hold it for moderation, `("spam", reason)` to file it
    as spam; the reason is shown in the dashboard's moderation list. When several plugins answer,
    spam wins over pending. A plugin that raises holds the comment as pending ("plugin NAME
    failed"); the traceback goes to the server's log."""


@hookspec
def comment_published(comment: Any, settings: dict[str, Any]) -> None:
    """A comment was published: stored as published, approved from the dashboard, or published
    by its reader from a confirmation link.

    `comment`: the stored Comment (`id`, `thread`, `author_name`, `body`, `body_html`,
    `created_at`, ...). Return nothing; an exception is logged and changes nothing."""

"""Plugin hooks: every hook a blogengine plugin may implement, generator and comment server alike.

Plugins mark their functions with `hookimpl` (pluggy project "blogengine"). Each hook is called
once per enabled plugin that implements it; a plugin's function may take any subset of the
arguments below, by name. `settings` is always that plugin's own `[plugins.NAME]` table, checked
against the plugin's SETTINGS defaults. The docs page docs/plugins.md is generated from this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy

PROJECT = "blogengine"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# The comment server's hooks (comments_server/hookspecs.py) share the project name, so one
# plugin module may implement hooks of both sides with the same `hookimpl` marker.
COMMENT_HOOKS = ("comment_about_to_be_stored", "comment_published")


@hookspec
def plugin_inputs(root: Path, settings: dict[str, Any]) -> list[Path] | None:
    """Files the plugin reads besides its own source (a word list, a data file), so that an
    incremental build renders again when one of them changes.

    `root`: the site folder. Return a list of paths (relative ones are relative to `root`)."""


@hookspec
def config_loaded(config: Any, settings: dict[str, Any]) -> None:
    """The site configuration was read and checked, before anything is loaded.

    `config`: the SiteConfig (frozen). Return nothing; raise BlogError to stop the build with
    your own message."""


@hookspec
def markdown_setup(md: Any, config: Any, settings: dict[str, Any]) -> None:
    """The Markdown parser was made; add markdown-it rules or renderers to it.

    `md`: the markdown_it.MarkdownIt instance posts are parsed with (in every build worker),
    `config`: the SiteConfig. Return nothing: change `md` in place (`md.use(...)`,
    `md.inline.ruler.before(...)`, `md.add_render_rule(...)`)."""


@hookspec
def documents_parsed(documents: list[Any], config: Any,
                     settings: dict[str, Any]) -> list[Any] | None:
    """Every content file was parsed, before the site model is built.

    `documents`: the parsed Documents in source order (read them, do not change them),
    `config`: the SiteConfig. Return a list of BlogError (ContentError with a path and line) to
    report problems: they fail the build with the others; None or [] when all is well."""


@hookspec
def site_built(site: Any, settings: dict[str, Any]) -> None:
    """The site model (posts, pages, tags, listings, URLs) is complete, before rendering.

    `site`: the Site. Return nothing."""


@hookspec
def page_context(page: Any, site: Any,
                 settings: dict[str, Any]) -> dict[str, Any] | None:
    """A page is about to be rendered through its template.

    `page`: the Entry or Listing, `site`: the Site. Return a dict of extra template variables
    (names other than `page`), or None. They are the page's own: a shared fragment (a post's
    summary on the listings, see [Themes](themes.md)) does not see them, since it is rendered
    once for every page that shows it."""


@hookspec
def page_html(page: Any, html: str, settings: dict[str, Any]) -> str | None:
    """A page was rendered; a plugin may rewrite its HTML.

    `page`: the Entry or Listing, `html`: the page as rendered (after any plugin called before).
    Return the new HTML, or None to leave it as it is."""


@hookspec
def build_finished(report: Any, config: Any, settings: dict[str, Any]) -> None:
    """The build finished and the output folder holds the new site (also when nothing changed).

    `report`: the BuildReport (output_dir, files_written, pages_written, up_to_date, ...),
    `config`: the SiteConfig. Return nothing."""

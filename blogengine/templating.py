"""The Jinja environment a theme chain renders through (themes.py resolves the chain), and
the folder its compiled templates are kept in between builds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jinja2

from blogengine.config import SiteConfig
from blogengine.deps import RecordingEnvironment
from blogengine.shortcode_render import install as install_shortcodes
from blogengine.themes import Theme, template_dirs


# Compiled-template folders kept: one per set of settings built lately (with and without
# --drafts, say); older ones are removed.
COMPILED_KEPT = 4


def make_environment(config: SiteConfig, chain: list[Theme],
                     compiled: Path | None = None) -> RecordingEnvironment:
    """Jinja2 with autoescape and StrictUndefined; `theme:name.html` reaches one theme's copy.
    With `compiled`, templates compiled by an earlier build are loaded from that folder (Jinja
    checks each against its source) instead of compiled again: a third of a second per process."""
    search = jinja2.FileSystemLoader([str(d) for d in template_dirs(config, chain)])
    by_theme = jinja2.PrefixLoader(
        {t.name: jinja2.FileSystemLoader(str(t.templates)) for t in chain},
        delimiter=":")
    env = RecordingEnvironment(
        loader=jinja2.ChoiceLoader([by_theme, search]),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # One build sees one version of each template: no stat of its file on every use.
        auto_reload=False,
        bytecode_cache=None if compiled is None else jinja2.FileSystemBytecodeCache(str(compiled)),
    )
    install_shortcodes(env)   # before any template compiles: finalize is compiled in
    return env


def loaded_templates(env: jinja2.Environment) -> dict[str, str]:
    """Each template the environment has loaded (pages, bases, partials) -> the file it came from."""
    cache = env.cache or {}
    return {template.name: str(template.filename) for template in cache.values()
            if template.name is not None}


def compiled_templates(cache_dir: Path, fingerprint: str) -> Path | None:
    """The folder for templates compiled under this build's fingerprint (None if it cannot be
    made). Keyed on the fingerprint because compiling runs filters on constants (Jinja folds
    them) and filters read the settings; the least recently used folders beyond COMPILED_KEPT
    are removed."""
    parent = cache_dir / "templates"
    folder = parent / fingerprint[:24]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)   # used now
        others = sorted((p for p in parent.iterdir() if p != folder and p.is_dir()),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None
    for old in others[COMPILED_KEPT - 1:]:
        shutil.rmtree(old, ignore_errors=True)
    return folder

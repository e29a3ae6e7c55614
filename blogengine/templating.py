"""The Jinja environment a theme chain renders through (themes.py resolves the chain)."""

from __future__ import annotations

import jinja2

from blogengine.config import SiteConfig
from blogengine.deps import RecordingEnvironment
from blogengine.shortcode_render import install as install_shortcodes
from blogengine.themes import Theme, template_dirs


def make_environment(config: SiteConfig, chain: list[Theme]) -> RecordingEnvironment:
    """Jinja2 with autoescape and StrictUndefined; `theme:name.html` reaches one theme's copy."""
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
    )
    install_shortcodes(env)   # before any template compiles: finalize is compiled in
    return env


def loaded_templates(env: jinja2.Environment) -> dict[str, str]:
    """Each template the environment has loaded (pages, bases, partials) -> the file it came from."""
    cache = env.cache or {}
    return {template.name: str(template.filename) for template in cache.values()
            if template.name is not None}

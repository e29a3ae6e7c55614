"""Themes: resolve the chain site templates -> theme -> parents -> default (templating.py makes
the Jinja environment that reads them)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from blogengine.config import SiteConfig
from blogengine.errors import ThemeError

THEME_FILE = "theme.toml"
DEFAULT_THEME = "default"


@dataclass(frozen=True)
class Theme:
    name: str
    path: Path

    @property
    def templates(self) -> Path:
        return self.path / "templates"

    @property
    def static(self) -> Path:
        return self.path / "static"


def builtin_themes_dir() -> Path:
    """Themes shipped with blogengine: inside the installed package, or at the checkout's top."""
    packaged = Path(__file__).parent / "themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "themes"


def find_theme(name: str, site_root: Path) -> Theme:
    """A theme by name (the site's themes/ first, then the built-in ones) or by path."""
    if "/" in name or name.startswith("."):
        path = (site_root / name).resolve()
        candidates = [path]
    else:
        candidates = [site_root / "themes" / name, builtin_themes_dir() / name]
    for path in candidates:
        if (path / "templates").is_dir():
            return Theme(name=path.name if "/" in name else name, path=path)
    where = ", ".join(str(c) for c in candidates)
    raise ThemeError(f"theme {name!r} not found (looked in {where}; a theme is a folder "
                     "with a templates/ folder)")


def theme_chain(config: SiteConfig) -> list[Theme]:
    """The site's theme, the themes it extends in turn, and the default theme last."""
    chain: list[Theme] = []
    theme = find_theme(config.theme, config.root)
    while True:
        if any(t.path == theme.path for t in chain):
            raise ThemeError(f"theme {theme.name!r} extends itself through "
                             f"{' -> '.join(t.name for t in chain)}", path=theme.path / THEME_FILE)
        chain.append(theme)
        parent = _parent_name(theme)
        if parent is None:
            break
        theme = find_theme(parent, config.root)
    # The built-in default is always last, so a theme only needs the templates it changes.
    default = Theme(name=DEFAULT_THEME, path=builtin_themes_dir() / DEFAULT_THEME)
    if not any(t.path.resolve() == default.path.resolve() for t in chain):
        chain.append(default)
    return chain


def _parent_name(theme: Theme) -> str | None:
    settings = theme.path / THEME_FILE
    if not settings.is_file():
        return None
    try:
        data = tomllib.loads(settings.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(f"invalid theme settings: {exc}", path=settings) from None
    parent = data.get("extends")
    if parent is not None and not isinstance(parent, str):
        raise ThemeError(f"'extends' must be a theme name, got {parent!r}", path=settings)
    return parent


def template_dirs(config: SiteConfig, chain: list[Theme]) -> list[Path]:
    """Where templates are looked up, first match wins: the site's own templates/, then the chain."""
    dirs = [config.root / "templates"] if (config.root / "templates").is_dir() else []
    return dirs + [t.templates for t in chain]

"""Jekyll's _config.yml as an import needs it: where the source is, which files Jekyll leaves out
or lets in, which collections it publishes."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from blogengine.importers.plan import SourceError
from blogengine.importers.staticsite import load_data_file

# Jekyll's own default excludes, and the files of a site's repository that are its machinery
# rather than its content (Jekyll sites list these in `exclude:`; themes ship them).
NOT_CONTENT = (
    ".sass-cache", ".jekyll-cache", ".jekyll-metadata", "gemfiles", "Gemfile", "Gemfile.lock",
    "node_modules", "vendor", "script", "*.gemspec", "README", "README.*", "LICENSE", "LICENSE.*",
    "Rakefile", "package.json", "package-lock.json", "yarn.lock", "CNAME", "_config*.yml",
    "_config*.yaml", "_config*.toml",
)


@dataclass
class JekyllSettings:
    """What the importer reads from _config.yml (all of it kept in `config`)."""

    config: dict[str, Any]
    root: Path                                   # the folder holding _config.yml
    source: Path                                 # where Jekyll reads the site from
    exclude: tuple[str, ...] = NOT_CONTENT
    include: tuple[str, ...] = ()
    # label -> its settings; "posts" is there only when the config sets something for it
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    collections_dir: PurePosixPath = PurePosixPath(".")


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(str(v).strip().strip("/") for v in value if isinstance(v, (str, int)) and str(v).strip())


def read_settings(folder: Path) -> JekyllSettings:
    """The site's settings; a _config.yml that is only comments is an empty one."""
    config_file = next((folder / n for n in ("_config.yml", "_config.yaml")
                        if (folder / n).is_file()), None)
    config = load_data_file(config_file) if config_file else {}
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise SourceError("must be a mapping of settings (got a "
                          f"{type(config).__name__})", path=config_file)
    source = folder
    if str(config.get("source") or "").strip() not in ("", "."):
        source = (folder / str(config["source"]).strip()).resolve()
        if not source.is_dir() or not source.is_relative_to(folder.resolve()):
            raise SourceError(f"source: {config['source']!r} is not a folder inside the site "
                              "(a build step may make it: import the folder it is made from)",
                              path=config_file)
    collections: dict[str, dict[str, Any]] = {}
    raw = config.get("collections")
    if isinstance(raw, list):
        collections = {str(label): {} for label in raw}
    elif isinstance(raw, dict):
        collections = {str(label): value if isinstance(value, dict) else {}
                       for label, value in raw.items()}
    return JekyllSettings(
        config=config, root=folder, source=source,
        exclude=NOT_CONTENT + _names(config.get("exclude")),
        include=_names(config.get("include")), collections=collections,
        collections_dir=PurePosixPath(str(config.get("collections_dir") or ".").strip("/") or "."))


def _matches(rel: PurePosixPath, patterns: tuple[str, ...]) -> bool:
    text = str(rel)
    return any(fnmatch.fnmatchcase(text, p) or ("/" not in p and fnmatch.fnmatchcase(rel.name, p))
               for p in patterns)


def left_out(settings: JekyllSettings, rel: PurePosixPath) -> bool:
    """Whether Jekyll skips this file or folder (relative to the source) when it reads pages and
    static files: `include` lets in what `_`, `.` and `exclude` would leave out."""
    if _matches(rel, settings.include):
        return False
    name = rel.name
    return name.startswith(("_", ".", "#")) or name.endswith("~") \
        or _matches(rel, settings.exclude)

"""A build's inputs as stamps, and whether the last build still stands on them. Light on
purpose: an up-to-date build reads only this, the config and the cache (see start.py)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from blogengine import __version__
from blogengine.cache import RACY_NS, BuildCache
from blogengine.config import SiteConfig
from blogengine.load import FileStamp, ScannedContent
from blogengine.themes import Theme, template_dirs
from blogengine.write import folder_id

CACHE_FORMAT = 3   # 2: documents carry their images; 3: entries' text apart (deps.py)

# What the cache keeps of a finished build (a dict, as cache.py pickles it): the Inputs'
# fields, plus "output_id" (write.folder_id), "posts", "next_due"; and "objects", kept apart
# in the cache and added by BuildRun.with_objects when the build has work to do.
LastBuild = dict[str, Any]


def digest(*parts: Any) -> str:
    # repr, not JSON: several times faster, and as stable for the values the model holds.
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


@dataclass
class Inputs:
    """Every input of a build, as stamps: enough to see that nothing changed at all."""

    fingerprint: str
    scan_ns: int                     # when the scan started (stamps newer than this are racy)
    sources: dict[str, FileStamp]
    files: dict[str, FileStamp]      # assets, templates, theme files and the config file
    comments: str


def fingerprint(config: SiteConfig, chain: list[Theme], *, drafts: bool, future: bool) -> str:
    """What every output depends on: engine, settings, options and the theme chain."""
    # Every setting but where to deploy: that does not change a byte of the site.
    settings = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
                if f.name != "deploy"}
    return digest(__version__, CACHE_FORMAT, repr(settings), drafts, future,
                  [str(theme.path) for theme in chain])


def parse_fingerprint(config: SiteConfig, chain: list[Theme]) -> str:
    """What a parsed document depends on besides its source's bytes: the engine and the few
    settings parsing reads (a new title or theme colour does not parse a post again)."""
    return digest(__version__, CACHE_FORMAT, str(config.root), config.escape_html,
                  config.timezone, config.max_document_kib, config.markdown_accelerator,
                  repr(config.images), repr(config.plugins), [str(theme.path) for theme in chain])


def input_files(config: SiteConfig, chain: list[Theme], scanned: ScannedContent
                ) -> dict[str, FileStamp]:
    """Stamps of every input besides the sources: assets, templates, theme files, the config."""
    files = {str(asset.path): FileStamp.of(asset.path) for asset in scanned.assets}
    folders = template_dirs(config, chain) + [theme.static for theme in chain]
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    files[str(path)] = FileStamp.of(path)
    files[str(config.config_path)] = FileStamp.of(config.config_path)
    return files


def read_last_build(cache: BuildCache, inputs: Inputs, out_dir: Path) -> LastBuild | None:
    """The last build's state, if it can be built upon: same fingerprint, same output folder."""
    try:
        state = cache.get_state("build")
    except Exception:  # a broken cache is no cache: start it again
        cache.reset()
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != inputs.fingerprint:
        return None
    try:
        if folder_id(out_dir) != state.get("output_id"):
            return None   # the output folder was replaced or removed since
    except OSError:
        return None
    return state


def unchanged(previous: LastBuild, inputs: Inputs, now: datetime) -> bool:
    """Nothing to do: same inputs, no racy stamps, no future post come due, same comments."""
    if previous["sources"] != inputs.sources or previous["files"] != inputs.files:
        return False
    if not inputs.comments or previous["comments"] != inputs.comments:
        return False
    due = previous.get("next_due")
    if due is not None and now >= due:
        return False
    scan = previous["scan_ns"]
    return all(stamp.mtime_ns < scan - RACY_NS for stamp in inputs.sources.values())


def search_pending_mark(out_dir: Path) -> Path:
    """The file that says a search index was started for the pages in `out_dir` and never
    published (search.py makes and removes it): while it is there, the last build does not
    stand, however unchanged its inputs."""
    return out_dir.parent / f".{out_dir.name}.pagefind-pending"

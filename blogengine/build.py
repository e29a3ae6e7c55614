"""The build: load -> parse -> model -> render -> write, top to bottom."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from blogengine.config import SiteConfig
from blogengine.errors import BlogError, BuildFailed
from blogengine.load import load_sources
from blogengine.markup import make_markdown
from blogengine.conversations import bake_conversations
from blogengine.model import Site, build_site
from blogengine.parse import Document, parse_document
from blogengine.render import Output, render_site
from blogengine.themes import loaded_templates, make_environment, theme_chain
from blogengine.write import check_output_dir, write_outputs

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BuildOptions:
    output_dir: Path | None = None   # default: public/ beside content/
    drafts: bool = False
    future: bool = False
    now: datetime | None = None      # the clock, for future-dated posts; tests pin it
    explain_templates: bool = False  # report which file each template came from


@dataclass
class BuildReport:
    output_dir: Path
    files_written: int
    pages_written: int
    posts: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    template_sources: dict[str, str] = field(default_factory=dict)


def default_output_dir(config: SiteConfig) -> Path:
    return config.root / "public"


def build(config: SiteConfig, options: BuildOptions = BuildOptions(),
          progress: Progress | None = None) -> BuildReport:
    """Build the whole site into the output folder, or raise BuildFailed and leave it untouched."""
    started = time.perf_counter()
    out_dir = options.output_dir or default_output_dir(config)
    check_output_dir(out_dir, config.root)
    chain = theme_chain(config)
    env = make_environment(config, chain)

    loaded = load_sources(config.content_dir)
    errors: list[BlogError] = list(loaded.errors)
    md = make_markdown(allow_html=not config.escape_html)
    documents: list[Document] = []
    for source in loaded.sources:
        try:
            documents.append(parse_document(source, md, config.tz))
        except BlogError as exc:
            errors.append(exc)
    try:
        site = build_site(documents, config, drafts=options.drafts, future=options.future,
                          now=options.now)
    except BuildFailed as exc:
        raise BuildFailed(errors + exc.errors) from None
    if errors:
        raise BuildFailed(errors)

    warnings = _bake_comments(site, config)
    pages = len(site.entries) + len(site.listings)
    outputs = render_site(site, env, chain, loaded.assets)
    files = write_outputs(_counting(outputs, pages, progress), out_dir)
    report = BuildReport(output_dir=out_dir, files_written=files, pages_written=pages,
                         posts=len(site.posts), seconds=time.perf_counter() - started,
                         warnings=warnings)
    if options.explain_templates:
        report.template_sources = loaded_templates(env)
    return report


def _bake_comments(site: Site, config: SiteConfig) -> list[str]:
    """Give every entry with comments on its published conversation; warn when unreadable."""
    open_entries = [entry for entry in site.entries if entry.comments]
    baked = bake_conversations(config, [entry.thread for entry in open_entries])
    for entry in open_entries:
        entry.conversation = baked.by_thread.get(entry.thread)
    return [baked.warning] if baked.warning else []


def _counting(outputs: Iterator[Output], pages: int, progress: Progress | None) -> Iterator[Output]:
    for done, output in enumerate(outputs, start=1):
        if progress is not None and done <= pages:
            progress(done, pages)
        yield output


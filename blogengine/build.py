"""The build: load -> parse -> model -> render -> write, top to bottom, re-doing only what
changed since the last build (see cache.py and deps.py)."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from markdown_it import MarkdownIt

from blogengine import __version__, parallel
from blogengine.cache import RACY_NS, BuildCache, OutputRecord
from blogengine.config import SiteConfig
from blogengine.conversations import bake_conversations, conversations_version
from blogengine.deps import Digests, RecordingEnvironment, digest, object_digests, object_id
from blogengine.errors import BlogError, BuildFailed, ContentError
from blogengine.load import FileStamp, ScannedContent, read_source, scan_content
from blogengine.markup import make_markdown
from blogengine.model import Entry, Listing, Site, build_site, output_path
from blogengine.parse import Document, parse_document
from blogengine.render import (Output, RenderedSlice, data_outputs,
                               prepare_environment, render_pages, site_pages, unique_errors)
from blogengine.themes import (Theme, loaded_templates, make_environment, template_dirs,
                               theme_chain)
from blogengine.write import Staging, check_output_dir, check_paths

Progress = Callable[[int, int], None]
# Below these counts a stage runs in the main process: forking workers would cost more.
PARALLEL_SOURCES = 200
PARALLEL_PAGES = 300
CACHE_FORMAT = 1


@dataclass(frozen=True)
class BuildOptions:
    output_dir: Path | None = None   # default: public/ beside content/
    drafts: bool = False
    future: bool = False
    now: datetime | None = None      # the clock, for future-dated posts; tests pin it
    explain_templates: bool = False  # report which file each template came from
    jobs: int | None = None          # worker processes; None: one per CPU
    incremental: bool = True         # build on the last build (False: from scratch; the cache
                                     # is then written anew)


@dataclass
class BuildReport:
    output_dir: Path
    files_written: int
    pages_written: int
    posts: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    template_sources: dict[str, str] = field(default_factory=dict)
    pages_rendered: int = 0
    up_to_date: bool = False


def default_output_dir(config: SiteConfig) -> Path:
    return config.root / "public"


@dataclass
class _Inputs:
    """Every input of a build, as stamps: enough to see that nothing changed at all."""

    fingerprint: str
    scan_ns: int                     # when the scan started (stamps newer than this are racy)
    sources: dict[str, FileStamp]
    files: dict[str, FileStamp]      # assets, templates, theme files and the config file
    comments: str


def build(config: SiteConfig, options: BuildOptions = BuildOptions(),
          progress: Progress | None = None) -> BuildReport:
    """Build the site into the output folder, or raise BuildFailed and leave it untouched."""
    started = time.perf_counter()
    out_dir = options.output_dir or default_output_dir(config)
    check_output_dir(out_dir, config.root)
    jobs = parallel.worker_count(options.jobs)
    chain = theme_chain(config)
    env = make_environment(config, chain)
    now = options.now or datetime.now(config.tz)

    scan_ns = time.time_ns()
    scanned = scan_content(config.content_dir)
    inputs = _Inputs(fingerprint=_fingerprint(config, options, chain), scan_ns=scan_ns,
                     sources={str(rel): stamp for _path, rel, stamp in scanned.markdown},
                     files=_input_files(config, chain, scanned), comments=_comments(config))
    cache = BuildCache.for_output(config.root, out_dir)
    try:
        previous = _previous_state(cache, inputs, out_dir, options)
        if previous is not None and _unchanged(previous, inputs, now):
            return BuildReport(output_dir=out_dir, files_written=0, pages_written=0,
                               posts=previous["posts"], seconds=time.perf_counter() - started,
                               up_to_date=True)
        return _build(config, options, progress, out_dir, jobs, chain, env, now, scanned, inputs,
                      cache, previous, started)
    finally:
        cache.close()


def _build(config: SiteConfig, options: BuildOptions, progress: Progress | None, out_dir: Path,
           jobs: int, chain: list[Theme], env: RecordingEnvironment, now: datetime,
           scanned: ScannedContent, inputs: _Inputs, cache: BuildCache,
           previous: dict[str, Any] | None, started: float) -> BuildReport:
    errors: list[BlogError] = list(scanned.errors)
    documents = _documents(scanned, config, jobs, cache, previous, errors)
    try:
        site = build_site(documents, config, drafts=options.drafts, future=options.future,
                          now=now)
    except BuildFailed as exc:
        raise BuildFailed(errors + exc.errors) from None
    if errors:
        raise BuildFailed(errors)

    warnings = _bake_comments(site, config)
    pages = site_pages(site)
    objects = object_digests(site)
    extras = data_outputs(site, chain, scanned.assets)
    check_paths([(output_path(page.url), _origin(page)) for page in pages]
                + [(out.path, str(out.copy_from or out.url)) for out in extras])
    prepare_environment(env, site)
    digests = Digests(site, env)
    plan = _plan(pages, extras, cache, objects, previous, digests, inputs.fingerprint)
    staging = Staging(out_dir, patch=plan.patch)
    try:
        cache.clear_pending()
        extras_written = 0

        def write_extras() -> None:
            """Feeds, sitemap and the other files: made while the workers render the pages."""
            nonlocal extras_written
            for out in extras:
                if out.path not in plan.extras:
                    continue
                if out.copy_from is not None:
                    staging.copy(out.path, out.copy_from)
                    extras_written += 1
                else:
                    assert out.make is not None
                    extras_written += staging.write(out.path, out.make())

        rendered = _render(plan.render, pages, env, staging, jobs, progress, digests=digests,
                           fingerprint=inputs.fingerprint, cache=cache, meanwhile=write_extras)
        changed: dict[str, OutputRecord] = dict(rendered.outputs)   # what workers could not store
        changed.update({path: OutputRecord(plan.extra_keys[path]) for path in plan.extras})
        written = rendered.written + extras_written
        current = {output_path(page.url) for page in pages} | {out.path for out in extras}
        removed = plan.previous_outputs - current
        for rel in removed:
            staging.remove(rel)
        written += len(removed)
        staging.commit(candidates=[output_path(pages[i].url) for i in plan.render] + sorted(plan.extras))
    except BaseException:
        staging.abort()
        raise
    # Templates are objects too: remember the digest of each one any page has used.
    for oid in plan.old_objects:
        if oid.startswith("template\t"):
            objects[oid] = digests.of(("template", oid.split("\t", 1)[1], ""))
    for name in rendered.templates:
        objects[object_id("template", name)] = digests.of(("template", name, ""))
    _save(cache, inputs, out_dir, site, documents, changed, removed, not plan.patch, objects,
          now, options)
    report = BuildReport(output_dir=out_dir, files_written=written, pages_written=len(pages),
                         posts=len(site.posts), seconds=time.perf_counter() - started,
                         warnings=warnings, pages_rendered=len(plan.render))
    if options.explain_templates:
        report.template_sources = loaded_templates(env)
    return report


# Past this share of changed pages, a fresh folder swapped in beats patching the old one.
PATCH_LIMIT = 0.3


@dataclass
class _Plan:
    """What this build must write: pages to render, other files to make, what stays."""

    render: list[int]
    extras: set[str]
    extra_keys: dict[str, str]
    patch: bool
    previous_outputs: set[str]
    old_objects: dict[str, str]


def _plan(pages: list[Entry | Listing], extras: list[Output], cache: BuildCache,
          objects: dict[str, str], previous: dict[str, Any] | None, digests: Digests,
          fingerprint: str) -> _Plan:
    """Compare with the last build. A page is kept when no object it read has changed; for a
    page that read a changed object, its inputs are compared attribute by attribute."""
    old_objects: dict[str, str] = previous["objects"] if previous is not None else {}
    old_outputs = cache.outputs() if previous is not None else {}
    changed = {oid for oid in objects.keys() | old_objects.keys()
               if not oid.startswith("template\t") and objects.get(oid) != old_objects.get(oid)}
    changed |= {oid for oid in old_objects if oid.startswith("template\t")
                and digests.of(("template", oid.split("\t", 1)[1], "")) != old_objects[oid]}
    render: list[int] = []
    maybe: dict[str, int] = {}
    for index, page in enumerate(pages):
        rel = output_path(page.url)
        old = old_outputs.get(rel)
        own = object_id("entry" if isinstance(page, Entry) else "listing", page.url)
        if old is None or old[1] is None or own in changed:
            render.append(index)     # new, or its own content changed: no need to look closer
        elif not changed.isdisjoint(old[1].split("\n")):
            maybe[rel] = index
    read = cache.inputs(maybe) if maybe else {}
    for rel, index in maybe.items():
        inputs = read.get(rel)
        if inputs is None or digests.key(inputs, fingerprint) != old_outputs[rel][0]:
            render.append(index)
    render.sort()
    extra_keys = {out.path: digest(fingerprint, out.key) for out in extras}
    stale_extras = {out.path for out in extras
                    if old_outputs.get(out.path, ("", None))[0] != extra_keys[out.path]}
    total = len(pages) + len(extras)
    patch = previous is not None and len(render) + len(stale_extras) <= PATCH_LIMIT * total
    if not patch:   # a fresh folder needs every file
        render, stale_extras = list(range(len(pages))), {out.path for out in extras}
    return _Plan(render=render, extras=stale_extras, extra_keys=extra_keys, patch=patch,
                 previous_outputs=set(old_outputs), old_objects=old_objects)


def _fingerprint(config: SiteConfig, options: BuildOptions, chain: list[Theme]) -> str:
    """What every output depends on: engine, settings, options and the theme chain."""
    # Every setting but where to deploy: that does not change a byte of the site.
    settings = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
                if f.name != "deploy"}
    return digest(__version__, CACHE_FORMAT, repr(settings), options.drafts, options.future,
                  [str(theme.path) for theme in chain])


def _input_files(config: SiteConfig, chain: list[Theme], scanned: ScannedContent
                 ) -> dict[str, FileStamp]:
    files = {str(asset.path): FileStamp.of(asset.path) for asset in scanned.assets}
    folders = template_dirs(config, chain) + [theme.static for theme in chain]
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    files[str(path)] = FileStamp.of(path)
    files[str(config.config_path)] = FileStamp.of(config.config_path)
    return files


def _comments(config: SiteConfig) -> str:
    """A cheap version of the comments the pages would carry ("" when they cannot be told)."""
    if not config.comments.enabled:
        return "off"
    return conversations_version(config)


def _previous_state(cache: BuildCache, inputs: _Inputs, out_dir: Path,
                    options: BuildOptions) -> dict[str, Any] | None:
    """The last build's state, if it can be built upon: same fingerprint, same output folder."""
    if not options.incremental or options.explain_templates:
        return None
    try:
        state = cache.get_state("build")
    except Exception:  # a broken cache is no cache: start it again
        cache.reset()
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != inputs.fingerprint:
        return None
    try:
        if out_dir.stat().st_ino != state.get("output_inode"):
            return None   # the output folder was replaced or removed since
    except OSError:
        return None
    return state


def _unchanged(previous: dict[str, Any], inputs: _Inputs, now: datetime) -> bool:
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


def _documents(scanned: ScannedContent, config: SiteConfig, jobs: int, cache: BuildCache,
               previous: dict[str, Any] | None, errors: list[BlogError]) -> list[Document]:
    """Parse what changed, take the rest from the cache; documents in source order."""
    known = cache.sources() if previous is not None else {}
    scan = previous["scan_ns"] if previous is not None else 0
    reuse: set[str] = set()
    parse: list[tuple[Path, PurePosixPath, FileStamp]] = []
    for path, rel, stamp in scanned.markdown:
        cached = known.get(str(rel))
        if cached is not None and cached[0] == stamp and stamp.mtime_ns < scan - RACY_NS:
            reuse.add(str(rel))
        else:
            parse.append((path, rel, stamp))
    by_rel = {doc.source.rel: doc for doc in parse_sources(parse, config, jobs, errors, cache)}
    by_rel.update(cache.documents(reuse) if reuse else {})
    return [by_rel[str(rel)] for _path, rel, _stamp in scanned.markdown if str(rel) in by_rel]


def parse_sources(sources: Sequence[tuple[Path, PurePosixPath, FileStamp]], config: SiteConfig,
                  jobs: int, errors: list[BlogError], cache: BuildCache) -> list[Document]:
    """Read and parse sources, in workers when there are many; documents in source order.

    The workers store each document in the build cache themselves, and hand back only what
    the model needs: bodies are read back from the cache by the pages that show them."""
    found: dict[int, Document] = {}
    numbered = list(enumerate(sources))
    for _count, results in parallel.run_chunks(_parse_slice, numbered, jobs=jobs,
                                               minimum=PARALLEL_SOURCES, config=config,
                                               cache=cache):
        for position, result in results:
            if isinstance(result, Document):
                if result.body is None:
                    result = dataclasses.replace(result,
                                                 loader=functools.partial(cache.html, result.source.rel))
                found[position] = result
            else:
                errors.append(result)
    return [found[position] for position in sorted(found)]


def _parse_slice(items: Sequence[tuple[int, tuple[Path, PurePosixPath, FileStamp]]]
                 ) -> list[tuple[int, Document | BlogError]]:
    config: SiteConfig = parallel.shared["config"]
    cache: BuildCache = parallel.shared["cache"]
    md = _markdown(not config.escape_html)
    results: list[tuple[int, Document | BlogError]] = []
    parsed: list[tuple[Document, FileStamp]] = []
    for position, (path, rel, stamp) in items:
        problems: list[ContentError] = []
        source = read_source(path, rel, problems)
        if source is None:
            results.extend((position, problem) for problem in problems)
            continue
        try:
            document = parse_document(source, md, config.tz)
        except BlogError as exc:
            results.append((position, exc))
            continue
        parsed.append((document, stamp))
        results.append((position, document))
    try:
        cache.put_documents(parsed)
    except Exception:  # no cache (read-only, locked): the bodies travel back instead
        return results
    return [(position, dataclasses.replace(result, body=None) if isinstance(result, Document)
             else result) for position, result in results]


@lru_cache(maxsize=2)
def _markdown(allow_html: bool) -> MarkdownIt:
    return make_markdown(allow_html=allow_html)


def _render(indexes: list[int], pages: list[Entry | Listing], env: RecordingEnvironment,
            staging: Staging, jobs: int, progress: Progress | None, *, digests: Digests,
            fingerprint: str, cache: BuildCache,
            meanwhile: Callable[[], None] | None = None) -> RenderedSlice:
    """Render the given pages into staging (in workers when there are many), recording what
    each one read; template errors are raised together."""
    done = 0
    total = RenderedSlice(templates=set(), written=0, errors=[], outputs={})
    for count, part in parallel.run_chunks(render_pages, indexes, jobs=jobs,
                                           minimum=PARALLEL_PAGES, meanwhile=meanwhile,
                                           env=env, pages=pages,
                                           staging=staging, digests=digests,
                                           fingerprint=fingerprint, cache=cache):
        total.outputs.update(part.outputs)
        total.templates.update(part.templates)
        total.errors.extend(part.errors)
        total = dataclasses.replace(total, written=total.written + part.written)
        done += count
        if progress is not None:
            progress(done, len(indexes))
    if total.errors:
        raise BuildFailed(unique_errors(total.errors))
    return total


def _save(cache: BuildCache, inputs: _Inputs, out_dir: Path, site: Site,
          documents: list[Document], changed: dict[str, OutputRecord], removed: set[str],
          full: bool,
          objects: dict[str, str], now: datetime, options: BuildOptions) -> None:
    """Remember this build; a cache that cannot be written only costs the next build time."""
    excluded = [doc.meta.date for doc in documents if doc.kind == "post" and doc.meta.date
                and doc.meta.date > now and not options.future]
    state = {"fingerprint": inputs.fingerprint, "sources": inputs.sources, "files": inputs.files,
             "comments": inputs.comments, "scan_ns": inputs.scan_ns,
             "output_inode": out_dir.stat().st_ino, "posts": len(site.posts),
             "next_due": min(excluded, default=None), "objects": objects}
    try:
        cache.save(state={"build": state},
                   kept_sources=[doc.source.rel for doc in documents], changed=changed,
                   removed=removed, full=full)
    except Exception:  # a full disk or a locked cache: the site itself is already written
        cache.reset()


def _origin(page: Entry | Listing) -> str:
    return page.source if isinstance(page, Entry) else f"the {page.kind} page"


def _bake_comments(site: Site, config: SiteConfig) -> list[str]:
    """Give every entry with comments on its published conversation; warn when unreadable."""
    open_entries = [entry for entry in site.entries if entry.comments]
    baked = bake_conversations(config, [entry.thread for entry in open_entries])
    for entry in open_entries:
        entry.conversation = baked.by_thread.get(entry.thread)
    return [baked.warning] if baked.warning else []

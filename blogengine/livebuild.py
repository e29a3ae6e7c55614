"""`serve`'s builds: the site kept in memory between rebuilds. A saved post re-parses that one
file (the watcher says which); the model is kept when only bodies changed (else placed again
from the documents kept); only the pages that read what changed are rendered; and the reload
goes out before the bookkeeping (build cache, link check; the search index waits for a pause,
serve.py). Templates, themes, assets and the config take a whole build, as `blogengine build`
makes it (build.py). Every stage is BuildRun's, fed from memory."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from blogengine.build import BuildOptions, BuildReport, BuildRun, _Outputs, _Written
from blogengine.cache import CACHE_DIR
from blogengine.cards import CardFile
from blogengine.check import CheckResult, PageIndex, check_pages
from blogengine.config import SiteConfig
from blogengine.comments import conversations_version
from blogengine.conversations import BakedConversations
from blogengine.deps import Digests, RecordingEnvironment, entry_objects
from blogengine.errors import BlogError
from blogengine.load import MARKDOWN_SUFFIXES, FileStamp, ScannedContent, scan_content
from blogengine.keptmodel import swap_bodies
from blogengine.locate import CheckInputs
from blogengine.model import Entry, Site, output_path
from blogengine.pagefacts import PageStamp
from blogengine.parse import Document
from blogengine.plan import plan_outputs
from blogengine.prescan import OutputListing
from blogengine.pluginhost import PluginSet
from blogengine.render import Output, data_outputs, prepare_environment, site_pages
from blogengine.search import EarlyPart, IndexJob, index_needed, remove_index, start_index
from blogengine.stamps import Inputs, LastBuild
from blogengine.themes import Theme, template_dirs
from blogengine.write import folder_id, output_files


@dataclass(frozen=True)
class Kept:
    """What a finished build leaves for the next one in the same process."""

    config: SiteConfig
    chain: list[Theme]
    env: RecordingEnvironment          # its compiled templates stay compiled
    plugins: PluginSet
    scanned: ScannedContent
    inputs: Inputs
    documents: dict[str, Document]     # by path under content/
    state: LastBuild                   # as saved in the build cache
    pages: PageIndex                   # the link check's index of every page (ids, no links)
    conversations: tuple[dict[str, str], BakedConversations] | None   # (bylines, baked)
    site: Site | None = None           # the model, its objects' digests and the cards
    objects: dict[str, str] = dataclasses.field(default_factory=dict)
    cards: list[Output] = dataclasses.field(default_factory=list)
    files: set[str] | None = None      # every file in the output folder, when known
    digests: Digests | None = None     # the inputs' digests computed for `site`


class LiveBuild:
    """The serving process's builder: each build starts from the last good one's Kept."""

    def __init__(self) -> None:
        self.kept: Kept | None = None
        self.unindexed = 0   # pages written since the search index was last started

    def comments_changed(self, config: SiteConfig) -> bool:
        """Whether the published comments may differ from those the kept build baked in."""
        return self.kept is not None and conversations_version(config) != self.kept.inputs.comments

    def start_index(self, config: SiteConfig, out_dir: Path,
                    stopped: Callable[[], bool] = lambda: False) -> IndexJob | None:
        """Start the search index of the pages built so far, when they changed since it was
        last started (or it is missing: a stopped or failed index leaves none)."""
        if not config.search.enabled:
            remove_index(out_dir, config.root / CACHE_DIR)
            return None
        if not index_needed(out_dir, self.unindexed, config.root / CACHE_DIR,
                            config.search.part_pages):
            return None
        job = start_index(out_dir, config.root / CACHE_DIR, stopped, config.search.part_pages)
        self.unindexed = 0
        return job

    def build(self, config: SiteConfig, options: BuildOptions, changes: Iterable[str] | None,
              published: Callable[[], None] = lambda: None) -> BuildReport:
        """Build into options.output_dir; `changes`: the files changed since the last build
        (None: none, only the comments may have); `published` is called as soon as the
        changed pages are in place. Raises BuildFailed or BlogError as build() does."""
        changed = {os.path.abspath(path) for path in changes or ()}
        kept = self.kept if self._patchable(config, options, changed) else None
        run = LiveRun(config, options, kept, changed, published)
        try:
            report = run.run()
        except BaseException:
            if run.published:   # the folder moved on without its state: start again
                self.kept = None
            raise
        self.kept = run.leaves
        self.unindexed += run.pages_written
        return report

    def _patchable(self, config: SiteConfig, options: BuildOptions, changed: set[str]) -> bool:
        """Whether only Markdown sources changed since a kept build of the same settings."""
        kept = self.kept
        if kept is None or kept.config != config:
            return False
        content = os.path.abspath(config.content_dir) + os.sep
        if not all(path.startswith(content) and path.lower().endswith(MARKDOWN_SUFFIXES)
                   for path in changed):
            return False
        try:   # the folder replaced or removed behind our back: its state is gone
            return options.output_dir is not None and \
                folder_id(options.output_dir) == kept.state.get("output_id")
        except OSError:
            return False


class LiveRun(BuildRun):
    """One build of `serve`: BuildRun's stages, fed from a Kept when there is one."""

    keeps_model = False   # it keeps its Kept in memory: no file written per save

    def __init__(self, config: SiteConfig, options: BuildOptions, kept: Kept | None,
                 changed: set[str], published: Callable[[], None]) -> None:
        self.kept = kept
        self.changed = changed
        self.on_published = published
        self.published = False
        self.leaves: Kept | None = None
        self.baked: tuple[dict[str, str], BakedConversations] | None = None
        self.fresh: dict[str, Document] = {}   # the documents parsed in this build
        self.outputs: _Outputs | None = None
        self.files: set[str] | None = None       # every file in the output folder, when known
        self.pages_written = 0
        super().__init__(config, options, None)
        if kept is not None:   # the same settings: the compiled templates still hold
            self.chain, self.env, self.plugins = kept.chain, kept.env, kept.plugins

    def stands(self, previous: LastBuild) -> bool:
        return False   # execute() tells, once it has the documents to keep

    def execute(self, previous: LastBuild | None) -> BuildReport:
        """BuildRun.execute's stages, with the reload before saving, checking and indexing."""
        previous = self.with_objects(previous)
        documents, errors = self.parse(previous)
        if self.kept is None and previous is not None and not errors \
                and super().stands(previous):
            return self._keep_as_it_is(previous, documents)
        errors.extend(self.plugins.problems(documents))
        site = self.model(documents, errors)
        self.plugins.run("site_built", site=site)
        warnings = self.bake_comments(site)
        outputs = self.outputs = self.plan(site, previous)
        written = self.render_and_write(outputs)
        self.published = True
        self.on_published()
        indexing = self.index(written)
        try:
            checked = self.check(site, outputs, previous, stamps=written.stamps)
            self.save(site, documents, outputs, written, checked)
        except BaseException:
            if indexing is not None:
                indexing.cancel()
            raise
        report = self.report(site, documents, outputs, written, warnings, checked)
        report.indexing = indexing
        self._leave(documents, checked.index)
        return report

    def _keep_as_it_is(self, previous: LastBuild, documents: list[Document]) -> BuildReport:
        """The folder is up to date (serve started again): keep the documents read back."""
        try:
            pages = self.cache.get_dict_state("pages")
        except Exception:  # a broken cache only costs reading every page on the next check
            pages = None
        self._leave(documents, pages.current if pages is not None else {}, previous)
        return self.up_to_date(previous)

    def _leave(self, documents: list[Document], pages: PageIndex,
               state: LastBuild | None = None) -> None:
        """Keep this build for the next, with its state as saved (none when it could not be)."""
        if state is None:
            try:
                state = self.with_objects(self.cache.get_state("build"))
            except Exception:
                state = None
        if not isinstance(state, dict) or self.options.explain_templates:
            return
        outputs = self.outputs
        self.leaves = Kept(config=self.config, chain=self.chain, env=self.env,
                           plugins=self.plugins, scanned=self.scanned, inputs=self.inputs,
                           documents={doc.source.rel: doc for doc in documents}, state=state,
                           pages=pages, conversations=self.baked,
                           site=outputs.digests.site if outputs is not None else None,
                           objects=outputs.objects if outputs is not None else {},
                           cards=[out for out in outputs.extras if isinstance(out.make, CardFile)]
                           if outputs is not None else [], files=self.files,
                           digests=outputs.digests if outputs is not None else None)

    def index(self, written: _Written, listing: OutputListing | None = None,
              early: EarlyPart | None = None) -> IndexJob | None:
        """Not here: serve starts the index when the saving pauses (LiveBuild.start_index);
        (serve keeps no model on disk, so no part is started early: index_early)."""
        if early is not None:
            early.discard()
        self.pages_written = written.pages
        return None

    def load(self) -> tuple[ScannedContent, Inputs]:
        """With a Kept: the kept scan with the changed sources stat-ed again (content/ walked
        again only when a source is new or gone)."""
        kept = self.kept
        if kept is None:
            return super().load()
        scan_ns = time.time_ns()
        scanned = self._rescan(kept.scanned)
        inputs = dataclasses.replace(
            kept.inputs, scan_ns=scan_ns, comments=self.comments_version(),
            sources={rel: stamp for _path, rel, stamp in scanned.markdown})
        return scanned, inputs

    def _rescan(self, scanned: ScannedContent) -> ScannedContent:
        known = {rel: n for n, (_path, rel, _stamp) in enumerate(scanned.markdown)}
        markdown = list(scanned.markdown)
        for changed in self.changed_sources():
            n = known.get(changed)
            if n is None:
                return scan_content(self.config.content_dir)
            path, rel, _stamp = markdown[n]
            try:
                markdown[n] = (path, rel, FileStamp.of(path))
            except OSError:   # gone
                return scan_content(self.config.content_dir)
        return dataclasses.replace(scanned, markdown=markdown)

    def changed_sources(self) -> set[str]:
        """The changed files as paths under content/ ("posts/a.md")."""
        content = os.path.abspath(self.config.content_dir)
        return {os.path.relpath(path, content).replace(os.sep, "/") for path in self.changed}

    def last_build(self) -> LastBuild | None:
        return self.kept.state if self.kept is not None else super().last_build()

    def parse(self, previous: LastBuild | None) -> tuple[list[Document], list[BlogError]]:
        """With a Kept: parse the changed sources and those stamped otherwise than when kept;
        every other document is the one kept."""
        kept = self.kept
        if kept is None:
            return super().parse(previous)
        stamps = kept.inputs.sources
        changed = self.changed_sources()
        again = [(path, rel, stamp) for path, rel, stamp in self.scanned.markdown
                 if stamps.get(rel) != stamp or rel not in kept.documents
                 or rel in changed]
        errors: list[BlogError] = list(self.scanned.errors)
        by_rel = dict(kept.documents)
        self.fresh = {doc.source.rel: doc for doc in self.parse_sources(again, errors)}
        by_rel.update(self.fresh)
        documents = [by_rel[rel] for _path, rel, _stamp in self.scanned.markdown
                     if rel in by_rel]
        return documents, errors

    def model(self, documents: list[Document], errors: list[BlogError]) -> Site:
        """With a Kept whose model still holds: that model, the fresh documents swapped in."""
        site = self._same_site(documents, errors)
        return site if site is not None else super().model(documents, errors)

    def _same_site(self, documents: list[Document], errors: list[BlogError]) -> Site | None:
        """The kept model, when only bodies changed: the same documents, each with the same
        front matter, kind and images, the same comments, and no post come due since."""
        kept = self.kept
        if kept is None or kept.site is None or errors or not self.inputs.comments \
                or self.inputs.comments != kept.inputs.comments \
                or len(documents) != len(kept.documents):
            return None
        due = kept.state.get("next_due")
        if due is not None and self.now >= due:
            return None
        swapped = swap_bodies(kept.site, kept.documents, self.fresh.values())
        if swapped is None:
            return None
        self.swapped = swapped
        return kept.site

    def plan(self, site: Site, previous: LastBuild | None) -> _Outputs:
        """With the kept model: its objects' digests but the swapped entries', its cards (they
        show front matter only), the other files made again."""
        kept = self.kept
        if kept is None or site is not kept.site:
            return super().plan(site, previous)
        objects = dict(kept.objects)
        for entry in self.swapped:
            objects.update(entry_objects(entry))
        pages = site_pages(site)
        extras = data_outputs(site, self.chain, self.scanned.assets, objects, self.env,
                              self.content_caches) + kept.cards
        prepare_environment(self.env, site)
        digests = kept.digests if kept.digests is not None else Digests(site, self.env)
        digests.forget(entry.url for entry in self.swapped)
        plan = plan_outputs(pages, extras, self.cache, objects, previous, digests,
                            self.inputs.fingerprint)
        return _Outputs(pages=pages, extras=extras, objects=objects, digests=digests, plan=plan)

    def conversations(self, bylines: dict[str, str]) -> BakedConversations:
        """The kept conversations while the comments' version and the threads stay the same."""
        kept = self.kept
        if kept is not None and kept.conversations is not None and self.inputs.comments \
                and self.inputs.comments == kept.inputs.comments \
                and kept.conversations[0] == bylines:
            baked = kept.conversations[1]
        else:
            baked = super().conversations(bylines)
        self.baked = (bylines, baked)
        return baked

    def check(self, site: Site, outputs: _Outputs, previous: LastBuild | None,
              files: set[str] | None = None,
              stats: dict[str, tuple[int, int]] | None = None,
              stamps: dict[str, PageStamp] | None = None) -> CheckResult:
        """With a Kept: only the links on the pages this build wrote (`blogengine build`
        checks them all), read again; the other pages' ids come from memory."""
        kept = self.kept
        if kept is None or not self.options.check_links:
            return super().check(site, outputs, previous, files, stats, stamps)
        plan = outputs.plan
        written = [output_path(outputs.pages[index].url) for index in plan.render]
        current = {output_path(page.url) for page in outputs.pages} | \
            {out.path for out in outputs.extras}
        files = output_files(self.out_dir) if kept.files is None else set(kept.files)
        files = (files - (plan.previous_outputs - current)) | set(written) | plan.extras
        self.files = files
        origins = {output_path(entry.url): entry.source for entry in site.entries}
        inputs = CheckInputs(config=self.config, out_dir=self.out_dir, origins=origins,
                             template_dirs=template_dirs(self.config, self.chain))
        return check_pages(inputs, kept.pages, written, files,
                           external_links=self.options.external_links)

    def save(self, site: Site, documents: list[Document], outputs: _Outputs, written: _Written,
             checked: CheckResult) -> None:
        """With a Kept, without the link check's index (tens of MB to pickle at 10,000 pages):
        it stays in memory; a whole build after this one reads the pages again."""
        if self.kept is not None:   # nor what the check found: it saw only the pages written
            checked = dataclasses.replace(checked, index={}, links={}, memory=None)
        super().save(site, documents, outputs, written, checked)

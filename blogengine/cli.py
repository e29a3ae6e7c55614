"""The `blogengine` command: parses options, calls one function, prints results and errors.

This is the only module that prints errors or sets exit codes."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import shlex
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from blogengine import __version__
from blogengine.config import DEPLOY_TARGETS, SiteConfig, load_config
from blogengine.errors import BlogError, BuildFailed
from blogengine.heap import command_ends_process, end_process, keep_to_the_end, own_process
from blogengine.report import BuildOptions, BuildReport
from blogengine.start import build

if TYPE_CHECKING:
    from blogengine.webmention_send import SendOptions

F = TypeVar("F", bound=Callable[..., Any])
PROGRESS_THRESHOLD = 200   # pages; smaller builds finish before a bar would help


def handle_errors(command: F) -> F:
    """Turn BlogError into `path:line: message` lines and exit 1; anything else is a bug."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(click.get_current_context().find_root().params.get("debug")) or \
            bool(kwargs.get("debug"))
        try:
            return command(*args, **kwargs)
        except BuildFailed as exc:
            if debug:
                traceback.print_exc()
            for error in exc.errors:
                click.echo(f"error: {error}", err=True)
            click.echo(f"{len(exc.errors)} error(s); nothing was written.", err=True)
            sys.exit(1)
        except BlogError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except Exception as exc:
            if debug:
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc}\n"
                       "This is a bug in blogengine; run again with --debug for the traceback "
                       "and report it.", err=True)
            sys.exit(2)
    return wrapper  # type: ignore[return-value]


class LazyGroup(click.Group):
    """A group whose `comments` subcommands are imported only when used: the comment server
    pulls in Flask and SQLAlchemy, which `build` and `new` do not need."""

    lazy = {"comments": "blogengine.comments:command_group",
            "import": "blogengine.importers.cli:import_group"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, _, attribute = self.lazy[name].partition(":")
            found = getattr(importlib.import_module(module), attribute)
            command: click.Command = found if isinstance(found, click.Command) else found()
            return command
        return super().get_command(ctx, name)


def run() -> None:
    """The `blogengine` command (and `python -m blogengine`): `main` in a process of its own,
    which a command may end without taking its objects apart (heap.end_process). Tests call
    `main`, in their own process."""
    own_process()
    main()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="blogengine")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def main(debug: bool) -> None:
    """blogengine: a static blog generator with comment conversations.

    \b
    Examples:
      blogengine init my-blog        # start a new site
      cd my-blog && blogengine serve # see it at http://127.0.0.1:8000/ as you write
      blogengine build               # write the site to public/
      blogengine new "A new post"    # start a post
    """


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="My Blog", show_default=True, help="The site's title.")
@click.option("--author", default="", help="Your name, shown on posts.")
@click.option("--base-url", default="", help="Where the site will live, e.g. https://example.com/.")
@handle_errors
def init(directory: Path, title: str, author: str, base_url: str) -> None:
    """Start a new site in DIRECTORY: config, a first post, an about page.

    \b
    Examples:
      blogengine init my-blog
      blogengine init my-blog --title "Notes" --author "Ann" --base-url https://ann.example/
    """
    from blogengine.scaffold import init_site   # with YAML and slugify: only when asked

    written = init_site(directory, title=title, author=author, base_url=base_url)
    for path in written:
        click.echo(f"  wrote {path}")
    click.echo(f"New site in {directory}. See it in your browser, rebuilt as you write:\n"
               f"  cd {shlex.quote(str(directory))} && blogengine serve")


@main.command(name="build")
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The site folder (holding blogengine.toml and content/).")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the site [default: public/ in the site folder].")
@click.option("--drafts", is_flag=True, help="Include posts marked `draft: true`.")
@click.option("--future", is_flag=True, help="Include posts dated in the future.")
@click.option("--explain-templates", is_flag=True,
              help="List which file each template was loaded from.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for big builds [default: one per CPU].")
@click.option("--clean", is_flag=True,
              help="Build every page again, ignoring the last build; documents, images, cards "
                   "and the search index whose content is unchanged are still reused.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="With --clean: reuse nothing from .blogengine/ (parse every document, make "
                   "every image, card and the search index again).")
@click.option("--strict", is_flag=True,
              help="Exit 1 when the build has warnings (the site is still written).")
@click.option("--no-check", "no_check", is_flag=True,
              help="Skip the link check (`blogengine check`) the build runs.")
@click.option("--no-search", "no_search", is_flag=True,
              help="Build without the search index and page ([search] enabled = false).")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@handle_errors
def build_command(source: Path, output: Path | None, drafts: bool, future: bool,
                  explain_templates: bool, jobs: int | None, clean: bool, no_cache: bool,
                  strict: bool, no_check: bool, no_search: bool, debug: bool) -> None:
    """Build the site into a folder ready for any static host.

    Only what changed since the last build is parsed, rendered and written (the cache in
    .blogengine/ is safe to delete); the output folder changes only once the build is
    complete, so a failed build leaves the previous one untouched.

    \b
    Examples:
      blogengine build
      blogengine build --source my-blog --output /tmp/site
      blogengine build --drafts --future     # preview unpublished posts
      blogengine build --explain-templates   # which theme each template came from
      blogengine build --strict              # exit 1 on any warning (broken links too)
    """
    config = load_config(source)
    if no_search:
        config = dataclasses.replace(config, search=dataclasses.replace(config.search,
                                                                        enabled=False))
    options = BuildOptions(output_dir=output, drafts=drafts, future=future,
                           explain_templates=explain_templates, jobs=jobs,
                           incremental=not (clean or no_cache), content_cache=not no_cache,
                           check_links=not no_check)
    command_ends_process()
    report = _build_with_progress(config, options)
    keep_to_the_end()   # the process ends with the command
    for name, filename in sorted(report.template_sources.items()):
        click.echo(f"template {name} <- {filename}")
    warnings = _echo_warnings(report)
    _echo_summary(report)
    code = 0
    if strict and warnings:
        click.echo(f"{warnings} warning(s) and --strict: exit 1 (the site was written).", err=True)
        code = 1
    end_process(code)
    if code:
        sys.exit(code)


def _build_with_progress(config: SiteConfig, options: BuildOptions) -> BuildReport:
    """Build, with a progress bar on a terminal when there are many pages."""
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None and total >= PROGRESS_THRESHOLD and sys.stderr.isatty():
            bar = click.progressbar(length=total, label="Rendering", file=sys.stderr)
            bar.__enter__()
        if bar is not None:
            bar.update(done - bar.pos)  # `done` counts pages, reported a slice at a time

    try:
        return build(config, options, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _echo_warnings(report: BuildReport) -> int:
    """Print the build's warnings, link problems included; return how many."""
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)
    return len(report.warnings) + len(report.problems)


def _echo_summary(report: BuildReport) -> None:
    if report.up_to_date:
        click.echo(f"Up to date ({report.posts} posts; nothing changed since the last build) "
                   f"in {report.seconds:.2f} s -> {report.output_dir}")
    else:
        click.echo(f"Built {report.pages_written} pages ({report.posts} posts; "
                   f"{report.parsed} parsed, {report.pages_rendered} rendered, "
                   f"{report.files_written} files written"
                   f"{report.accelerator_note()}) "
                   f"in {report.seconds:.2f} s -> {report.output_dir}")
    if report.left_out():
        click.echo(report.left_out())


@main.command()
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The site folder (holding blogengine.toml and content/).")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the site is built [default: public/ in the site folder].")
@click.option("--drafts", is_flag=True, help="Include posts marked `draft: true`.")
@click.option("--future", is_flag=True, help="Include posts dated in the future.")
@click.option("--external", is_flag=True,
              help="Also check links to other sites (cached in .blogengine/ for a day).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for big builds [default: one per CPU].")
@handle_errors
def check(source: Path, output: Path | None, drafts: bool, future: bool, external: bool,
          jobs: int | None) -> None:
    """Build the site (as `build` does) and report every link that leads nowhere.

    Local images, files, pages and #anchors are checked in the built pages, theme links
    included; each problem names the file and line that wrote the link. Exits 1 when it
    finds a problem.

    \b
    Examples:
      blogengine check
      blogengine check --external     # links to other sites too (polite, cached)
    """
    config = load_config(source)
    options = BuildOptions(output_dir=output, drafts=drafts, future=future, jobs=jobs,
                           external_links=True)
    report = _build_with_progress(config, options)
    found = _echo_warnings(report)
    checked = len(report.external)
    if external:
        from blogengine.external import check_external

        outside = check_external(config, report.output_dir, report.external)
        for problem in outside.problems:
            click.echo(f"warning: {problem}", err=True)
        for moved in outside.redirects:
            click.echo(f"note: {moved}", err=True)
        found += len(outside.problems)
        note = f" ({outside.requests} requests, {outside.cached} answers from the cache)"
        click.echo(f"Checked {checked} outside link(s){note}.")
    if report.left_out():
        click.echo(report.left_out())
    if found:
        click.echo(f"{found} problem(s) found.", err=True)
        sys.exit(1)
    click.echo("No problems found" + ("" if external or not checked else
                                      f"; {checked} outside link(s) not checked (--external)")
               + ".")


@main.command()
@click.argument("title")
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The site folder.")
@click.option("--page", is_flag=True, help="Write a page (content/pages/) instead of a post.")
@click.option("--tag", "tags", multiple=True, help="A tag for the post; repeat for more.")
@click.option("--draft/--no-draft", default=True, show_default=True,
              help="Mark the post as a draft (left out of builds until you publish it).")
@handle_errors
def new(title: str, source: Path, page: bool, tags: tuple[str, ...], draft: bool) -> None:
    """Start a new post titled TITLE in content/posts/<slug>.md.

    \b
    Examples:
      blogengine new "Why I answer every comment"
      blogengine new "Reading list" --tag books --tag lists --no-draft
      blogengine new "Colophon" --page
    """
    config = load_config(source)
    from blogengine.scaffold import new_document

    path = new_document(config, title, page=page, draft=draft, tags=list(tags))
    click.echo(f"Wrote {path}")
    if draft and not page:
        click.echo("It is a draft: `blogengine build --drafts` shows it; "
                   "set `draft: false` to publish.")


@main.command()
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The site folder.")
@click.option("--target", "-t", type=click.Choice(DEPLOY_TARGETS), default=None,
              help="Where to deploy [default: [deploy] target in blogengine.toml].")
@click.option("--to", "destination", default=None, metavar="DEST",
              help="Override the target's folder, rsync destination, git remote or s3 bucket[/prefix].")
@click.option("--dry-run", "-n", is_flag=True, help="List what would change; change nothing.")
@click.option("--delete/--no-delete", default=None,
              help="Remove files the build no longer has [default: the target's `delete`].")
@click.option("--clean", is_flag=True, help="Build everything again (ignore the build cache).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for big builds [default: one per CPU].")
@click.option("--comments-token", envvar="BLOGENGINE_COMMENTS_TOKEN", default="", show_envvar=True,
              help="An author API token, for [deploy] reload_comments.")
@handle_errors
def deploy(source: Path, target: str | None, destination: str | None, dry_run: bool,
           delete: bool | None, clean: bool, jobs: int | None, comments_token: str) -> None:
    """Build the site, then publish it to a folder, rsync, GitHub Pages or S3.

    Only a complete, successful build is deployed, and only what changed is sent. Each
    changed file is listed (new, changed, removed).

    \b
    Examples:
      blogengine deploy                          # the target in [deploy] of blogengine.toml
      blogengine deploy --dry-run                # what would change, changing nothing
      blogengine deploy --target dir --to /var/www/blog
      blogengine deploy --target rsync --to me@example.com:/var/www/blog/
      blogengine deploy --target github-pages    # branch gh-pages of the remote origin
      blogengine deploy --target s3 --to my-bucket/blog
    """
    from blogengine.deploy import DeployOptions, deploy_site

    config = load_config(source)
    options = DeployOptions(target=target, destination=destination, dry_run=dry_run,
                            delete=delete, comments_token=comments_token,
                            build=BuildOptions(jobs=jobs, incremental=not clean))
    report = deploy_site(config, options)
    _echo_warnings(report.build)
    built = report.build
    click.echo("Build up to date" if built.up_to_date else
               f"Built {built.pages_written} pages ({built.files_written} files written)", nl=False)
    click.echo(f" -> {built.output_dir}")
    changes = report.changes
    for label, paths in (("new", changes.new), ("changed", changes.changed),
                         ("removed", changes.removed)):
        for path in paths:
            click.echo(f"  {label:<8} {path}")
    counts = (f"{len(changes.new)} new, {len(changes.changed)} changed, "
              f"{len(changes.removed)} removed")
    if dry_run:
        click.echo(f"Dry run, nothing was changed: deploying to {report.target} {report.destination} "
                   f"would make {counts}.")
    elif changes.count == 0:
        click.echo(f"Nothing to deploy: {report.target} {report.destination} is up to date.")
    else:
        click.echo(f"Deployed to {report.target} {report.destination}: {counts}.")
    if report.threads_reloaded is not None:
        click.echo(f"The comment server reloaded threads.json ({report.threads_reloaded} threads).")
    if report.comments_error is not None:
        raise report.comments_error
    if config.webmention.send_on_deploy and not dry_run:
        from blogengine.webmention_send import SendOptions

        click.echo("Sending Webmentions ([webmention] send_on_deploy):")
        _send_webmentions(config, SendOptions(output_dir=built.output_dir))


@main.group()
def webmention() -> None:
    """Webmentions: tell the sites your posts link to (see docs/webmentions.md).

    \b
    Examples:
      blogengine webmention send
      blogengine webmention send --dry-run
    """


@webmention.command(name="send")
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The site folder.")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the site was built [default: public/ in the site folder].")
@click.option("--source-base", default="", metavar="URL",
              help="The public URL of the built site [default: base_url in blogengine.toml].")
@click.option("--dry-run", "-n", is_flag=True, help="List what would be sent; send nothing.")
@handle_errors
def webmention_send(source: Path, output: Path | None, source_base: str, dry_run: bool) -> None:
    """Send Webmentions for the outside links of new and changed posts and pages.

    Reads the built site (run `blogengine build` or `deploy` first): the links inside each
    page's content are its targets. What was sent is remembered in
    .blogengine/webmentions-sent.json, so a second run sends nothing; a link removed from a
    post (or a deleted post's links) is sent once more so the other site can drop it. Exits 1
    when a Webmention failed; the next run tries it again.

    \b
    Examples:
      blogengine build && blogengine webmention send
      blogengine webmention send --dry-run
    """
    from blogengine.webmention_send import SendOptions

    config = load_config(source)
    _send_webmentions(config, SendOptions(source_base=source_base, output_dir=output, dry_run=dry_run))


def _send_webmentions(config: SiteConfig, options: SendOptions) -> None:
    """Send (or, in a dry run, list) Webmentions, a line each, then a summary; exit 1 on failure."""
    from blogengine.webmention_send import FAILED, NO_ENDPOINT, REFUSED, SENT, Outcome, send_webmentions

    def show(outcome: Outcome) -> None:
        removed = " (link removed)" if outcome.removed else ""
        detail = f": {outcome.detail}" if outcome.detail else ""
        click.echo(f"  {outcome.result:<11} {outcome.source} -> {outcome.target}{removed}{detail}",
                   err=outcome.result == FAILED)

    report = send_webmentions(config, options, progress=show)
    if options.dry_run:
        click.echo(f"Dry run: {len(report.outcomes)} Webmention(s) would be sent; nothing was sent.")
        return
    if not report.outcomes:
        click.echo("No Webmentions to send: every link was sent before.")
        return
    click.echo(f"Webmentions: {report.count(SENT)} sent, {report.count(FAILED)} failed, "
               f"{report.count(NO_ENDPOINT)} without an endpoint, {report.count(REFUSED)} refused.")
    if report.failed:
        click.echo("Failed Webmentions are tried again on the next run.", err=True)
        sys.exit(1)


@main.command()
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The site folder.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", "-p", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--drafts", is_flag=True, help="Include posts marked `draft: true`.")
@click.option("--future", is_flag=True, help="Include posts dated in the future.")
@handle_errors
def serve(source: Path, host: str, port: int, drafts: bool, future: bool) -> None:
    """Build the site, serve it with its comment server, and rebuild on every change.

    Pages reload in the browser after each rebuild; a failed build is shown in the
    terminal and in the page, and serving goes on with the last good build. The site is
    built into .blogengine/serve/, never into public/.

    \b
    Examples:
      blogengine serve
      blogengine serve --drafts --port 8080
    """
    from blogengine.serve import ServeOptions, SiteServer

    config = load_config(source)
    server = SiteServer(config, ServeOptions(host=host, port=port, drafts=drafts, future=future),
                        report=lambda line: click.echo(line, err=True))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server.rebuild()
    dashboard = server.mount_comments()
    server.watch()
    click.echo(f"Site:      {server.url}")
    if dashboard:
        click.echo(f"Dashboard: {dashboard}")
    if dashboard and server.demo_login:
        email, password = server.demo_login
        click.echo(f"Log in:    {email} / {password}  (the demo's author account)")
    click.echo("Watching content/, templates/, themes/ and blogengine.toml; Ctrl-C to stop.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)

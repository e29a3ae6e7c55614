"""The `blogengine import ...` click group: reads options, runs one importer, prints its report."""

from __future__ import annotations

from pathlib import Path

import click

from blogengine.cli import handle_errors
from blogengine.config import load_config
from blogengine.importers.apply import ImportReport, apply_plan

site_option = click.option(
    "--site", "-s", type=click.Path(file_okay=False, path_type=Path), default=".",
    show_default=True,
    help="The blogengine site to import into (the folder holding blogengine.toml; "
         "start one with `blogengine init DIR`).")


dry_run_option = click.option(
    "--dry-run", "-n", is_flag=True,
    help="Read everything and print the full report, but write nothing: no files, no comments.")


@click.group("import")
def import_group() -> None:
    """Bring posts, pages and comments over from another blog.

    Files are written under the site's content/ (nothing that is already there is
    overwritten) and comments go into the site's comment database in one transaction.
    Running an import again adds nothing it already added; --dry-run shows what an import
    would do without writing anything.

    \b
    Examples:
      blogengine import wordpress wordpress-export.xml --site my-blog
      blogengine import wordpress wordpress-export.xml --dry-run
      blogengine import disqus disqus-export.xml --moderator ann@example.com
      blogengine import jekyll ../old-jekyll-site
      blogengine import hugo ../old-hugo-site
    """


@import_group.command("wordpress")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--uploads", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="A copy of the blog's wp-content/uploads: attachments are copied into the "
                   "site and links to them made local [default: links keep the old URLs].")
@site_option
@dry_run_option
@handle_errors
def wordpress(export: Path, uploads: Path | None, site: Path, dry_run: bool) -> None:
    """Import a WordPress export (the WXR file from Tools > Export).

    Posts and pages become Markdown with front matter; approved comments keep their nesting
    and the post author's comments are author comments; pingbacks and trackbacks become
    mentions; spam and trash are skipped and counted. A flat author comment that opens by
    naming a reader ("Bob, ..." or "@Bob ...") is put under that reader's comment.

    \b
    Examples:
      blogengine import wordpress myblog.WordPress.2024-05-01.xml
      blogengine import wordpress export.xml --site my-blog
      blogengine import wordpress export.xml --uploads ~/backup/wp-content/uploads
    """
    from blogengine.importers.wordpress import read_wordpress

    config = load_config(site)
    report = apply_plan(config, read_wordpress(export, config, uploads), dry_run=dry_run)
    _print_report(report)



@import_group.command("disqus")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--moderator", "-m", "moderators", multiple=True, metavar="NAME_OR_EMAIL",
              help="A Disqus name, username or email whose comments are the author's; repeat "
                   "for more.")
@site_option
@dry_run_option
@handle_errors
def disqus(export: Path, moderators: tuple[str, ...], site: Path, dry_run: bool) -> None:
    """Import the comments of a Disqus export into the site's comment database.

    Each Disqus thread goes to the post at the same URL path on this site (or at the new
    path of an old URL that an earlier import redirects); import the posts first. Replies
    keep their nesting; deleted and spam comments are skipped. Disqus does not say who the
    author is: name yourself with --moderator.

    \b
    Examples:
      blogengine import disqus myblog-2024-05-01T09:30:00-all.xml --moderator ann@example.com
      blogengine import disqus export.xml --moderator "Ann Author" --moderator ann_writes
    """
    from blogengine.importers.disqus import read_disqus

    config = load_config(site)
    report = apply_plan(config, read_disqus(export, config, moderators), dry_run=dry_run)
    _print_report(report)



author_option = click.option(
    "--author", "-a", "authors", multiple=True, metavar="NAME_OR_EMAIL",
    help="A name or email (or its MD5) whose Staticman comments are the author's; repeat for more.")


@import_group.command("jekyll")
@click.argument("folder", type=click.Path(path_type=Path))
@author_option
@site_option
@dry_run_option
@handle_errors
def jekyll(folder: Path, authors: tuple[str, ...], site: Path, dry_run: bool) -> None:
    """Import a Jekyll site: posts, pages, assets and Staticman comments.

    Posts keep their dates (from the file name or front matter, in the Jekyll site's
    timezone), categories, tags and drafts; every old URL that changes gets a redirect page.
    Comments kept by Disqus come next with `blogengine import disqus`.

    \b
    Examples:
      blogengine import jekyll ../old-site
      blogengine import jekyll ../old-site --author ann@example.com --site my-blog
    """
    from blogengine.importers.jekyll import read_jekyll

    config = load_config(site)
    _print_report(apply_plan(config, read_jekyll(folder, config, authors), dry_run=dry_run))


@import_group.command("hugo")
@click.argument("folder", type=click.Path(path_type=Path))
@author_option
@site_option
@dry_run_option
@handle_errors
def hugo(folder: Path, authors: tuple[str, ...], site: Path, dry_run: bool) -> None:
    """Import a Hugo site: posts, pages, bundles, static files and Staticman comments.

    Front matter in YAML, TOML or JSON; `draft` kept; `aliases` and every old URL that
    changes get redirect pages; figure, highlight, youtube, vimeo, gist and ref shortcodes
    become Markdown.

    \b
    Examples:
      blogengine import hugo ../old-site
      blogengine import hugo ../old-site --author "Ann Author" --site my-blog
    """
    from blogengine.importers.hugo import read_hugo

    config = load_config(site)
    _print_report(apply_plan(config, read_hugo(folder, config, authors), dry_run=dry_run))


def _count(counter_value: int, noun: str) -> str:
    return f"{counter_value} {noun if counter_value == 1 else noun + 's'}"


def _one_or_more(what: str, count: int) -> str:
    """ "posts (spam)" for several, "post (spam)" for one."""
    noun, _, rest = what.partition(" ")
    if count == 1 and noun.endswith("s"):
        noun = noun[:-1]
    return f"{noun} {rest}".strip()


def _print_report(report: ImportReport) -> None:
    """What the import did (or would do): counts, what was skipped and why, re-threaded
    replies, notes."""
    if report.dry_run:
        click.echo(f"Dry run: importing {report.source} ({report.system}) into {report.site} would "
                   "give:")
    else:
        click.echo(f"Imported {report.source} ({report.system}) into {report.site}:")
    verb = "to write" if report.dry_run else "written"
    added = "to add" if report.dry_run else "added"
    nouns = {"posts": "post", "pages": "page", "redirects": "redirect page", "assets": "asset"}
    for key, noun in nouns.items():
        written, already = report.written[key], report.already[key]
        if written or already:
            line = f"  {_count(written, noun)} {verb}"
            if already:
                line += f", {already} already there"
            click.echo(line)
    if report.comments_off:
        click.echo("  comments: not imported (comments are off for this site)")
    elif report.comments_added or report.comments_already:
        total = report.comments_added + report.comments_already
        details = [f"{report.authored} by the author" if report.authored else "",
                   f"{report.held} held for moderation" if report.held else ""]
        extra = ", ".join(d for d in details if d)
        line = f"  {_count(total, 'comment')}" + (f" ({extra})" if extra else "")
        line += f": {report.comments_added} {added}"
        if report.comments_already:
            line += f", {report.comments_already} already there"
        click.echo(line)
    if report.mentions_added or report.mentions_already:
        line = f"  {_count(report.mentions_added, 'mention')} {added} (pingbacks and trackbacks)"
        if report.mentions_already:
            line += f", {report.mentions_already} already there"
        click.echo(line)
    for line in report.kept:
        click.echo(f"  kept {line}")
    if report.skipped:
        click.echo("  not carried over: "
                   + ", ".join(f"{n} {_one_or_more(what, n)}" for what, n in sorted(report.skipped.items())))
        for detail in report.skipped_details:
            click.echo(f"    {detail}")
    if report.rethreaded:
        click.echo(f"  re-threaded {_count(len(report.rethreaded), 'flat author reply')}"
                   .replace("replys", "replies") + ":")
        for line in report.rethreaded:
            click.echo(f"    {line}")
    for note in report.notes:
        click.echo(f"  note: {note}")
    if report.dry_run:
        click.echo("Dry run: nothing was written.")
    elif not (sum(report.written.values()) or report.comments_added or report.mentions_added):
        click.echo("Nothing new: everything in it was already imported.")

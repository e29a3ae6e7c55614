"""`blogengine comments ...` for authors: accounts and API tokens, the unanswered queue in the
terminal, the daily digest and sending the outbox. Registered on the group in cli.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

from comments_server.accounts import AccountError, Accounts
from comments_server.cli import _fail, _open_site_storage, _site_overrides, comments, dev_secret, site_option
from comments_server.compose import excerpt
from comments_server.config import load_config
from comments_server.errors import ConfigError, SchemaError
from comments_server.humanize import human_duration
from comments_server.service import utcnow
from comments_server.services import services


def _accounts(site: Path | None) -> Accounts:
    return Accounts(_open_site_storage(site), utcnow)


def _author(accounts: Accounts, name: str) -> Any:
    author = accounts.find(name)
    if author is None:
        known = ", ".join(a.name for a in accounts.all()) or "none yet; add one with `blogengine comments add-author`"
        raise click.ClickException(f"no author named {name!r} (authors: {known})")
    return author


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def _app(site: Path | None) -> Flask:
    """The whole app, for commands that need its settings (mail, URLs, the thread manifest)."""
    from comments_server.app import create_app

    overrides = _site_overrides(site)
    cfg = load_config(overrides)
    if not cfg.values.get("SECRET_KEY"):
        overrides["SECRET_KEY"] = dev_secret(cfg)[0]
    try:
        return create_app(overrides)
    except ConfigError as exc:
        raise _fail(exc.problems) from None
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from None


# Accounts ----------------------------------------------------------------------------------------


@comments.command("add-author")
@click.argument("name")
@click.option("--email", required=True, help="The author's email: login name and where notifications go.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@site_option
def add_author(name: str, email: str, password_stdin: bool, site: Path | None) -> None:
    """Create an author account for the dashboard.

    A post belongs to the account whose name or email is the post's `author` (front matter, else
    the site's author). The password is asked for twice, or read from standard input.

    \b
    Examples:
      blogengine comments add-author "Ann Author" --email ann@example.com
      printf '%s\\n' "$PASSWORD" | blogengine comments add-author Ann --email ann@example.com --password-stdin
    """
    accounts = _accounts(site)
    try:
        author = accounts.add(name, email, _password(password_stdin))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Added {author.name} <{author.email}>. Log in at /dashboard/login.")


@comments.command("list-authors")
@site_option
def list_authors(site: Path | None) -> None:
    """List the author accounts and their API tokens."""
    accounts = _accounts(site)
    authors = accounts.all()
    if not authors:
        click.echo("No authors yet; add one with `blogengine comments add-author NAME --email EMAIL`.")
        return
    for author in authors:
        tokens = accounts.tokens(author)
        labels = ", ".join(t.label for t in tokens) if tokens else "no API tokens"
        click.echo(f"{author.name} <{author.email}>  ({labels})")


@comments.command("remove-author")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@site_option
def remove_author(name: str, yes: bool, site: Path | None) -> None:
    """Delete an author account (by name or email) with its tokens and sessions.

    Its comments stay, with the author badge."""
    accounts = _accounts(site)
    author = _author(accounts, name)
    if not yes:
        click.confirm(f"Remove {author.name} <{author.email}>?", abort=True)
    accounts.remove(author)
    click.echo(f"Removed {author.name}.")


@comments.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@site_option
def set_password(name: str, password_stdin: bool, site: Path | None) -> None:
    """Change an author's password; every dashboard login of theirs ends."""
    accounts = _accounts(site)
    author = _author(accounts, name)
    try:
        accounts.set_password(author, _password(password_stdin))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Changed the password of {author.name}; their dashboard sessions have ended.")


@comments.command("add-token")
@click.argument("name")
@click.option("--label", default="script", show_default=True, help="What the token is for (to revoke it later).")
@site_option
def add_token(name: str, label: str, site: Path | None) -> None:
    """Create an API token for scripts that act as this author.

    Send it as `Authorization: Bearer <token>`: posts carry the author badge, and
    GET /api/unanswered lists the queue. It is shown once; only its hash is kept."""
    accounts = _accounts(site)
    author = _author(accounts, name)
    token, secret = accounts.add_token(author, label)
    click.echo(f"API token {token.label!r} for {author.name} (shown once, keep it secret):", err=True)
    click.echo(secret)


@comments.command("remove-token")
@click.argument("name")
@click.argument("label")
@site_option
def remove_token(name: str, label: str, site: Path | None) -> None:
    """Revoke an author's API tokens with this label."""
    accounts = _accounts(site)
    author = _author(accounts, name)
    removed = accounts.remove_token(author, label)
    if not removed:
        raise click.ClickException(f"{author.name} has no token labelled {label!r}")
    click.echo(f"Revoked {removed} token{'s' if removed != 1 else ''} of {author.name}.")


# The queue, the digest, the outbox ---------------------------------------------------------------


@comments.command("unanswered")
@click.option("--author", "author_name", default=None, help="List this author's posts first.")
@click.option("--questions-first", is_flag=True, help="Questions first within each post.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of GET /api/unanswered.")
@site_option
def unanswered(author_name: str | None, questions_first: bool, as_json: bool, site: Path | None) -> None:
    """Print the reader comments waiting for an answer, oldest first, by post."""
    from comments_server.api.queue import queue_json

    app_services = services(_app(site))
    author = _author(app_services.accounts, author_name) if author_name else None
    queue = app_services.conversations.queue(author, questions_first=questions_first)
    url = app_services.notifier.url
    if as_json:
        click.echo(json.dumps(queue_json(queue, url), indent=2, ensure_ascii=False))
        return
    if not queue.count or queue.oldest_waiting is None:
        click.echo("Nobody is waiting: every reader has an answer.")
        return
    people = f"{queue.count} reader{'s' if queue.count != 1 else ''}"
    click.echo(f"{people} waiting for an answer; the oldest for {human_duration(queue.oldest_waiting)}.")
    for group in queue.groups:
        click.echo("")
        click.secho(group.thread.title, bold=True, nl=False)
        click.echo(f"  {group.post_url}")
        for item in group.items:
            c = item.comment
            mark = "  [question]" if item.question else ""
            click.echo(f"  #{c.id}  {c.author_name}, waiting {human_duration(item.waiting)}{mark}")
            click.echo(f"        {excerpt(c.body, 100)}")
            click.echo(f"        reply: {url(f'/dashboard/#comment-{c.id}')}")


@comments.command("digest")
@click.option("--no-send", is_flag=True, help="Only queue the emails; `send-mail` or the server sends them.")
@site_option
def digest(no_send: bool, site: Path | None) -> None:
    """Email each author the comments waiting on their posts (run daily from cron).

    Authors with nobody waiting get nothing; running it twice on one day sends nothing new.

    \b
    Example crontab line:
      0 8 * * *  cd /srv/my-blog && blogengine comments digest
    """
    app = _app(site)
    if not app.config["MAIL_HOST"]:
        raise click.ClickException("MAIL_HOST is not set: the digest needs an SMTP server (see the MAIL_* settings)")
    queued = services(app).conversations.enqueue_digests()
    click.echo(f"Queued {queued} digest{'s' if queued != 1 else ''}.")
    if not no_send:
        _send(app)


@comments.command("send-mail")
@site_option
def send_mail(site: Path | None) -> None:
    """Send the notification emails that are due (for servers run with MAIL_SEND_IN_BACKGROUND off)."""
    app = _app(site)
    if not app.config["MAIL_HOST"]:
        raise click.ClickException("MAIL_HOST is not set: there is no SMTP server to send to")
    _send(app)


@comments.command("run-jobs")
@site_option
def run_jobs(site: Path | None) -> None:
    """Run the background jobs that are due (verifying Webmentions, ...), for servers run with
    JOBS_IN_BACKGROUND off."""
    app = _app(site)
    app_services = services(app)
    ran = app_services.jobs.run_due(app_services)
    click.echo(f"Ran {ran} job{'s' if ran != 1 else ''}.")


def _send(app: Flask) -> None:
    from comments_server.mail import send_pending

    app_services = services(app)
    outbox = app_services.storage.outbox
    report = send_pending(outbox, app_services.mail, app_services.clock)
    click.echo(f"Sent {report.sent} email{'s' if report.sent != 1 else ''}"
               + (f"; {report.retrying} will be retried" if report.retrying else "")
               + (f"; {report.failed} refused by the server" if report.failed else "") + ".")
    if report.retrying:
        waiting, _, error = outbox.status()
        raise click.ClickException(f"{waiting} emails wait in the outbox: {error}")

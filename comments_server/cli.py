"""The `blogengine comments ...` click group: serve and migrate. The only place that prints errors."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import click

from blogengine.comments import find_site_folder
from blogengine.config import CONFIG_NAME as SITE_CONFIG_NAME
from comments_server.config import LoadedConfig, load_config, validate
from comments_server.errors import ConfigError, SchemaError
from comments_server.site import Access, StoreError, display_url, open_store

DEFAULT_PORT = 8001

site_option = click.option(
    "--site",
    type=click.Path(file_okay=False, dir_okay=True, path_type=Path),
    default=None,
    help=f"Site folder whose {SITE_CONFIG_NAME} [comments] settings to use "
    "(default: the current folder or the nearest parent with one).",
)


def _site_overrides(site: Path | None) -> dict[str, Any]:
    if site is not None and not (site / SITE_CONFIG_NAME).is_file():
        raise click.ClickException(f"{site}: not a site folder (no {SITE_CONFIG_NAME}); check --site")
    if site is None and os.environ.get("COMMENTS_SITE"):
        return {}
    site = site or find_site_folder(Path.cwd())
    return {"SITE": str(site.resolve())} if site else {}


def _fail(problems: list[str]) -> click.ClickException:
    listed = "\n".join(f"  {p}" for p in problems)
    return click.ClickException(f"the comment server cannot start:\n{listed}")


def dev_secret(cfg: LoadedConfig) -> tuple[str, str]:
    """A SECRET_KEY for development, kept beside the SQLite database so restarts keep form tokens valid."""
    from comments_server.dburl import sqlite_path

    path = sqlite_path(str(cfg.values["DATABASE_URL"]))
    if path is None:
        return secrets.token_urlsafe(32), "a random SECRET_KEY for this run"
    secret_file = Path(f"{path}-secret")
    if secret_file.is_file():
        return secret_file.read_text(encoding="utf-8").strip(), f"the SECRET_KEY in {secret_file}"
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key, f"a new SECRET_KEY saved in {secret_file}"


@click.group("comments")
def comments() -> None:
    """Run the comment server and manage its database."""


@comments.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@site_option
def serve(host: str, port: int, site: Path | None) -> None:
    """Run the comment server for development (use gunicorn in production)."""
    from comments_server.app import create_app

    overrides = _site_overrides(site)
    cfg = load_config(overrides)
    if cfg.site is not None and not cfg.site.enabled:
        raise click.ClickException(
            f"comments are off for this site ([comments] enabled = false in {SITE_CONFIG_NAME})"
        )
    if not cfg.values.get("SECRET_KEY"):
        key, where = dev_secret(cfg)
        overrides["SECRET_KEY"] = key
        click.echo(f"Using {where} (set COMMENTS_SECRET_KEY in production).", err=True)
    try:
        app = create_app(overrides)
    except ConfigError as exc:
        raise _fail(exc.problems) from None
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    manifest = app.config["THREADS_MANIFEST"] or "none (ALLOW_UNKNOWN_THREADS)"
    click.echo(f"Database: {display_url(app.config['DATABASE_URL'])}", err=True)
    click.echo(f"Thread manifest: {manifest}", err=True)
    click.echo(f"Comment server on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)


def _database_config(site: Path | None) -> LoadedConfig:
    """The settings for a database command; only the database's own problems stop it."""
    cfg = load_config(_site_overrides(site))
    problems = cfg.problems + [p for p in validate(cfg) if "DATABASE_URL" in p]
    if problems:
        raise _fail(problems)
    return cfg


def _database_url(site: Path | None) -> str:
    return str(_database_config(site).values["DATABASE_URL"])


@comments.command("migrate")
@site_option
def migrate(site: Path | None) -> None:
    """Create or upgrade the comment database's tables."""
    from comments_server.storage.schema import schema_state, upgrade
    from comments_server.storage.sql import make_engine

    url = _database_url(site)
    try:
        engine = make_engine(url)
        before = schema_state(engine).current
        after = upgrade(engine)
    except Exception as exc:  # a bad URL or unreachable server: say which, without a traceback
        raise click.ClickException(f"cannot migrate {display_url(url)}: {exc}") from None
    engine.dispose()
    if before == after:
        click.echo(f"{display_url(url)} is up to date (revision {after}).")
    else:
        click.echo(f"{display_url(url)} migrated from {before or 'empty'} to revision {after}.")


migrate_command = migrate


def _open_site_storage(site: Path | None) -> Any:
    """The store named by the settings (site folder, COMMENTS_* variables), as imports open it."""
    try:
        return open_store(_database_config(site), Access.WRITE)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@comments.command("export")
@click.argument("output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default="-")
@site_option
def export(output: Path, site: Path | None) -> None:
    """Write every comment to OUTPUT as JSON (default: standard output).

    The file holds readers' emails and IP addresses: keep it private.

    \b
    Examples:
      blogengine comments export backup.json
      COMMENTS_DATABASE_URL=postgresql+psycopg://db/comments blogengine comments export - > all.json
    """
    import json

    from comments_server.private_files import write_private
    from comments_server.transfer import export_document

    storage = _open_site_storage(site)
    try:
        document = export_document(storage)
    finally:
        storage.close()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if str(output) == "-":
        click.echo(text, nl=False)
    else:
        temporary = output.with_name(f".{output.name}.tmp")
        write_private(temporary, text)  # readers' emails and IP addresses: owner-only
        temporary.replace(output)  # never a half-written backup
        click.echo(f"Exported {len(document['comments'])} comments to {output}.", err=True)


@comments.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@site_option
@click.option("--keep-author-badges", is_flag=True,
              help="Trust the file's is_author flags (your own export): by default a comment keeps "
                   "the author badge only when its email is an author account's on this server.")
def import_(source: Path, site: Path | None, keep_author_badges: bool) -> None:
    """Add the comments of a JSON export (from `comments export`) to the database.

    All or nothing, in one transaction; comments already there (same uid) are skipped, so
    importing a file twice adds nothing the second time. Every record passes the field checks
    a posted comment does. The author badge comes from this server's accounts, not from the
    file, unless --keep-author-badges says the file is your own export.

    \b
    Examples:
      blogengine comments import backup.json --keep-author-badges
      blogengine comments import --site my-blog demo-comments.json
    """
    from comments_server.transfer import TransferError, import_document

    try:
        raw = sys.stdin.buffer.read() if str(source) == "-" else source.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{source}: not UTF-8 text") from None
    from comments_server.models import Limits

    config = _database_config(site)
    storage = _open_site_storage(site)
    try:
        badges = None if keep_author_badges else frozenset(
            a.email.lower() for a in storage.accounts.list_authors())
        report = import_document(storage, text, limits=Limits.from_config(config.values),
                                 badge_emails=badges)
    except TransferError as exc:
        raise click.ClickException(f"{source}: {exc}; nothing was imported") from None
    finally:
        storage.close()
    click.echo(f"Imported {report.added} comments from {source}"
               + (f"; {report.skipped} were already there" if report.skipped else "") + ".")
    if report.badges_dropped:
        click.echo(f"{report.badges_dropped} comments marked as the author's in the file are stored as "
                   "readers' (their email is no author account's here; --keep-author-badges trusts "
                   "the file).")
    if report.mentions_added or report.mentions_skipped:
        click.echo(f"Imported {report.mentions_added} mentions (pingbacks and trackbacks)"
                   + (f"; {report.mentions_skipped} were already there" if report.mentions_skipped else "") + ".")


# Author accounts, the unanswered queue and email (registered on the group above).
from comments_server import cli_dashboard  # noqa: E402,F401


@comments.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@site_option
def backup(destination: Path, site: Path | None) -> None:
    """Copy the live SQLite comment database to DESTINATION, consistently, while the server runs.

    To restore, stop the server and put the copy in place of the database file (or point
    DATABASE_URL at it). For PostgreSQL use pg_dump, or `comments export`.

    \b
    Examples:
      blogengine comments backup backups/comments-$(date +%F).sqlite3
    """
    from comments_server.backup import BackupError, backup_sqlite
    from comments_server.dburl import sqlite_path

    url = _database_url(site)
    path = sqlite_path(url)
    if path is None:
        raise click.ClickException(f"{display_url(url)} is not a SQLite file; use pg_dump or "
                                   "`blogengine comments export` for PostgreSQL")
    try:
        count = backup_sqlite(path, destination)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up {count} comments from {path} to {destination} (integrity check ok).")

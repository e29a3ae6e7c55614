"""The comment server for one site folder during development (`blogengine serve`): the site's
settings, a persistent development secret, the database migrated, demo comments imported."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from comments_server import create_app
from comments_server.config import load_config
from comments_server.errors import ConfigError
from comments_server.storage.schema import upgrade
from comments_server.storage.sql import make_engine
from comments_server.transfer import import_document


def create_site_app(site_root: Path, *, manifest: Path, site_url: str,
                    seed: str = "") -> tuple[Flask, int]:
    """An app on the site's own database, answering on the site's origin (`site_url`), and
    how many comments it imported from `seed`.

    `seed` names a comments export (relative to the site folder) imported when the database
    holds no comments yet. Raises ConfigError or SchemaError naming what is wrong."""
    from comments_server.cli import dev_secret

    overrides = {"SITE": str(site_root.resolve()), "THREADS_MANIFEST": str(manifest),
                 "SITE_URL": site_url, "PUBLIC_URL": ""}
    cfg = load_config(overrides)
    if cfg.problems:
        raise ConfigError(cfg.problems)
    if not cfg.values.get("SECRET_KEY"):
        overrides["SECRET_KEY"] = dev_secret(cfg)[0]
    # In development the database simply follows the code: apply any pending migration.
    engine = make_engine(str(cfg.values["DATABASE_URL"]))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    app = create_app(overrides)
    imported = 0
    if seed:
        storage = app.extensions["comments_server"].storage
        if not storage.all_comments():
            path = (site_root / seed)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError([f"[comments] seed: cannot read {path} ({exc})"]) from None
            imported = import_document(storage, text).added
    return app, imported

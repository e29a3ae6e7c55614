"""The one migration policy of comments_server.site.open_store, on SQLite and PostgreSQL: what a
reader (the build), a writer (imports, the server's commands) and development may do to a schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from comments_server.site import Access, SiteLayer, StoreError, open_store, server_config
from comments_server.storage import open_storage, schema
from comments_server.storage.sql import make_engine

HEAD = schema.head_revision()


def config_for(url: str, tmp_path: Path, **server):
    layer = SiteLayer(root=tmp_path, manifest=tmp_path / "public/threads.json", database_url=url,
                      server=server, label="test [comments.server]")
    return server_config(layer)


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return schema.schema_state(engine).current
    finally:
        engine.dispose()


def at_revision(url: str, rev: str) -> None:
    engine = make_engine(url)
    schema.upgrade(engine, rev)
    engine.dispose()


def empty_database(url: str) -> None:
    engine = make_engine(url)   # connects, so a SQLite file exists, with no tables in it
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()


def test_a_reader_finds_no_comments_in_a_missing_sqlite_file_and_creates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'comments.sqlite3'}"
    assert open_store(config_for(url, tmp_path), Access.READ) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("access", [Access.WRITE, Access.DEVELOP])
def test_a_writer_gives_an_empty_database_the_current_schema(db_url, tmp_path, access):
    store = open_store(config_for(db_url, tmp_path), access)
    assert store is not None
    store.close()
    assert revision(db_url) == HEAD


def test_a_reader_never_creates_tables(db_url, tmp_path):
    empty_database(db_url)
    with pytest.raises(StoreError, match="the database is empty; run `blogengine comments migrate`"):
        open_store(config_for(db_url, tmp_path), Access.READ)
    assert revision(db_url) is None


def test_a_writer_keeps_an_empty_database_empty_when_auto_migrate_is_off(db_url, tmp_path):
    empty_database(db_url)
    with pytest.raises(StoreError, match="the database is empty"):
        open_store(config_for(db_url, tmp_path, auto_migrate=False), Access.WRITE)
    assert revision(db_url) is None


@pytest.mark.parametrize("access", [Access.READ, Access.WRITE])
def test_an_outdated_database_must_be_migrated_first(db_url, tmp_path, access):
    at_revision(db_url, "0005")
    with pytest.raises(StoreError, match=f"pending migrations \\(at 0005, this version needs {HEAD}\\); "
                                         "run `blogengine comments migrate`"):
        open_store(config_for(db_url, tmp_path), access)
    assert revision(db_url) == "0005"


def test_in_development_the_database_follows_the_code(db_url, tmp_path):
    at_revision(db_url, "0005")
    store = open_store(config_for(db_url, tmp_path), Access.DEVELOP)
    assert store is not None
    store.close()
    assert revision(db_url) == HEAD


@pytest.mark.parametrize("access", list(Access))
def test_a_database_from_a_newer_version_is_refused_by_everyone(db_url, tmp_path, access):
    open_storage(db_url).close()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="9999"):
        open_store(config_for(db_url, tmp_path), access)


def test_bad_settings_stop_the_store_from_opening(tmp_path):
    with pytest.raises(StoreError, match="'mysql://x/y' is not supported"):
        open_store(config_for("mysql://x/y", tmp_path), Access.WRITE)
    with pytest.raises(StoreError, match="moderation: expected choice"):
        open_store(config_for(f"sqlite:///{tmp_path / 'c.sqlite3'}", tmp_path, moderation=3), Access.READ)


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path):
    url = "postgresql+psycopg://ann:hunter2@127.0.0.1:1/nothing"
    with pytest.raises(StoreError) as info:
        open_store(config_for(url, tmp_path), Access.WRITE)
    assert str(info.value).startswith("cannot open postgresql+psycopg://ann:***@127.0.0.1:1/nothing: ")
    assert "hunter2" not in str(info.value)

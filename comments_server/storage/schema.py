"""Schema versions: apply the Alembic migrations shipped in storage/migrations, check a database is current."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

from comments_server.errors import SchemaError
from comments_server.dburl import sqlite_path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATE_COMMAND = "blogengine comments migrate"
# Any constant works; it only has to be the same in every instance of the server.
PG_LOCK_KEY = 0x626C6F67


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str
    has_tables: bool

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    @property
    def is_empty(self) -> bool:
        return self.current is None and not self.has_tables


def schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        has_tables = inspect(conn).has_table("comments")
    return SchemaState(current=current, head=head_revision(), has_tables=has_tables)


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """Hold a lock so several workers starting on one fresh database migrate it once."""
    path = sqlite_path(str(engine.url))
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_LOCK_KEY})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
                conn.commit()
        return
    lock_file = None
    if path is not None:
        try:
            import fcntl
        except ImportError:  # not on POSIX: no cross-process lock, migrate anyway
            fcntl = None  # type: ignore[assignment]
        if fcntl is not None:
            lock_file = open(f"{path}-migrate.lock", "a+")  # noqa: SIM115 (closed below)
            fcntl.flock(lock_file, fcntl.LOCK_EX)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        if lock_file is not None:
            lock_file.close()


@contextlib.contextmanager
def _sqlite_foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite batch mode copies a table, drops the old one and renames the copy; with foreign keys
    on, dropping a table whose rows reply to each other fails. Switch them off around the
    migration (possible only outside a transaction), check them afterwards, switch them back on."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None and not conn.in_transaction()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        problems = raw.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise SchemaError(f"the migration left broken references: {problems[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply migrations up to `revision`; returns the revision the database is at afterwards."""
    with _migration_lock(engine) as conn, _sqlite_foreign_keys_off(conn):
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    return schema_state(engine).current


def create_current(engine: Engine) -> None:
    """Give an empty database the current schema in one step: tables.py (which tests keep identical
    to what the migrations build), stamped with the head revision. Replaying every migration gives
    the same tables, only slower; migrations change the schema only, so nothing else is skipped."""
    from comments_server.storage.tables import metadata

    with _migration_lock(engine) as conn:
        if not schema_state(engine).is_empty:
            return  # another process created it while this one waited for the lock
        with conn.begin():
            metadata.create_all(conn)
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "head")
        conn.commit()


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision` (tests and emergencies)."""
    with _migration_lock(engine) as conn, _sqlite_foreign_keys_off(conn):
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def ensure_schema(engine: Engine, *, auto_migrate: bool) -> None:
    """Migrate an empty database (if allowed); refuse one that is behind or ahead of this code."""
    state = schema_state(engine)
    if state.is_current:
        return
    if not state.is_empty:
        # Another process may be migrating this database right now (one revision committed, the
        # next under way): wait for its lock, then look again.
        with _migration_lock(engine):
            state = schema_state(engine)
        if state.is_current:
            return
    if state.is_empty:
        if not auto_migrate:
            raise SchemaError(f"the database is empty; run `{MIGRATE_COMMAND}` to create the tables")
        create_current(engine)
        return
    if state.current is None:
        raise SchemaError(
            "the database has a comments table but no migration record; it was not made by "
            f"`{MIGRATE_COMMAND}` (restore it from a backup or point DATABASE_URL elsewhere)"
        )
    if state.current not in known_revisions():
        raise SchemaError(
            f"the database is at revision {state.current}, which this version does not know "
            "(was it migrated by a newer blogengine?)"
        )
    raise SchemaError(
        f"the database has pending migrations (at {state.current}, this version needs {state.head}); "
        f"run `{MIGRATE_COMMAND}`"
    )

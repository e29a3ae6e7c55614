"""Readers' addresses in SQL: which ones confirmed they want reply emails, and the suppression
list of those that asked for none. An unsubscribe outlives the comments that asked for mail:
only a link sent to the address itself takes it off the list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from comments_server.storage.tables import reader_addresses


@dataclass(frozen=True)
class ReaderAddress:
    """One row of the list, as an export carries it."""

    email: str
    confirmed_at: datetime | None
    suppressed_at: datetime | None


@dataclass(frozen=True)
class AddressState:
    """Where one reader address stands; an address never seen is neither."""

    confirmed: bool = False
    suppressed: bool = False

    @property
    def may_mail(self) -> bool:
        """Reply emails go only to an address that confirmed and did not unsubscribe since."""
        return self.confirmed and not self.suppressed


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _upsert(conn: Connection, email: str, **values: datetime | None) -> None:
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    insert = dialect.insert(reader_addresses).values(email=email, **values)
    conn.execute(insert.on_conflict_do_update(index_elements=["email"], set_=values))


def suppress(conn: Connection, email: str, now: datetime) -> None:
    """Put `email` on the suppression list, in the caller's transaction."""
    _upsert(conn, email.lower(), suppressed_at=now)


class AddressStore:
    """Confirmed and suppressed reader addresses (stored lower-case); each method one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(sqlite_write=True)

    def state(self, email: str) -> AddressState:
        with self.engine.begin() as conn:
            row = conn.execute(select(reader_addresses).where(reader_addresses.c.email == email.lower())).first()
        if row is None:
            return AddressState()
        return AddressState(confirmed=row.confirmed_at is not None, suppressed=row.suppressed_at is not None)

    def confirm(self, email: str, now: datetime) -> bool:
        """Record that the address owner wants reply emails; False (nothing changes) while it
        is suppressed."""
        with self._writer.begin() as conn:
            row = conn.execute(select(reader_addresses.c.suppressed_at)
                               .where(reader_addresses.c.email == email.lower())).first()
            if row is not None and row.suppressed_at is not None:
                return False
            _upsert(conn, email.lower(), confirmed_at=now)
            return True

    def all(self) -> list[ReaderAddress]:
        """Every address on the list, by address (exports)."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(reader_addresses).order_by(reader_addresses.c.email)).all()
        return [ReaderAddress(r.email, r.confirmed_at, r.suppressed_at) for r in rows]

    def restore(self, rows: Sequence[ReaderAddress]) -> None:
        """Merge rows from an export: a restore may add a confirmation or a suppression, never lift
        one the database holds (the earlier time of each is kept)."""
        with self._writer.begin() as conn:
            for row in rows:
                email = row.email.lower()
                old = conn.execute(select(reader_addresses).where(reader_addresses.c.email == email)).first()
                _upsert(conn, email, confirmed_at=_earlier(old.confirmed_at if old else None, row.confirmed_at),
                        suppressed_at=_earlier(old.suppressed_at if old else None, row.suppressed_at))

    def resubscribe(self, email: str, now: datetime) -> None:
        """Off the suppression list and confirmed: only for a link sent to the address."""
        with self._writer.begin() as conn:
            _upsert(conn, email.lower(), confirmed_at=now, suppressed_at=None)

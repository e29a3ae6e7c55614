"""The durable job table in SQL: enqueue (a pending job of the same kind and key is updated),
claim what is due under a lease, then complete, retry later or fail. Several server processes
may run jobs from one table: a job is claimed by exactly one of them."""

from __future__ import annotations

import json
from dataclasses import replace
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from comments_server.models import Job
from comments_server.storage.tables import jobs

_OPEN = (jobs.c.done_at.is_(None), jobs.c.failed_at.is_(None))


def enqueue_job(conn: Connection, kind: str, key: str, payload: Mapping[str, Any], due_at: datetime,
                now: datetime) -> int:
    """Add a job in the caller's transaction, or update the open job of this kind and key (its
    payload, its due time, and its revision, so a run that is under way does not finish it).

    Returns the job's id."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    insert = dialect.insert(jobs).values(
        kind=kind, key=key, payload=json.dumps(dict(payload), sort_keys=True), revision=0, created_at=now,
        due_at=due_at, claimed_until=None, attempts=0, last_error=None, done_at=None, failed_at=None)
    upsert = insert.on_conflict_do_update(
        index_elements=[jobs.c.kind, jobs.c.key], index_where=jobs.c.done_at.is_(None) & jobs.c.failed_at.is_(None),
        set_={"payload": insert.excluded.payload, "due_at": insert.excluded.due_at,
              "revision": jobs.c.revision + 1},
    )
    return int(conn.execute(upsert.returning(jobs.c.id)).scalar_one())


def _row_to_job(row: Row[Any]) -> Job:
    data = row._mapping
    return Job(id=int(data["id"]), kind=data["kind"], key=data["key"], payload=json.loads(data["payload"]),
               revision=int(data["revision"]), created_at=data["created_at"], due_at=data["due_at"],
               attempts=int(data["attempts"]), last_error=data["last_error"], claimed_until=data["claimed_until"],
               done_at=data["done_at"], failed_at=data["failed_at"])


class JobStore:
    """Jobs; each public method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(sqlite_write=True)

    def enqueue(self, kind: str, key: str, payload: Mapping[str, Any], due_at: datetime,
                now: datetime | None = None) -> int:
        """Add a job due at `due_at`; re-enqueueing a pending kind and key updates it. Its id."""
        with self._writer.begin() as conn:
            return enqueue_job(conn, kind, key, payload, due_at, now or due_at)

    def claim_due(self, now: datetime, kinds: Sequence[str], limit: int = 10,
                  lease_seconds: float = 300) -> list[Job]:
        """Reserve up to `limit` due jobs of `kinds` that no other runner holds, for `lease_seconds`."""
        if not kinds:
            return []
        due = (*_OPEN, jobs.c.kind.in_(list(kinds)), jobs.c.due_at <= now,
               or_(jobs.c.claimed_until.is_(None), jobs.c.claimed_until < now))
        until = now + timedelta(seconds=lease_seconds)
        order = (jobs.c.due_at, jobs.c.id)
        claimed: list[Job] = []
        with self._writer.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Rows another instance is claiming are skipped, not waited for.
                ids = [row.id for row in conn.execute(
                    select(jobs.c.id).where(*due).order_by(*order).limit(limit).with_for_update(skip_locked=True))]
                if ids:
                    rows = conn.execute(jobs.update().where(jobs.c.id.in_(ids)).values(claimed_until=until)
                                        .returning(*jobs.c)).all()
                    claimed = sorted((_row_to_job(r) for r in rows), key=lambda j: (j.due_at, j.id))
                return claimed
            # SQLite writes one at a time; the conditional update makes a stale read harmless.
            for row in conn.execute(select(jobs).where(*due).order_by(*order).limit(limit)).all():
                if conn.execute(jobs.update().where(jobs.c.id == row.id, *due)
                                .values(claimed_until=until)).rowcount == 1:
                    claimed.append(replace(_row_to_job(row), claimed_until=until))
        return claimed

    def complete(self, job: Job | int, now: datetime) -> bool:
        """Mark a job done. A job re-enqueued while it ran (a newer revision) is only released, to
        run again with what was enqueued; False then."""
        with self._writer.begin() as conn:
            if isinstance(job, Job):
                done = conn.execute(jobs.update().where(jobs.c.id == job.id, jobs.c.revision == job.revision)
                                    .values(done_at=now, claimed_until=None, attempts=jobs.c.attempts + 1,
                                            last_error=None)).rowcount
                if done == 1:
                    return True
                conn.execute(jobs.update().where(jobs.c.id == job.id).values(claimed_until=None))
                return False
            conn.execute(jobs.update().where(jobs.c.id == job).values(
                done_at=now, claimed_until=None, attempts=jobs.c.attempts + 1, last_error=None))
            return True

    def retry(self, job: Job | int, error: str, next_at: datetime) -> None:
        """Release a job after a failed attempt, to be tried again at `next_at`."""
        job_id = job.id if isinstance(job, Job) else job
        with self._writer.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(
                claimed_until=None, attempts=jobs.c.attempts + 1, last_error=error[:1000],
                due_at=next_at))

    def fail(self, job: Job | int, error: str, now: datetime) -> None:
        """Give up on a job for good (its error is kept)."""
        job_id = job.id if isinstance(job, Job) else job
        with self._writer.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(
                claimed_until=None, attempts=jobs.c.attempts + 1, last_error=error[:1000], failed_at=now))

    def get(self, job_id: int) -> Job | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return _row_to_job(row) if row is not None else None

    def find(self, kind: str, key: str) -> Job | None:
        """The open job of this kind and key, else the latest finished one."""
        with self.engine.begin() as conn:
            row = conn.execute(select(jobs).where(jobs.c.kind == kind, jobs.c.key == key)
                               .order_by(jobs.c.done_at.is_not(None), jobs.c.failed_at.is_not(None),
                                         jobs.c.id.desc()).limit(1)).first()
        return _row_to_job(row) if row is not None else None

    def all(self, kind: str | None = None) -> list[Job]:
        """Every job (of one kind), oldest first (tests and the health page)."""
        query = select(jobs).order_by(jobs.c.id)
        if kind is not None:
            query = query.where(jobs.c.kind == kind)
        with self.engine.begin() as conn:
            return [_row_to_job(r) for r in conn.execute(query)]


__all__ = ["JobStore", "enqueue_job"]

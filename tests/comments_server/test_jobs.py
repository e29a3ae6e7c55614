"""The durable job table and its runner, on SQLite and PostgreSQL: enqueue updates a pending job,
a job re-enqueued while it runs runs again, failures retry with backoff and then fail for good,
and two runners on one database run each job exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from comments_server.jobs import MAX_ATTEMPTS, JobFailed, JobRunner, retry_delay
from comments_server.storage import open_storage

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def storage(db_url):
    store = open_storage(db_url)
    yield store
    store.close()


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


def test_enqueue_of_a_pending_kind_and_key_updates_it(storage):
    first = storage.jobs.enqueue("k", "a", {"n": 1}, NOW, NOW)
    again = storage.jobs.enqueue("k", "a", {"n": 2}, NOW + timedelta(minutes=5), NOW)
    other = storage.jobs.enqueue("k", "b", {"n": 3}, NOW, NOW)
    assert first == again != other
    job = storage.jobs.get(first)
    assert (job.payload, job.due_at, job.revision) == ({"n": 2}, NOW + timedelta(minutes=5), 1)


def test_a_finished_job_leaves_room_for_a_new_one_with_its_key(storage):
    first = storage.jobs.enqueue("k", "a", {}, NOW, NOW)
    [job] = storage.jobs.claim_due(NOW, ["k"])
    assert storage.jobs.complete(job, NOW)
    second = storage.jobs.enqueue("k", "a", {}, NOW, NOW)
    assert second != first
    assert [j.id for j in storage.jobs.all("k")] == [first, second]


def test_claimed_jobs_are_not_claimed_again_until_their_lease_ends(storage):
    storage.jobs.enqueue("k", "a", {}, NOW, NOW)
    assert len(storage.jobs.claim_due(NOW, ["k"], lease_seconds=60)) == 1
    assert storage.jobs.claim_due(NOW + timedelta(seconds=30), ["k"]) == []
    # A runner that died holding it: the lease ends and another takes it.
    assert len(storage.jobs.claim_due(NOW + timedelta(seconds=61), ["k"])) == 1


def test_only_due_jobs_of_the_asked_kinds_are_claimed(storage):
    storage.jobs.enqueue("k", "later", {}, NOW + timedelta(hours=1), NOW)
    storage.jobs.enqueue("other", "now", {}, NOW, NOW)
    storage.jobs.enqueue("k", "now", {}, NOW, NOW)
    assert [j.key for j in storage.jobs.claim_due(NOW, ["k"])] == ["now"]


def test_a_job_enqueued_again_while_it_runs_runs_again(storage):
    storage.jobs.enqueue("k", "a", {"n": 1}, NOW, NOW)
    [running] = storage.jobs.claim_due(NOW, ["k"])
    storage.jobs.enqueue("k", "a", {"n": 2}, NOW, NOW)
    assert storage.jobs.complete(running, NOW) is False
    [again] = storage.jobs.claim_due(NOW, ["k"])
    assert again.payload == {"n": 2}
    assert storage.jobs.complete(again, NOW) is True
    assert storage.jobs.claim_due(NOW, ["k"]) == []


def test_runner_retries_with_backoff_then_gives_up(storage):
    clock = Clock()
    calls = []

    def flaky(job, services):
        calls.append(job.attempts)
        raise OSError("remote down")

    runner = JobRunner(storage.jobs, {"k": flaky}, clock)
    job_id = storage.jobs.enqueue("k", "a", {}, NOW, NOW)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert runner.run_due(None) == 1
        job = storage.jobs.get(job_id)
        assert job.attempts == attempt and job.last_error == "OSError: remote down"
        if attempt < MAX_ATTEMPTS:
            assert job.due_at == clock.now + retry_delay(attempt) and job.failed_at is None
            assert runner.run_due(None) == 0
            clock.now = job.due_at
    assert storage.jobs.get(job_id).failed_at is not None
    assert calls == list(range(MAX_ATTEMPTS))
    assert retry_delay(1) == timedelta(minutes=1) and retry_delay(2) == timedelta(minutes=2)


def test_job_failed_is_given_up_at_once(storage):
    def refuse(job, services):
        raise JobFailed("no such page")

    job_id = storage.jobs.enqueue("k", "a", {}, NOW, NOW)
    assert JobRunner(storage.jobs, {"k": refuse}, Clock()).run_due(None) == 1
    job = storage.jobs.get(job_id)
    assert job.failed_at is not None and job.last_error == "no such page" and job.attempts == 1


def test_two_runners_on_one_database_run_each_job_exactly_once(db_url):
    """Two runners, each with its own engine (as two server processes have), claim from one table
    at the same time; every job runs once."""
    stores = [open_storage(db_url), open_storage(db_url)]
    try:
        for n in range(60):
            stores[0].jobs.enqueue("k", f"job-{n}", {"n": n}, NOW, NOW)
        ran: list[tuple[str, int]] = []
        lock = threading.Lock()
        start = threading.Barrier(2)

        def handler_for(name):
            def handle(job, services):
                with lock:
                    ran.append((name, job.payload["n"]))
            return handle

        runners = [JobRunner(store.jobs, {"k": handler_for(f"runner-{i}")}, Clock(), batch=3)
                   for i, store in enumerate(stores)]

        def run(runner):
            start.wait()
            runner.run_due(None)

        threads = [threading.Thread(target=run, args=(r,)) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(n for _, n in ran) == list(range(60))
        assert all(job.done_at is not None for job in stores[0].jobs.all())
    finally:
        for store in stores:
            store.close()

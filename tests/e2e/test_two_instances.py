"""Two server instances under gunicorn on one PostgreSQL, rate limits shared through Redis:
concurrent writers through both lose nothing, and the limit counts across both."""

from __future__ import annotations

import http.client
import json
import os
import signal
import sys
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.support.live import LiveServer, LiveServers, free_port, server_env
from tests.support.server import POST, REDIS_URL, SECRET, new_comment, postgres_schema


def gunicorn(live_servers: LiveServers, tmp_path, name: str, env: dict[str, str]) -> LiveServer:
    port = free_port()
    return live_servers.process(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "comments_server.wsgi:app"], port=port, env=env, cwd=tmp_path, log=tmp_path / f"{name}.log",
        db_url=env["COMMENTS_DATABASE_URL"])


@pytest.fixture
def two_instances(tmp_path, manifest, postgres_url, live_servers):
    if not REDIS_URL:
        pytest.skip("needs COMMENTS_TEST_POSTGRES_URL and COMMENTS_TEST_REDIS_URL")
    with postgres_schema(postgres_url) as url:
        prefix = f"test-{uuid.uuid4().hex[:8]}"
        env = server_env(SECRET_KEY=SECRET, DATABASE_URL=url, THREADS_MANIFEST=str(manifest),
                         RATE_LIMIT="off", READ_RATE_LIMIT="off", MIN_SUBMIT_SECONDS="off",
                         RATE_LIMIT_STORAGE_URL=REDIS_URL, RATE_LIMIT_KEY_PREFIX=prefix,
                         MAIL_SEND_IN_BACKGROUND="false")
        servers = [gunicorn(live_servers, tmp_path, "one", env), gunicorn(live_servers, tmp_path, "two", env)]
        yield servers, url, env
        for server in servers:   # before their schema goes
            server.stop()


def test_writers_through_two_instances_lose_nothing(two_instances):
    servers, url, _env = two_instances
    acked: list[int] = []
    failures: list[int] = []

    def write(worker: int) -> None:
        server = servers[worker % 2]
        for n in range(40):
            status, _headers, body = server.request(
                "POST", "/api/comments", new_comment(body=f"from {worker}: {n}", author_name=f"W{worker}"))
            if status == 201:
                acked.append(json.loads(body)["id"])
            else:
                failures.append(status)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(acked) == 320
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = {row[0] for row in conn.execute(text("SELECT id FROM comments"))}
    engine.dispose()
    assert set(acked) <= stored
    # Both instances read the same conversation.
    counts = [json.loads(s.request("GET", f"/api/comments?thread={POST}")[2])["count"] for s in servers]
    assert counts == [320, 320]


def test_rate_limit_counts_across_instances(tmp_path, two_instances, live_servers):
    servers, _url, env = two_instances
    limited = dict(env, COMMENTS_RATE_LIMIT="4/minute",
                   COMMENTS_RATE_LIMIT_KEY_PREFIX=f"limit-{uuid.uuid4().hex[:8]}")
    pair = [gunicorn(live_servers, tmp_path, "limited-one", limited),
            gunicorn(live_servers, tmp_path, "limited-two", limited)]
    try:
        statuses = [pair[n % 2].request("POST", "/api/comments", new_comment(body=f"n{n}"))[0]
                    for n in range(6)]
    finally:
        for server in pair:   # before their schema goes
            server.stop()
    assert statuses[:4] == [201] * 4 and statuses[4:] == [429, 429]


def test_retries_after_an_instance_is_killed_mid_burst_store_each_comment_once(tmp_path, manifest, postgres_url,
                                                                               live_servers):
    """Issue 13, "retries never duplicate": writers post through one instance, which is killed
    with SIGKILL mid-burst; each request left without an answer (stored or not, the client cannot
    tell) is sent again, with its Idempotency-Key, to the other instance. Every key ends up as
    exactly one comment: none lost, none twice."""
    with postgres_schema(postgres_url) as url:
        settings = {"DATABASE_URL": url, "THREADS_MANIFEST": str(manifest), "MAIL_SEND_IN_BACKGROUND": "false"}
        one = live_servers.comments(tmp_path, name="one", **settings)
        two = live_servers.comments(tmp_path, name="two", **settings)
        answered: dict[str, int] = {}
        unanswered: list[tuple[str, dict]] = []
        stop = threading.Event()

        def work(worker: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                key, body = f"w{worker}-{n}-{uuid.uuid4().hex}", new_comment(body=f"burst {worker}-{n}")
                try:
                    status, _headers, raw = one.request("POST", "/api/comments", body, {"Idempotency-Key": key})
                except (OSError, http.client.HTTPException):   # no answer, or half of one
                    unanswered.append((key, body))   # killed: stored or not, nobody knows
                    return
                assert status == 201, raw
                answered[key] = json.loads(raw)["id"]

        writers = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(6)]
        for thread in writers:
            thread.start()
        while len(answered) < 60:
            threading.Event().wait(0.01)
        os.kill(one.process.pid, signal.SIGKILL)
        one.process.wait()
        stop.set()
        for thread in writers:
            thread.join(timeout=30)
        replayed = 0
        for key, body in unanswered:
            status, headers, raw = two.request("POST", "/api/comments", body, {"Idempotency-Key": key})
            assert status == 201, raw
            replayed += headers.get("Idempotent-Replayed") == "true"
            answered[key] = json.loads(raw)["id"]
        two.stop()
        engine = create_engine(url)
        with engine.connect() as conn:
            bodies = [row[0] for row in conn.execute(text("SELECT body FROM comments"))]
            ids = {row[0] for row in conn.execute(text("SELECT id FROM comments"))}
        engine.dispose()
    assert len(bodies) == len(set(bodies)) == len(answered)  # each request once
    assert set(answered.values()) == ids
    print(f"killed mid-burst: {len(answered)} comments, {len(unanswered)} retried, {replayed} of them "
          "had been stored and got their first answer")

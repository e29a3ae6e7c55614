"""A real server crashing and being backed up while it works: killed with SIGKILL in the middle of
a burst of posts it loses no acknowledged comment; a backup of its live database is consistent and
restores. (Faults inside the process, a full disk or a read-only database, are in
tests/comments_server/test_faults.py.)"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
from pathlib import Path

from comments_server.backup import backup_sqlite
from tests.support.live import LiveServer, LiveServers
from tests.support.server import POST, new_comment, stored_ids


def serve(live_servers: LiveServers, tmp_path: Path, db: Path, manifest: Path, name: str = "server") -> LiveServer:
    return live_servers.comments(tmp_path, name=name, DATABASE_URL=f"sqlite:///{db}",
                                 THREADS_MANIFEST=str(manifest), MAIL_SEND_IN_BACKGROUND="false")


def writers(server, count: int, acked: list[int], stop: threading.Event) -> list[threading.Thread]:
    """Threads posting comments until stopped; the id of every 201 goes into `acked`."""
    def work(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                status, _headers, body = server.request(
                    "POST", "/api/comments", new_comment(body=f"burst {worker}-{n}", author_name=f"W{worker}"))
            except (OSError, http.client.HTTPException):
                return                       # the server is gone (mid-answer, maybe)
            if status == 201:
                acked.append(json.loads(body)["id"])
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads


def test_sigkill_mid_burst_loses_no_acknowledged_comment(tmp_path, manifest, live_servers):
    db = tmp_path / "comments.sqlite3"
    server = serve(live_servers, tmp_path, db, manifest)
    acked: list[int] = []
    stop = threading.Event()
    threads = writers(server, 6, acked, stop)
    while len(acked) < 150:
        threading.Event().wait(0.01)
    os.kill(server.process.pid, signal.SIGKILL)      # in the middle of the burst
    server.process.wait()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    restarted = serve(live_servers, tmp_path, db, manifest, name="restarted")
    status, _headers, _body = restarted.request("GET", f"/api/comments?thread={POST}")
    restarted.stop()
    assert status == 200
    assert set(acked) <= stored_ids(db)
    print(f"SIGKILL mid-burst: {len(acked)} acknowledged, {len(set(acked) - stored_ids(db))} lost")


def test_backup_of_a_live_database_is_consistent_and_restores(tmp_path, manifest, live_servers):
    db = tmp_path / "comments.sqlite3"
    server = serve(live_servers, tmp_path, db, manifest)
    acked: list[int] = []
    stop = threading.Event()
    threads = writers(server, 4, acked, stop)
    try:
        while len(acked) < 50:
            threading.Event().wait(0.01)
        before = list(acked)
        copy = tmp_path / "backup" / "comments.sqlite3"
        count = backup_sqlite(db, copy)          # while the writers go on
        assert count >= len(before)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        server.stop()
    assert set(before) <= stored_ids(copy)
    restored = serve(live_servers, tmp_path, copy, manifest, name="restored")
    status, _headers, body = restored.request("GET", f"/api/comments?thread={POST}")
    assert status == 200 and b"burst" in body
    status, _headers, _body = restored.request("POST", "/api/comments", new_comment())
    assert status == 201

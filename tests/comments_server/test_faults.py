"""Faults: a server killed mid-burst loses no acknowledged comment; a full disk or a read-only
database answers 503, not 500; a backup of a live database is consistent and restores."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from comments_server.backup import backup_sqlite
from comments_server.cli import comments as comments_cli
from comments_server.services import services
from tests.server.conftest import (POST, SECRET, assert_error, free_port, new_comment, server_env,
                                   start_server)


def serve(tmp_path: Path, db: Path, manifest: Path, name: str = "server"):
    port = free_port()
    env = server_env(SECRET_KEY=SECRET, DATABASE_URL=f"sqlite:///{db}", THREADS_MANIFEST=str(manifest),
                     RATE_LIMIT="off", READ_RATE_LIMIT="off", MIN_SUBMIT_SECONDS="off",
                     MAIL_SEND_IN_BACKGROUND="false")
    command = [sys.executable, "-m", "comments_server", "serve", "--port", str(port)]
    return start_server(command, env, tmp_path / f"{name}.log", tmp_path, f"http://127.0.0.1:{port}",
                        f"sqlite:///{db}")


def writers(server, count: int, acked: list[int], stop: threading.Event) -> list[threading.Thread]:
    """Threads posting comments until stopped; the id of every 201 goes into `acked`."""
    def work(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                status, _headers, body = server.request(
                    "POST", "/api/comments", new_comment(body=f"burst {worker}-{n}", author_name=f"W{worker}"))
            except OSError:
                return                       # the server is gone
            if status == 201:
                import json
                acked.append(json.loads(body)["id"])
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads


def stored_ids(db: Path) -> set[int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {row[0] for row in conn.execute("SELECT id FROM comments")}


def test_sigkill_mid_burst_loses_no_acknowledged_comment(tmp_path, manifest):
    db = tmp_path / "comments.sqlite3"
    server = serve(tmp_path, db, manifest)
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
    restarted = serve(tmp_path, db, manifest, name="restarted")
    try:
        status, _headers, _body = restarted.request("GET", f"/api/comments?thread={POST}")
        assert status == 200
    finally:
        restarted.process.terminate()
        restarted.process.wait(timeout=10)
    assert set(acked) <= stored_ids(db)
    print(f"SIGKILL mid-burst: {len(acked)} acknowledged, {len(set(acked) - stored_ids(db))} lost")


def test_backup_of_a_live_database_is_consistent_and_restores(tmp_path, manifest):
    db = tmp_path / "comments.sqlite3"
    server = serve(tmp_path, db, manifest)
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
        server.process.terminate()
        server.process.wait(timeout=10)
    assert set(before) <= stored_ids(copy)
    restored = serve(tmp_path, copy, manifest, name="restored")
    try:
        status, _headers, body = restored.request("GET", f"/api/comments?thread={POST}")
        assert status == 200 and b"burst" in body
        status, _headers, _body = restored.request("POST", "/api/comments", new_comment())
        assert status == 201
    finally:
        restored.process.terminate()
        restored.process.wait(timeout=10)


def test_backup_command(tmp_path, monkeypatch, make_app):
    app = make_app()
    client = app.test_client()
    assert client.post("/api/comments", json=new_comment()).status_code == 201
    db = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    monkeypatch.setenv("COMMENTS_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(comments_cli, ["backup", str(tmp_path / "copy.sqlite3")])
    assert result.exit_code == 0, result.output
    assert "Backed up 1 comments" in result.output and "integrity check ok" in result.output
    assert len(stored_ids(tmp_path / "copy.sqlite3")) == 1
    monkeypatch.setenv("COMMENTS_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    result = CliRunner().invoke(comments_cli, ["backup", str(tmp_path / "pg.sqlite3")])
    assert result.exit_code == 1 and "pg_dump" in result.output


@contextlib.contextmanager
def tiny_disk(path: Path, size: str) -> Iterator[Path]:
    """A small tmpfs of its own: a disk that really fills up (root only)."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"needs to mount a tmpfs (root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_answers_503_and_recovers(tmp_path, make_app):
    with tiny_disk(tmp_path / "disk", "2m") as disk:
        app = make_app(DATABASE_URL=f"sqlite:///{disk / 'comments.sqlite3'}", MAX_BODY_LENGTH=None,
                       MAX_CONTENT_LENGTH=None)
        client = app.test_client()
        assert client.post("/api/comments", json=new_comment()).status_code == 201
        filler = disk / "filler"
        with open(filler, "wb") as handle:   # take (almost) all the space there is
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass
        statuses = [client.post("/api/comments", json=new_comment(body="x" * 60000)).status_code
                    for _ in range(5)]
        assert 500 not in statuses and 503 in statuses
        response = client.post("/api/comments", json=new_comment(body="y" * 60000))
        if response.status_code == 503:
            assert_error(response, 503, "unavailable")
            assert "full disk" in response.get_json()["error"]["message"]
        filler.unlink()
        assert client.post("/api/comments", json=new_comment()).status_code == 201
        services(app).storage.close()
        assert len(stored_ids(disk / "comments.sqlite3")) >= 2


def test_a_read_only_database_answers_503(tmp_path, make_app):
    db = tmp_path / "comments.sqlite3"
    app = make_app(DATABASE_URL=f"sqlite:///{db}", MAIL_SEND_IN_BACKGROUND=False)
    client = app.test_client()
    assert client.post("/api/comments", json=new_comment()).status_code == 201
    # An immutable file cannot be opened for writing, even by root: a read-only database.
    locked = subprocess.run(["chattr", "+i", str(db)], capture_output=True, text=True)
    if locked.returncode != 0:
        pytest.skip(f"needs chattr on this filesystem: {locked.stderr.strip()}")
    try:
        services(app).storage.engine.dispose()   # connections open anew
        response = client.post("/api/comments", json=new_comment(body="after"))
        assert_error(response, 503, "unavailable")
        assert response.headers["Retry-After"] == "60"
        assert client.get(f"/api/comments?thread={POST}").status_code == 200   # reads go on
    finally:
        subprocess.run(["chattr", "-i", str(db)], capture_output=True)

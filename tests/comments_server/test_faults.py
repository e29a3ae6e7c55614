"""Faults in the process: a full disk or a read-only database answers 503, not 500; the backup
command. A server killed mid-burst and a backup of a live database: tests/e2e/test_server_crashes.py."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from comments_server.cli import comments as comments_cli
from comments_server.services import services
from tests.support.server import POST, assert_error, new_comment, stored_ids


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


def test_database_backup_and_export_are_readable_by_their_owner_only(tmp_path, monkeypatch, make_app):
    """Issue 13 item 12: with the usual umask 022 they were created 0644, readable by every local
    user, though they hold emails, IP addresses and password hashes."""
    old_umask = os.umask(0o022)
    try:
        app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh' / 'comments.sqlite3'}")
        assert app.test_client().post("/api/comments", json=new_comment()).status_code == 201
        db = tmp_path / "fresh" / "comments.sqlite3"
        monkeypatch.setenv("COMMENTS_DATABASE_URL", f"sqlite:///{db}")
        monkeypatch.chdir(tmp_path)
        runner = CliRunner()
        assert runner.invoke(comments_cli, ["backup", str(tmp_path / "copy.sqlite3")]).exit_code == 0
        (tmp_path / "out.json").write_text("an older export, readable by all")
        assert runner.invoke(comments_cli, ["export", str(tmp_path / "out.json")]).exit_code == 0
    finally:
        os.umask(old_umask)
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), tmp_path / "copy.sqlite3", tmp_path / "out.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


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


@pytest.mark.slow
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

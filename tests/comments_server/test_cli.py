"""`blogengine comments serve|migrate` through click's CliRunner, plus real subprocesses."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from flask import Flask

from comments_server.cli import comments
from comments_server.storage.schema import head_revision, schema_state
from comments_server.storage.sql import make_engine
from tests.support import REPO
from tests.support.live import server_env
from tests.support.server import SECRET, write_manifest

SITE_TOML = """
title = "Site"
base_url = "https://blog.example.com/"

[comments]
enabled = true

[comments.server]
moderation = "first-time"
rate_limit = "10/minute"
"""


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "blogengine.toml").write_text(textwrap.dedent(SITE_TOML), encoding="utf-8")
    write_manifest(root / "public" / "threads.json")
    return root


@pytest.fixture
def runs(monkeypatch):
    """Record Flask.run instead of listening on a port (the network is the outer edge)."""
    calls = []

    def fake_run(self, host=None, port=None, **kwargs):
        calls.append((self, host, port, kwargs))

    monkeypatch.setattr(Flask, "run", fake_run)
    for name in [n for n in __import__("os").environ if n.startswith("COMMENTS_") and "TEST" not in n]:
        monkeypatch.delenv(name)
    return calls


def test_group_lists_its_commands():
    result = CliRunner().invoke(comments, ["--help"])
    assert result.exit_code == 0 and "serve" in result.output and "migrate" in result.output
    result = CliRunner().invoke(comments, ["serve", "--help"])
    assert "--host" in result.output and "--port" in result.output and "--site" in result.output


def test_serve_from_a_site_folder_needs_no_flags(site, runs, monkeypatch):
    monkeypatch.chdir(site / "public")  # any folder inside the site will do
    result = CliRunner().invoke(comments, ["serve"])
    assert result.exit_code == 0, result.output
    app, host, port, kwargs = runs[0]
    assert (host, port, kwargs["threaded"]) == ("127.0.0.1", 8001, True)
    root = site.resolve()
    assert app.config["DATABASE_URL"] == f"sqlite:///{root / 'comments.sqlite3'}"
    assert app.config["THREADS_MANIFEST"] == str(root / "public" / "threads.json")
    assert app.config["CORS_ORIGINS"] == ["https://blog.example.com"]
    assert app.config["MODERATION"] == "first-time" and app.config["RATE_LIMIT"] == "10/minute"
    assert (root / "comments.sqlite3").exists()
    secret = (root / "comments.sqlite3-secret").read_text().strip()
    assert app.config["SECRET_KEY"] == secret and len(secret) >= 32
    # A second start keeps the same secret.
    CliRunner().invoke(comments, ["serve", "--host", "0.0.0.0", "--port", "9999"])
    assert runs[1][0].config["SECRET_KEY"] == secret and runs[1][1:3] == ("0.0.0.0", 9999)


def test_serve_with_site_option(site, runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(comments, ["serve", "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert runs[0][0].config["SITE"] == str(site.resolve())


def test_serve_refuses_a_folder_that_is_not_a_site(tmp_path, runs):
    result = CliRunner().invoke(comments, ["serve", "--site", str(tmp_path)])
    assert result.exit_code == 1 and "not a site folder" in result.output and runs == []


def test_serve_refuses_when_comments_are_off(site, runs):
    (site / "blogengine.toml").write_text("[comments]\nenabled = false\n")
    result = CliRunner().invoke(comments, ["serve", "--site", str(site)])
    assert result.exit_code == 1 and "comments are off" in result.output


def test_serve_lists_config_problems_without_traceback(site, runs):
    (site / "blogengine.toml").write_text('[comments.server]\nmoderation = "maybe"\nmax_linkz = 3\n')
    result = CliRunner().invoke(comments, ["serve", "--site", str(site)])
    assert result.exit_code == 1
    assert "cannot start" in result.output and "MODERATION" in result.output and "max_linkz" in result.output
    assert "Traceback" not in result.output and runs == []


def test_migrate_creates_then_reports_up_to_date(site, runs):
    result = CliRunner().invoke(comments, ["migrate", "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert f"migrated from empty to revision {head_revision()}" in result.output
    engine = make_engine(f"sqlite:///{site / 'comments.sqlite3'}")
    assert schema_state(engine).is_current
    engine.dispose()
    result = CliRunner().invoke(comments, ["migrate", "--site", str(site)])
    assert f"up to date (revision {head_revision()})" in result.output


def test_migrate_needs_no_secret_or_manifest(tmp_path, runs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMMENTS_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    result = CliRunner().invoke(comments, ["migrate"])
    assert result.exit_code == 0, result.output


def test_migrate_unreachable_database_is_one_line(runs, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMMENTS_DATABASE_URL", "postgresql+psycopg://nobody:secretpw@127.0.0.1:1/none")
    result = CliRunner().invoke(comments, ["migrate"])
    assert result.exit_code == 1 and "cannot migrate" in result.output
    assert "secretpw" not in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_real_subprocess_reports_bad_config(tmp_path):
    env = server_env(DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}", MODERATION="sometimes",
                     THREADS_MANIFEST=str(tmp_path / "t.json"), SECRET_KEY=SECRET)
    result = subprocess.run([sys.executable, "-m", "comments_server", "serve", "--port", "1"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "environment MODERATION: 'sometimes' is not one of none, first-time, all" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_real_subprocess_migrate(tmp_path):
    env = server_env(DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    result = subprocess.run([sys.executable, "-m", "comments_server", "migrate"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and f"revision {head_revision()}" in result.stdout


@pytest.mark.slow
def test_wsgi_module_builds_the_app_from_the_environment(tmp_path, manifest):
    env = server_env(SECRET_KEY=SECRET, DATABASE_URL=f"sqlite:///{tmp_path / 'w.sqlite3'}",
                     THREADS_MANIFEST=str(manifest))
    code = "from comments_server.wsgi import app; print(app.url_map.bind('x').match('/healthz')[0])"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "healthz"

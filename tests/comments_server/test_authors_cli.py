"""`blogengine comments add-author|list-authors|remove-author|set-password|add-token|remove-token`
through click's CliRunner, plus one real subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from comments_server.accounts import Accounts
from comments_server.cli import comments
from comments_server.service import utcnow
from comments_server.storage import open_storage
from tests.support import REPO
from tests.support.live import server_env
from tests.support.server import write_manifest

PASSWORD = "correct horse battery"


@pytest.fixture
def site(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    (root / "blogengine.toml").write_text(textwrap.dedent("""
        title = "Site"
        base_url = "https://blog.example.com/"
    """), encoding="utf-8")
    write_manifest(root / "public" / "threads.json")
    for name in [n for n in __import__("os").environ if n.startswith("COMMENTS_") and "TEST" not in n]:
        monkeypatch.delenv(name)
    return root


def run(site, *args, input=None):
    return CliRunner().invoke(comments, [*args, "--site", str(site)], input=input)


def accounts(site):
    return Accounts(open_storage(f"sqlite:///{site / 'comments.sqlite3'}"), utcnow)


@pytest.mark.slow
def test_add_list_set_password_and_remove(site):
    added = run(site, "add-author", "Ann Author", "--email", "Ann@Example.com", "--password-stdin",
                input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "Added Ann Author <ann@example.com>" in added.output
    assert accounts(site).authenticate("ann@example.com", PASSWORD).name == "Ann Author"
    listed = run(site, "list-authors")
    assert listed.output == "Ann Author <ann@example.com>  (no API tokens)\n"
    changed = run(site, "set-password", "ann author", "--password-stdin", input="another long password\n")
    assert changed.exit_code == 0 and "sessions have ended" in changed.output
    assert accounts(site).authenticate("Ann Author", "another long password") is not None
    assert accounts(site).authenticate("Ann Author", PASSWORD) is None
    removed = run(site, "remove-author", "Ann Author", "--yes")
    assert removed.exit_code == 0 and accounts(site).all() == []
    assert "No authors yet" in run(site, "list-authors").output


def test_password_prompt_asks_twice(site):
    result = run(site, "add-author", "Ann", "--email", "ann@example.com", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    mismatch = run(site, "add-author", "Bob", "--email", "bob@example.com", input=f"{PASSWORD}\nother one 123\n" * 2)
    assert "do not match" in mismatch.output.lower()


@pytest.mark.slow
def test_bad_input_is_explained(site):
    short = run(site, "add-author", "Ann", "--email", "ann@example.com", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    bad_email = run(site, "add-author", "Ann", "--email", "nope", "--password-stdin", input=PASSWORD + "\n")
    assert bad_email.exit_code == 1 and "'nope' is not an email address" in bad_email.output
    run(site, "add-author", "Ann", "--email", "ann@example.com", "--password-stdin", input=PASSWORD + "\n")
    taken = run(site, "add-author", "ANN", "--email", "x@example.com", "--password-stdin", input=PASSWORD + "\n")
    assert taken.exit_code == 1 and "exists already" in taken.output
    unknown = run(site, "remove-author", "Zed", "--yes")
    assert unknown.exit_code == 1 and "no author named 'Zed' (authors: Ann)" in unknown.output
    assert run(site, "remove-author", "Ann", input="n\n").exit_code == 1  # declined


def test_tokens_are_shown_once_and_revocable(site):
    run(site, "add-author", "Ann", "--email", "ann@example.com", "--password-stdin", input=PASSWORD + "\n")
    made = CliRunner().invoke(comments, ["add-token", "Ann", "--label", "deploy", "--site", str(site)])
    assert made.exit_code == 0
    secret = made.stdout.strip()
    assert secret.startswith("bec_") and len(secret) > 40
    assert accounts(site).author_for_token(secret).name == "Ann"
    assert "Ann <ann@example.com>  (deploy)" in run(site, "list-authors").output
    assert run(site, "remove-token", "Ann", "deploy").exit_code == 0
    assert accounts(site).author_for_token(secret) is None
    assert "no token labelled 'deploy'" in run(site, "remove-token", "Ann", "deploy").output


def test_digest_and_send_mail_need_a_mail_host(site):
    for command in ("digest", "send-mail"):
        result = run(site, command)
        assert result.exit_code == 1 and "MAIL_HOST is not set" in result.output


@pytest.mark.slow
def test_real_subprocess_add_author(site):
    env = server_env()
    command = [sys.executable, "-m", "comments_server", "add-author", "Ann", "--email", "ann@example.com",
               "--password-stdin", "--site", str(site)]
    done = subprocess.run(command, input=PASSWORD + "\n", capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    again = subprocess.run(command, input="short\n", capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert again.returncode == 1 and "Error:" in again.stderr and "Traceback" not in again.stderr

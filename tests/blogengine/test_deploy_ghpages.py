"""The `github-pages` deploy target against a local bare repository, read back from its branch."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.site import write_files
from tests.support.deploy import (ABOUT_PAGE_FILES, BROKEN_POST, outside_search_index, NOTES, built_files, deploy, listed,
                                  make_deploy_site, one_line_error)

IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}


def git(*args, cwd=None, check=True):
    env = {**os.environ, **IDENTITY}
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=env)
    if check:
        assert result.returncode == 0, result.stderr.decode()
    return result


def branch_files(bare, branch="gh-pages"):
    """Every file of the branch's tip commit, read back from the repository: path -> bytes."""
    names = git("ls-tree", "-r", "-z", "--name-only", branch, cwd=bare).stdout.decode().split("\0")
    return {name: git("cat-file", "blob", f"{branch}:{name}", cwd=bare).stdout
            for name in names if name}


def commits(bare, branch="gh-pages"):
    result = git("rev-list", branch, cwd=bare, check=False)
    return result.stdout.decode().split() if result.returncode == 0 else []


@pytest.fixture
def bare(tmp_path):
    path = tmp_path / "pages.git"
    git("init", "--quiet", "--bare", str(path))
    return path


@pytest.fixture
def site(tmp_path, bare):
    return make_deploy_site(tmp_path / "site", f"""
[deploy]
target = "github-pages"

[deploy.github_pages]
remote = "{bare}"
cname = "blog.example.com"
""")


def expected(site):
    return {**built_files(site), ".nojekyll": b"", "CNAME": b"blog.example.com\n"}


def test_github_pages_commits_the_site_to_the_branch(site, bare):
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert branch_files(bare) == expected(site)
    assert len(commits(bare)) == 1
    assert sorted(listed(result)["new"]) == sorted(expected(site))
    assert f"Deployed to github-pages {bare} (branch gh-pages)" in result.output


@pytest.mark.slow
def test_github_pages_dry_run_pushes_nothing(site, bare):
    result = deploy(site, "--dry-run")
    assert result.exit_code == 0, result.output
    assert commits(bare) == []
    assert sorted(listed(result)["new"]) == sorted(expected(site))
    assert deploy(site).exit_code == 0
    tip = commits(bare)
    (site / "content" / NOTES).write_text("version 2\n")
    result = deploy(site, "-n")
    assert listed(result) == {"new": [], "changed": [NOTES], "removed": []}
    assert commits(bare) == tip


@pytest.mark.slow
def test_github_pages_second_deploy_changes_only_the_changed_file(site, bare):
    assert deploy(site).exit_code == 0
    (site / "content" / NOTES).write_text("version 2\n")
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert listed(result) == {"new": [], "changed": [NOTES], "removed": []}
    history = commits(bare)
    assert len(history) == 2   # a fast-forward on top of the last deploy
    diff = git("diff-tree", "-r", "--name-only", "--no-commit-id", history[1], history[0],
               cwd=bare).stdout.decode().split()
    assert diff == [NOTES]
    assert branch_files(bare) == expected(site)


@pytest.mark.slow
def test_github_pages_removes_deleted_files_and_skips_empty_commits(site, bare):
    assert deploy(site).exit_code == 0
    result = deploy(site)
    assert "Nothing to deploy" in result.output
    assert len(commits(bare)) == 1
    (site / "content/pages/about.md").unlink()
    result = deploy(site)
    assert outside_search_index(listed(result)["removed"]) == ABOUT_PAGE_FILES
    assert "about/index.html" not in branch_files(bare)
    assert branch_files(bare) == expected(site)


def test_github_pages_failed_build_pushes_nothing(site, bare):
    assert deploy(site).exit_code == 0
    tip = commits(bare)
    (site / "content" / NOTES).write_text("version 2\n")
    write_files(site, {"content/posts/broken.md": BROKEN_POST})
    result = deploy(site)
    assert result.exit_code == 1 and "broken.md" in result.output
    assert commits(bare) == tip


@pytest.mark.slow
def test_github_pages_keeps_other_branches_and_builds_on_the_remote_tip(site, bare, tmp_path):
    """Someone else's commit on gh-pages becomes the parent; main is left alone."""
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(bare), str(clone))
    write_files(clone, {"README.md": "main branch\n"})
    git("add", "README.md", cwd=clone)
    git("commit", "--quiet", "-m", "main", cwd=clone)
    git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=clone)
    main_tip = commits(bare, "main")
    assert deploy(site).exit_code == 0
    git("fetch", "--quiet", "origin", cwd=clone)
    git("checkout", "--quiet", "-b", "pages", "origin/gh-pages", cwd=clone)
    write_files(clone, {"extra.txt": "added by hand\n"})
    git("add", "extra.txt", cwd=clone)
    git("commit", "--quiet", "-m", "by hand", cwd=clone)
    git("push", "--quiet", "origin", "pages:gh-pages", cwd=clone)
    by_hand = commits(bare)[0]
    result = deploy(site)
    assert listed(result)["removed"] == ["extra.txt"]
    assert commits(bare)[1] == by_hand
    assert commits(bare, "main") == main_tip


def test_github_pages_leaves_the_users_repository_alone(tmp_path, bare):
    """A site inside a git repository: its remote `origin` is used; the working tree, the
    index, HEAD and the local branches are exactly as before."""
    site = make_deploy_site(tmp_path / "repo", '[deploy]\ntarget = "github-pages"\n')
    git("init", "--quiet", "-b", "main", cwd=site)
    git("remote", "add", "origin", str(bare), cwd=site)
    write_files(site, {".gitignore": "public/\n.blogengine/\n"})
    git("add", ".", cwd=site)
    git("commit", "--quiet", "-m", "my site", cwd=site)
    (site / "content/posts/first.md").write_text("---\ntitle: Edited\ndate: 2024-05-01\n---\n\nWIP\n")
    git("add", "content/posts/first.md", cwd=site)                # staged
    (site / "content/pages/about.md").write_text("---\ntitle: About\n---\n\nUnstaged.\n")
    state = lambda: (git("status", "--porcelain", cwd=site).stdout,                 # noqa: E731
                     (site / ".git/index").read_bytes(),
                     git("rev-parse", "HEAD", cwd=site).stdout,
                     git("for-each-ref", "refs/heads", cwd=site).stdout)
    before = state()
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert state() == before
    assert branch_files(bare) == {**built_files(site), ".nojekyll": b""}
    # The push updated the remote-tracking branch, as a push to a named remote does.
    assert git("rev-parse", "origin/gh-pages", cwd=site).stdout.decode().split() == commits(bare)[:1]


def test_github_pages_push_rejected_is_one_line(site, bare):
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'deploys are frozen today' >&2\nexit 1\n")
    hook.chmod(0o755)
    error = one_line_error(deploy(site))
    assert "git push to" in error and "was rejected" in error
    assert "pre-receive hook declined" in error and "deploys are frozen today" in error
    assert commits(bare) == []


def test_github_pages_unreachable_remote_is_one_line(site, tmp_path):
    error = one_line_error(deploy(site, "--to", str(tmp_path / "missing.git")))
    assert "cannot reach git remote" in error and "missing.git" in error


def test_github_pages_unknown_remote_name_is_one_line(site):
    error = one_line_error(deploy(site, "--to", "upstream"))
    assert "git remote 'upstream' not found" in error
    assert not (site / "public").exists()

"""`blogengine deploy`: options, config, and the `dir` target, checked by reading the folder back."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from blogengine.config import (DeployConfig, DirTargetConfig, GithubPagesTargetConfig,
                               RsyncTargetConfig, S3TargetConfig, load_config)
from blogengine.deploy import Changes, plan_changes, site_files
from blogengine.errors import BlogError, ConfigError
from tests.support import REPO
from tests.support.site import post, write_files
from tests.support.deploy import (ABOUT_PAGE_FILES, BROKEN_POST, outside_search_index, NOTES, built_files, deploy, inodes, listed,
                                  make_deploy_site, one_line_error, snapshot)

DIR_TOML = """
[deploy]
target = "dir"

[deploy.dir]
path = "../www"
"""


@pytest.fixture
def site(tmp_path):
    return make_deploy_site(tmp_path / "site", DIR_TOML)


def www(site):
    return site.parent / "www"


def deployed(site):
    return {rel: data for rel, data in snapshot(www(site)).items() if rel != ".blogengine-deploy"}


# --- config -----------------------------------------------------------------------------------


def test_deploy_config_defaults(tmp_path):
    (tmp_path / "blogengine.toml").write_text('title = "T"\n')
    deploy_config = load_config(tmp_path).deploy
    assert deploy_config.target == "" and deploy_config.reload_comments is False
    assert deploy_config.dir == DirTargetConfig(path="", delete=True)
    assert deploy_config.rsync == RsyncTargetConfig(destination="", delete=True, checksum=True,
                                                    options=[])
    assert deploy_config.github_pages == GithubPagesTargetConfig(
        remote="origin", branch="gh-pages", cname="", nojekyll=True)
    assert deploy_config.s3 == S3TargetConfig(
        bucket="", prefix="", region="", endpoint_url="", profile="", delete=False,
        cache_control="public, max-age=300", cache_control_assets="public, max-age=86400")


def test_deploy_config_reads_every_key(tmp_path):
    (tmp_path / "blogengine.toml").write_text("""title = "T"
[deploy]
target = "s3"
reload_comments = true
[deploy.dir]
path = "out"
delete = false
[deploy.rsync]
destination = "me@host:/srv/blog/"
delete = false
checksum = false
options = ["-e", "ssh -p 2222"]
[deploy.github_pages]
remote = "upstream"
branch = "pages"
cname = "blog.example.com"
nojekyll = false
[deploy.s3]
bucket = "b"
prefix = "blog"
region = "eu-west-1"
endpoint_url = "http://127.0.0.1:9000"
profile = "p"
delete = true
cache_control = "no-cache"
cache_control_assets = "max-age=60"
""")
    assert load_config(tmp_path).deploy == DeployConfig(
        target="s3", reload_comments=True,
        dir=DirTargetConfig(path="out", delete=False),
        rsync=RsyncTargetConfig(destination="me@host:/srv/blog/", delete=False, checksum=False,
                                options=["-e", "ssh -p 2222"]),
        github_pages=GithubPagesTargetConfig(remote="upstream", branch="pages",
                                             cname="blog.example.com", nojekyll=False),
        s3=S3TargetConfig(bucket="b", prefix="blog", region="eu-west-1",
                          endpoint_url="http://127.0.0.1:9000", profile="p", delete=True,
                          cache_control="no-cache", cache_control_assets="max-age=60"))


def _config_error(tmp_path, toml):
    (tmp_path / "blogengine.toml").write_text('title = "T"\n' + toml)
    with pytest.raises(BlogError) as info:
        load_config(tmp_path)
    errors = getattr(info.value, "errors", [info.value])
    assert all(isinstance(e, ConfigError) for e in errors)
    return errors


def test_deploy_config_rejects_unknown_key_with_hint(tmp_path):
    [error] = _config_error(tmp_path, '[deploy.s3]\nbucket = "b"\nbuckt = "x"\n')
    assert "unknown key 'deploy.s3.buckt'" in error.message
    assert "did you mean 'deploy.s3.bucket'?" in error.message
    assert error.line == 4


def test_deploy_config_rejects_unknown_target_with_hint(tmp_path):
    [error] = _config_error(tmp_path, '[deploy]\ntarget = "github_pages"\n')
    assert "'deploy.target' is not a deploy target" in error.message
    assert "did you mean 'github-pages'?" in error.message
    assert error.line == 3


def test_deploy_config_rejects_wrong_types_and_values(tmp_path):
    errors = _config_error(tmp_path, '[deploy.rsync]\noptions = "-v"\n'
                                     '[deploy.s3]\nendpoint_url = "s3.example.com"\n')
    assert len(errors) == 1   # types first: values are checked once the types are right
    assert "'deploy.rsync.options' must be" in errors[0].message
    errors = _config_error(tmp_path, '[deploy.s3]\nendpoint_url = "s3.example.com"\nprefix = "../x"\n'
                                     '[deploy.github_pages]\nbranch = "bad..name"\n')
    messages = sorted(e.message for e in errors)
    assert any("'deploy.s3.endpoint_url' must be an absolute http(s) URL" in m for m in messages)
    assert any("'deploy.s3.prefix' must not climb out" in m for m in messages)
    assert any("'deploy.github_pages.branch' is not a branch name" in m for m in messages)


# --- pieces -----------------------------------------------------------------------------------


def test_plan_changes_compares_by_path_and_digest():
    wanted = {"a": "1", "b": "2", "c": "3"}
    present = {"b": "2", "c": "9", "d": "4"}
    assert plan_changes(wanted, present, delete=True) == Changes(new=("a",), changed=("c",),
                                                                  removed=("d",))
    assert plan_changes(wanted, present, delete=False).removed == ()


def test_site_files_leave_out_the_build_bookkeeping(site):
    assert deploy(site, "--dry-run").exit_code == 0
    files = site_files(site / "public")
    assert (site / "public/.blogengine-build").exists()
    assert ".blogengine-build" not in files
    assert "index.html" in files and NOTES in files and "threads.json" in files
    assert list(files) == sorted(files)


# --- the dir target ---------------------------------------------------------------------------


def test_deploy_dir_copies_the_whole_build(site):
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert deployed(site) == built_files(site)
    assert (www(site) / ".blogengine-deploy").is_file()
    assert sorted(listed(result)["new"]) == sorted(built_files(site))
    assert f"Deployed to dir {www(site)}: {len(built_files(site))} new, 0 changed, 0 removed." \
        in result.output


@pytest.mark.slow
def test_deploy_dry_run_lists_changes_and_changes_nothing(site):
    result = deploy(site, "--dry-run")
    assert result.exit_code == 0, result.output
    assert not www(site).exists()
    assert sorted(listed(result)["new"]) == sorted(built_files(site))
    assert "Dry run, nothing was changed" in result.output
    assert deploy(site).exit_code == 0
    before = snapshot(www(site))
    (site / "content" / NOTES).write_text("version 2\n")
    (site / "content/pages/about.md").unlink()
    write_files(site, {"content/posts/third.md": post("Third post", "2024-07-01")})
    result = deploy(site, "-n")
    assert result.exit_code == 0, result.output
    assert snapshot(www(site)) == before
    changes = listed(result)
    assert "about/index.html" in changes["removed"]
    assert NOTES in changes["changed"]
    assert any(p.endswith("third-post/index.html") for p in changes["new"])


@pytest.mark.slow
def test_second_deploy_copies_only_the_changed_file(site):
    assert deploy(site).exit_code == 0
    before = inodes(www(site))
    (site / "content" / NOTES).write_text("version 2, a little longer\n")
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert listed(result) == {"new": [], "changed": [NOTES], "removed": []}
    after = inodes(www(site))
    assert {rel for rel in before if before[rel] != after[rel]} == {NOTES}
    assert (www(site) / NOTES).read_text() == "version 2, a little longer\n"
    # Same size, other bytes: compared by content, not by size.
    (site / "content" / NOTES).write_text("version 3, a little longer\n")
    result = deploy(site)
    assert listed(result)["changed"] == [NOTES]
    assert deployed(site) == built_files(site)


@pytest.mark.slow
def test_deploy_dir_removes_deleted_files_and_empty_folders(site):
    assert deploy(site).exit_code == 0
    (site / "content/pages/about.md").unlink()
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert outside_search_index(listed(result)["removed"]) == ABOUT_PAGE_FILES
    assert not (www(site) / "about").exists()
    assert deployed(site) == built_files(site)


@pytest.mark.slow
def test_deploy_no_delete_keeps_removed_files(site):
    assert deploy(site).exit_code == 0
    (site / "content/pages/about.md").unlink()
    result = deploy(site, "--no-delete")
    assert result.exit_code == 0, result.output
    assert listed(result)["removed"] == []
    assert (www(site) / "about/index.html").is_file()


def test_deploy_nothing_changed_says_so(site):
    assert deploy(site).exit_code == 0
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert "Nothing to deploy" in result.output and "up to date" in result.output


def test_failed_build_deploys_nothing(site):
    write_files(site, {"content/posts/broken.md": BROKEN_POST})
    result = deploy(site)
    assert result.exit_code == 1
    assert "broken.md" in result.output and "nothing was written" in result.output
    assert not www(site).exists()
    (site / "content/posts/broken.md").unlink()
    assert deploy(site).exit_code == 0
    before = snapshot(www(site))
    (site / "content" / NOTES).write_text("version 2\n")
    write_files(site, {"content/posts/broken.md": BROKEN_POST})
    assert deploy(site).exit_code == 1
    assert snapshot(www(site)) == before


def test_deploy_dir_with_to_overrides_the_config(site, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = deploy(site, "--to", "elsewhere")
    assert result.exit_code == 0, result.output
    assert snapshot(tmp_path / "elsewhere").keys() - {".blogengine-deploy"} == built_files(site).keys()
    assert not www(site).exists()


def test_deploy_dir_refuses_a_folder_it_did_not_write(site):
    www(site).mkdir()
    (www(site) / "precious.txt").write_text("mine")
    error = one_line_error(deploy(site))
    assert "is not empty and was not written by `blogengine deploy`" in error
    assert snapshot(www(site)) == {"precious.txt": b"mine"}
    assert not (site / "public").exists()   # refused before building


@pytest.mark.parametrize("where", [".", "public", "public/x", "content", ".."])
def test_deploy_dir_refuses_folders_that_overlap_the_site(site, where):
    error = one_line_error(deploy(site, "--to", str(site / where)))
    assert "choose" in error


def test_deploy_dir_replaces_a_file_with_a_folder_and_back(site):
    assert deploy(site).exit_code == 0
    (www(site) / "about").rename(www(site) / "about-old")
    (www(site) / "about").write_text("a file where the build has a folder")
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert deployed(site) == built_files(site)


# --- choosing a target ------------------------------------------------------------------------


def test_deploy_without_a_target_says_how_to_choose_one(tmp_path):
    root = make_deploy_site(tmp_path / "site")
    error = one_line_error(deploy(root))
    assert "no deploy target" in error and "--target" in error


def test_deploy_rejects_an_unknown_target_option(site):
    result = deploy(site, "--target", "ftp")
    assert result.exit_code == 2
    assert "Invalid value for '--target'" in result.output
    assert not www(site).exists()


def test_deploy_unknown_target_in_config_is_a_config_error(tmp_path):
    root = make_deploy_site(tmp_path / "site", '[deploy]\ntarget = "ftp"\n')
    error = one_line_error(deploy(root))
    assert "blogengine.toml" in error and "'deploy.target' is not a deploy target" in error


def test_deploy_dir_without_a_path(tmp_path):
    root = make_deploy_site(tmp_path / "site", '[deploy]\ntarget = "dir"\n')
    error = one_line_error(deploy(root))
    assert "needs a folder" in error and "[deploy.dir]" in error


@pytest.mark.slow
def test_deploy_command_runs_as_a_process(site):
    """The real command, as a user runs it: a bad target in the config is one line on stderr."""
    (site / "blogengine.toml").write_text(
        (site / "blogengine.toml").read_text().replace('target = "dir"', 'target = "sftp"'))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "blogengine", "deploy", "--source", str(site)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "'deploy.target' is not a deploy target, got 'sftp'" in result.stderr
    assert not www(site).exists()


def test_deploy_help_lists_examples():
    from click.testing import CliRunner

    from blogengine.cli import main
    result = CliRunner().invoke(main, ["deploy", "--help"])
    assert result.exit_code == 0
    for text in ("--dry-run", "--target", "--to", "github-pages", "BLOGENGINE_COMMENTS_TOKEN"):
        assert text in result.output

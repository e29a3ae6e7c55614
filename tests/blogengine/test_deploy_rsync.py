"""The `rsync` deploy target, with the system rsync to a local path, read back from that path."""

from __future__ import annotations

import shutil

import pytest

from blogengine.deploy.rsync import is_remote, parse_itemized
from tests.support.site import write_files
from tests.support.deploy import (ABOUT_PAGE_FILES, BROKEN_POST, outside_search_index, NOTES, built_files, deploy, inodes, listed,
                                  make_deploy_site, one_line_error, snapshot)

if shutil.which("rsync") is None:   # CI installs it (a skip there is a failure)
    pytest.skip("rsync is not installed", allow_module_level=True)


@pytest.fixture
def site(tmp_path):
    return make_deploy_site(tmp_path / "site",
                            '[deploy]\ntarget = "rsync"\n[deploy.rsync]\ndestination = "../remote"\n')


def remote(site):
    return site.parent / "remote"


def test_rsync_deploys_the_build_to_a_local_path(site):
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert snapshot(remote(site)) == built_files(site)   # the build's bookkeeping stays home
    assert sorted(listed(result)["new"]) == sorted(built_files(site))
    assert "Deployed to rsync" in result.output


@pytest.mark.slow
def test_rsync_dry_run_changes_nothing(site):
    result = deploy(site, "--dry-run")
    assert result.exit_code == 0, result.output
    assert not remote(site).exists()
    assert sorted(listed(result)["new"]) == sorted(built_files(site))
    assert deploy(site).exit_code == 0
    before = snapshot(remote(site))
    (site / "content" / NOTES).write_text("version 2\n")
    result = deploy(site, "--dry-run")
    assert listed(result) == {"new": [], "changed": [NOTES], "removed": []}
    assert snapshot(remote(site)) == before


def test_rsync_second_deploy_sends_only_the_changed_file(site):
    assert deploy(site).exit_code == 0
    before = inodes(remote(site))
    (site / "content" / NOTES).write_text("version 2\n")   # same size: checksums tell
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert listed(result) == {"new": [], "changed": [NOTES], "removed": []}
    after = inodes(remote(site))
    assert {rel for rel in before if before[rel] != after[rel]} == {NOTES}
    assert snapshot(remote(site)) == built_files(site)


def test_rsync_clean_rebuild_sends_nothing(site):
    """A clean build rewrites every file's time; checksums see that nothing changed."""
    assert deploy(site).exit_code == 0
    result = deploy(site, "--clean")
    assert result.exit_code == 0, result.output
    assert listed(result) == {"new": [], "changed": [], "removed": []}
    assert "Nothing to deploy" in result.output


@pytest.mark.slow
def test_rsync_removes_deleted_files_unless_told_not_to(site):
    assert deploy(site).exit_code == 0
    (site / "content/pages/about.md").unlink()
    result = deploy(site, "--no-delete")
    assert listed(result)["removed"] == []
    assert (remote(site) / "about/index.html").is_file()
    result = deploy(site)
    assert outside_search_index(listed(result)["removed"]) == ABOUT_PAGE_FILES
    assert not (remote(site) / "about/index.html").exists()


def test_rsync_failed_build_deploys_nothing(site):
    assert deploy(site).exit_code == 0
    before = snapshot(remote(site))
    (site / "content" / NOTES).write_text("version 2\n")
    write_files(site, {"content/posts/broken.md": BROKEN_POST})
    result = deploy(site)
    assert result.exit_code == 1 and "broken.md" in result.output
    assert snapshot(remote(site)) == before


def test_rsync_missing_is_one_line(site, monkeypatch, tmp_path):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    error = one_line_error(deploy(site))
    assert "rsync is not installed" in error and "apt install rsync" in error
    assert not (site / "public").exists()   # found out before building


def test_rsync_unreachable_remote_is_one_line(site):
    # Port 1 on this machine: nothing listens, so ssh fails at once; `options` reach rsync.
    (site / "blogengine.toml").write_text((site / "blogengine.toml").read_text().replace(
        'destination = "../remote"',
        'destination = "127.0.0.1:/srv/blog/"\noptions = ["-e", "ssh -p 1 -o ConnectTimeout=5 -o BatchMode=yes"]'))
    result = deploy(site)
    error = one_line_error(result)
    assert error.startswith("error: rsync to 127.0.0.1:/srv/blog/ failed (exit ")
    assert "ssh" in error


def test_rsync_destination_forms():
    assert is_remote("me@example.com:/srv/blog/") and is_remote("host:blog")
    assert is_remote("rsync://host/module/")
    assert not is_remote("/srv/blog") and not is_remote("./a:b") and not is_remote("blog")


def test_rsync_itemized_output_is_read_as_changes():
    output = (">f+++++++++ new.html\n>fc.t...... changed.html\n.f..t...... touched.html\n"
              "cd+++++++++ folder/\n*deleting   gone.html\n*deleting   old-folder/\n")
    changes = parse_itemized(output)
    assert changes.new == ("new.html",) and changes.changed == ("changed.html",)
    assert changes.removed == ("gone.html",)

"""The `s3` deploy target against moto's standalone S3 server on 127.0.0.1, read back through S3."""

from __future__ import annotations

import sys
import uuid

import pytest

from blogengine.deploy.s3 import content_type, split_bucket
from tests.support.live import free_port
from tests.support.site import write_files
from tests.support.deploy import (ABOUT_PAGE_FILES, BROKEN_POST, outside_search_index, NOTES, built_files, deploy, listed,
                                  make_deploy_site, one_line_error)

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto")

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory, module_live_servers):
    """moto's S3 server in a subprocess on a free port, for this module."""
    port, folder = free_port(), tmp_path_factory.mktemp("moto")
    server = module_live_servers.process([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                         port=port, cwd=folder, log=folder / "moto.log", health="/", timeout=60)
    return server.url


@pytest.fixture
def s3(endpoint, monkeypatch, tmp_path):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    # Nobody's own AWS configuration reaches the tests.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3):
    name = f"blog-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def make_site(tmp_path, endpoint, bucket, extra=""):
    return make_deploy_site(tmp_path / "site", f"""
[deploy]
target = "s3"

[deploy.s3]
bucket = "{bucket}"
endpoint_url = "{endpoint}"
{extra}
""")


@pytest.fixture
def site(tmp_path, endpoint, bucket):
    return make_site(tmp_path, endpoint, bucket)


def objects(s3, bucket, prefix=""):
    """Every object under the prefix, read back: relative key -> bytes."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[item["Key"][len(prefix):]] = body
    return found


def test_s3_uploads_the_site_with_types_and_cache_headers(site, s3, bucket):
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert objects(s3, bucket) == built_files(site)
    assert sorted(listed(result)["new"]) == sorted(built_files(site))
    page = s3.head_object(Bucket=bucket, Key="index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["CacheControl"] == "public, max-age=300"
    style = s3.head_object(Bucket=bucket, Key="theme/style.css")
    assert style["ContentType"] == "text/css; charset=utf-8"
    assert style["CacheControl"] == "public, max-age=86400"
    feed = s3.head_object(Bucket=bucket, Key="atom.xml")
    assert feed["ContentType"] == "application/xml; charset=utf-8"
    assert feed["CacheControl"] == "public, max-age=300"


def test_s3_dry_run_uploads_nothing(site, s3, bucket):
    result = deploy(site, "--dry-run")
    assert result.exit_code == 0, result.output
    assert objects(s3, bucket) == {}
    assert sorted(listed(result)["new"]) == sorted(built_files(site))
    assert deploy(site).exit_code == 0
    before = objects(s3, bucket)
    (site / "content" / NOTES).write_text("version 2\n")
    (site / "content/pages/about.md").unlink()
    result = deploy(site, "--dry-run", "--delete")
    assert NOTES in listed(result)["changed"]   # with the pages whose menu named about/
    assert outside_search_index(listed(result)["removed"]) == ABOUT_PAGE_FILES
    assert objects(s3, bucket) == before


def test_s3_second_deploy_uploads_only_the_changed_file(site, s3, bucket):
    assert deploy(site).exit_code == 0
    # Mark every other object by rewriting it with the same bytes and a telltale type: an
    # upload would reset the type, so any object still marked was not uploaded again.
    keys = sorted(objects(s3, bucket))
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="x-test/untouched")
    (site / "content" / NOTES).write_text("version 2\n")   # same size: MD5 tells
    result = deploy(site)
    assert result.exit_code == 0, result.output
    assert listed(result) == {"new": [], "changed": [NOTES], "removed": []}
    uploaded = [key for key in keys
                if s3.head_object(Bucket=bucket, Key=key)["ContentType"] != "x-test/untouched"]
    assert uploaded == [NOTES]
    assert objects(s3, bucket)[NOTES] == b"version 2\n"


def test_s3_removes_deleted_files_only_when_asked(site, s3, bucket):
    assert deploy(site).exit_code == 0
    (site / "content/pages/about.md").unlink()
    result = deploy(site)
    assert listed(result)["removed"] == []
    assert "about/index.html" in objects(s3, bucket)
    result = deploy(site, "--delete")
    assert outside_search_index(listed(result)["removed"]) == ABOUT_PAGE_FILES
    assert objects(s3, bucket) == built_files(site)


def test_s3_delete_in_config_and_prefix(tmp_path, endpoint, s3, bucket):
    s3.put_object(Bucket=bucket, Key="other/keep.txt", Body=b"not the blog's")
    site = make_site(tmp_path, endpoint, bucket, 'prefix = "/blog/"\ndelete = true\n')
    assert deploy(site).exit_code == 0
    assert objects(s3, bucket, "blog/") == built_files(site)
    s3.put_object(Bucket=bucket, Key="blog/stale.html", Body=b"old")
    result = deploy(site)
    assert listed(result)["removed"] == ["stale.html"]
    assert objects(s3, bucket, "blog/") == built_files(site)
    assert objects(s3, bucket, "other/") == {"keep.txt": b"not the blog's"}


def test_s3_to_option_names_bucket_and_prefix(site, s3, bucket):
    other = f"blog-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=other)
    result = deploy(site, "--to", f"s3://{other}/www")
    assert result.exit_code == 0, result.output
    assert objects(s3, other, "www/") == built_files(site)
    assert objects(s3, bucket) == {}


def test_s3_failed_build_uploads_nothing(site, s3, bucket):
    assert deploy(site).exit_code == 0
    before = objects(s3, bucket)
    (site / "content" / NOTES).write_text("version 2\n")
    write_files(site, {"content/posts/broken.md": BROKEN_POST})
    result = deploy(site)
    assert result.exit_code == 1 and "broken.md" in result.output
    assert objects(s3, bucket) == before


def test_s3_missing_bucket_is_one_line(tmp_path, endpoint, s3):
    site = make_site(tmp_path, endpoint, "no-such-bucket-here")
    error = one_line_error(deploy(site))
    assert error == f"error: S3 bucket 'no-such-bucket-here' does not exist (at {endpoint})"


def test_s3_unreachable_endpoint_is_one_line(tmp_path, s3, bucket):
    closed = f"http://127.0.0.1:{free_port()}"
    site = make_site(tmp_path, closed, bucket)
    error = one_line_error(deploy(site))
    assert error.startswith(f"error: cannot reach S3 at {closed}")


def test_s3_without_boto3_says_what_to_install(site, monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)   # as if it were not installed
    error = one_line_error(deploy(site))
    assert "pip install 'blogengine[s3]'" in error
    assert not (site / "public").exists()


def test_s3_content_types_and_destinations():
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type("threads.json") == "application/json; charset=utf-8"
    assert content_type("img/a.PNG") == "image/png"
    assert content_type("fonts/x.woff2") == "font/woff2"
    assert content_type("data.unknownext") == "application/octet-stream"
    assert split_bucket("s3://b/blog/x") == ("b", "blog/x")
    assert split_bucket("b") == ("b", "")

"""`blogengine webmention send`: a real site built for real, and "another blog" (a Flask app on
127.0.0.1) that records the Webmentions it receives. Each run goes through the click command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Response, request

from blogengine.cli import main
from blogengine.config import load_config
from blogengine.errors import ConfigError
from tests.support.remote import RemoteSite, recording_app, run_site
from tests.support.site import BASIC_CONFIG, post, write_files

POST = "content/posts/hello.md"
SOURCE = "https://blog.example.com/2026/01/hello/"
STATE = ".blogengine/webmentions-sent.json"


@pytest.fixture
def other() -> Iterator[RemoteSite]:
    """Another blog: /post/N advertise /webmention (which records and answers 202), /plain
    advertises nothing, /broken's endpoint answers 500, /sneaky's endpoint is on a private
    address (the `private` fixture's server, by name)."""
    site = recording_app("other_blog")
    site.received = []  # type: ignore[attr-defined]
    site.sneaky_endpoint = ""  # type: ignore[attr-defined]

    @site.app.get("/post/<int:n>")
    def page(n: int) -> Response:
        return Response(f"<h1>Post {n}</h1>", headers={"Link": '</webmention>; rel="webmention"'})

    @site.app.post("/webmention")
    def endpoint() -> tuple[str, int]:
        site.received.append((request.form["source"], request.form["target"]))  # type: ignore[attr-defined]
        return "accepted", 202

    @site.app.get("/plain")
    def plain() -> str:
        return "<p>no endpoint</p>"

    @site.app.get("/broken")
    def broken() -> str:
        return '<link rel="webmention" href="/down">'

    @site.app.post("/down")
    def down() -> tuple[str, int]:
        return "down", 500

    @site.app.get("/sneaky")
    def sneaky() -> str:
        return f'<a rel="webmention" href="{site.sneaky_endpoint}">wm</a>'  # type: ignore[attr-defined]

    with run_site(site):
        yield site


@pytest.fixture
def private() -> Iterator[RemoteSite]:
    site = recording_app("private")

    @site.app.route("/<path:anything>", methods=["GET", "POST"])
    def anything(anything: str) -> str:
        return '<link rel="webmention" href="/x">'

    with run_site(site):
        yield site


@pytest.fixture
def blog(tmp_path: Path, other: RemoteSite) -> Path:
    root = tmp_path / "blog"
    root.mkdir()
    config = BASIC_CONFIG + f'\n[webmention]\nallow_hosts = ["{other.host}"]\n'
    (root / "blogengine.toml").write_text(config, encoding="utf-8")
    write_files(root, {POST: hello(other, 1, 2)})
    return root


def hello(other: RemoteSite, *posts: int, extra: str = "") -> str:
    links = " ".join(f"[post {n}]({other.url}/post/{n})" for n in posts)
    return post("Hello", "2026-01-10", f"I read {links}.{extra}\n\nSee [my about page](/about/).")


def build(root: Path) -> None:
    result = CliRunner().invoke(main, ["build", "--source", str(root)])
    assert result.exit_code == 0, result.output


def send(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["webmention", "send", "--source", str(root), *args])


def received(other: RemoteSite) -> list[tuple[str, str]]:
    return list(other.received)  # type: ignore[attr-defined]


def test_first_run_sends_each_outside_link_of_the_post_body(blog: Path, other: RemoteSite) -> None:
    build(blog)
    result = send(blog)
    assert result.exit_code == 0, result.output
    # Only the post body: the theme's navigation, feeds and footer are never targets.
    assert sorted(received(other)) == [(SOURCE, f"{other.url}/post/1"), (SOURCE, f"{other.url}/post/2")]
    assert "2 sent, 0 failed, 0 without an endpoint, 0 refused" in result.output
    state = json.loads((blog / STATE).read_text())
    assert set(state[SOURCE]) == {f"{other.url}/post/1", f"{other.url}/post/2"}


def test_links_outside_the_post_body_are_not_targets(blog: Path, other: RemoteSite) -> None:
    write_files(blog, {"templates/base.html": '{% extends "default:base.html" %}{% block scripts %}'
                       f'<a href="{other.url}/post/99">a sponsor in the footer</a>{{% endblock %}}'})
    build(blog)
    assert f"{other.url}/post/99" in (blog / "public/2026/01/hello/index.html").read_text()
    assert send(blog).exit_code == 0
    assert sorted(target for _, target in received(other)) == [f"{other.url}/post/1", f"{other.url}/post/2"]


def test_second_run_sends_nothing(blog: Path, other: RemoteSite) -> None:
    build(blog)
    send(blog)
    result = send(blog)
    assert result.exit_code == 0
    assert "No Webmentions to send" in result.output
    assert len(received(other)) == 2


def test_edit_adding_a_link_sends_only_that_link(blog: Path, other: RemoteSite) -> None:
    build(blog)
    send(blog)
    write_files(blog, {POST: hello(other, 1, 2, 3)})
    build(blog)
    result = send(blog)
    assert result.exit_code == 0, result.output
    assert received(other)[2:] == [(SOURCE, f"{other.url}/post/3")]


def test_removed_link_is_sent_once_more_then_forgotten(blog: Path, other: RemoteSite) -> None:
    build(blog)
    send(blog)
    write_files(blog, {POST: hello(other, 1)})
    build(blog)
    result = send(blog)
    assert result.exit_code == 0, result.output
    assert received(other)[2:] == [(SOURCE, f"{other.url}/post/2")]
    assert "(link removed)" in result.output
    assert set(json.loads((blog / STATE).read_text())[SOURCE]) == {f"{other.url}/post/1"}
    assert "No Webmentions to send" in send(blog).output
    assert len(received(other)) == 3


def test_deleted_post_sends_its_links_once_more(blog: Path, other: RemoteSite) -> None:
    write_files(blog, {"content/pages/about.md": "---\ntitle: About\n---\n\nAbout me.\n"})
    build(blog)
    send(blog)
    (blog / POST).unlink()
    build(blog)
    result = send(blog)
    assert result.exit_code == 0, result.output
    assert sorted(received(other)[2:]) == [(SOURCE, f"{other.url}/post/1"), (SOURCE, f"{other.url}/post/2")]
    assert json.loads((blog / STATE).read_text()) == {}


def test_a_build_without_any_source_page_does_not_resend_everything(blog: Path, other: RemoteSite) -> None:
    build(blog)
    send(blog)
    write_files(blog, {"templates/post.html": '{% extends "base.html" %}{% block content %}{{ page.content }}'
                                              '{% endblock %}',
                       "templates/page.html": '{% extends "base.html" %}{% block content %}{% endblock %}'})
    build(blog)
    result = send(blog)
    assert result.exit_code == 1 and 'class "e-content"' in result.output
    assert len(received(other)) == 2


def test_no_endpoint_is_reported_and_not_a_failure(blog: Path, other: RemoteSite) -> None:
    write_files(blog, {POST: hello(other, 1, extra=f" And [this]({other.url}/plain).")})
    build(blog)
    result = send(blog)
    assert result.exit_code == 0, result.output
    assert f"no endpoint {SOURCE} -> {other.url}/plain" in result.output
    assert "1 sent, 0 failed, 1 without an endpoint" in result.output
    assert "No Webmentions to send" in send(blog).output   # final: not asked again


def test_failure_exits_1_does_not_stop_the_rest_and_is_retried(blog: Path, other: RemoteSite) -> None:
    write_files(blog, {POST: hello(other, 1, extra=f" And [this]({other.url}/broken).")})
    build(blog)
    result = send(blog)
    assert result.exit_code == 1
    assert f"failed      {SOURCE} -> {other.url}/broken" in result.output
    assert "answered 500" in result.output
    assert received(other) == [(SOURCE, f"{other.url}/post/1")]
    again = send(blog)
    assert again.exit_code == 1 and "1 failed" in again.output and "0 sent" in again.output


def test_private_targets_and_endpoints_are_refused_without_a_request(
        blog: Path, other: RemoteSite, private: RemoteSite) -> None:
    port = private.host.rsplit(":", 1)[1]
    other.sneaky_endpoint = f"http://localhost:{port}/steal"  # type: ignore[attr-defined]
    extra = (f" [internal](http://localhost:{port}/admin) [metadata](http://169.254.169.254/latest/)"
             f" [sneaky]({other.url}/sneaky)")
    write_files(blog, {POST: hello(other, 1, extra=extra)})
    build(blog)
    result = send(blog)
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 failed, 0 without an endpoint, 3 refused" in result.output
    assert private.hits == []
    assert received(other) == [(SOURCE, f"{other.url}/post/1")]


def test_dry_run_lists_and_sends_nothing(blog: Path, other: RemoteSite) -> None:
    build(blog)
    result = send(blog, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would send  {SOURCE} -> {other.url}/post/1" in result.output
    assert "2 Webmention(s) would be sent" in result.output
    assert received(other) == [] and other.hits == []
    assert not (blog / STATE).exists()


def test_source_base_overrides_base_url(blog: Path, other: RemoteSite) -> None:
    build(blog)
    assert send(blog, "--source-base", "https://staging.example.org/blog/").exit_code == 0
    assert {source for source, _ in received(other)} == {"https://staging.example.org/blog/2026/01/hello/"}


def test_pages_are_sources_too(blog: Path, other: RemoteSite) -> None:
    write_files(blog, {"content/pages/about.md": f"---\ntitle: About\n---\n\nI like [this]({other.url}/post/9).\n"})
    build(blog)
    assert send(blog).exit_code == 0
    assert ("https://blog.example.com/about/", f"{other.url}/post/9") in received(other)


def test_without_a_build_the_command_says_so(blog: Path) -> None:
    result = send(blog)
    assert result.exit_code == 1
    assert "run `blogengine build` first" in result.output


def test_a_corrupt_record_is_an_error_not_a_resend(blog: Path, other: RemoteSite) -> None:
    build(blog)
    (blog / ".blogengine").mkdir(exist_ok=True)
    (blog / STATE).write_text("{not json")
    result = send(blog)
    assert result.exit_code == 1 and "webmentions-sent.json" in result.output
    assert "Traceback" not in result.output and received(other) == []


def test_bad_allow_hosts_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "blogengine.toml").write_text('[webmention]\nallow_hosts = ["ok.example", "bad host/"]\n')
    with pytest.raises(ConfigError, match="webmention.allow_hosts"):
        load_config(tmp_path)


def test_deploy_sends_when_send_on_deploy_is_on(blog: Path, other: RemoteSite) -> None:
    config = (blog / "blogengine.toml").read_text()
    (blog / "blogengine.toml").write_text(config.replace("[webmention]\n", "[webmention]\nsend_on_deploy = true\n")
                                          + '\n[deploy]\ntarget = "dir"\n\n[deploy.dir]\npath = "../www"\n')
    result = CliRunner().invoke(main, ["deploy", "--source", str(blog)])
    assert result.exit_code == 0, result.output
    assert "Sending Webmentions" in result.output
    assert len(received(other)) == 2


def test_deploy_does_not_send_by_default(blog: Path, other: RemoteSite) -> None:
    (blog / "blogengine.toml").write_text((blog / "blogengine.toml").read_text()
                                          + '\n[deploy]\ntarget = "dir"\n\n[deploy.dir]\npath = "../www"\n')
    result = CliRunner().invoke(main, ["deploy", "--source", str(blog)])
    assert result.exit_code == 0, result.output
    assert received(other) == [] and other.hits == []

"""Webmention sending (comments_server/webmention_client.py) against webmention.rocks' discovery
tests 1–23 rebuilt on 127.0.0.1 (tests/data/webmention/discovery/), plus the refusals: an endpoint
or target on a private address is never contacted."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Response

from comments_server.netguard import FetchPolicy, UnsafeURL
from comments_server.webmention_client import discover_endpoint, send_webmention, webmention_link
from tests.support.remote import RemoteSite, recording_app, run_site
from tests.support.webmention_rocks import CASES, webmention_rocks

SOURCE = "https://my.blog.example/posts/hello/"


@pytest.fixture(scope="module")
def rocks() -> Iterator[RemoteSite]:
    with run_site(webmention_rocks()) as site:
        yield site


def policy_for(*sites: RemoteSite) -> FetchPolicy:
    return FetchPolicy(allow_hosts=frozenset(site.host for site in sites), timeout=5)


def expected_pattern(site: RemoteSite, case: dict[str, object]) -> str:
    return re.escape(site.url + str(case["expected"])).replace(re.escape("{key}"), r"e\d+")


@pytest.mark.parametrize("case", CASES, ids=[f"rocks-{case['num']}" for case in CASES])
def test_discovery_finds_the_endpoint_webmention_rocks_expects(rocks: RemoteSite, case: dict[str, object]) -> None:
    target = rocks.url + str(case.get("target", f"/test/{case['num']}"))
    endpoint = discover_endpoint(target, policy=policy_for(rocks))
    assert endpoint is not None
    assert re.fullmatch(expected_pattern(rocks, case), endpoint), (case["name"], endpoint)


@pytest.mark.parametrize("case", CASES, ids=[f"rocks-{case['num']}" for case in CASES])
def test_send_reaches_only_the_right_endpoint(rocks: RemoteSite, case: dict[str, object]) -> None:
    received = rocks.received  # type: ignore[attr-defined]
    before = len(received)
    target = rocks.url + str(case.get("target", f"/test/{case['num']}"))
    result = send_webmention(SOURCE, target, policy=policy_for(rocks))
    assert result.ok and result.status == 202
    new = received[before:]
    assert len(new) == 1
    path, form = new[0]
    assert re.fullmatch(expected_pattern(rocks, case), rocks.url + path)
    assert form == {"source": SOURCE, "target": target}   # test 21: the query stays in the URL


def test_link_header_parsing() -> None:
    assert webmention_link('<https://a.example/wm>; rel=webmention') == "https://a.example/wm"
    assert webmention_link('<https://a.example/x>; rel="other", <https://a.example/wm>; rel="webmention"') \
        == "https://a.example/wm"
    assert webmention_link('<https://a.example/wm?a=1,2>; title="a, b"; REL="Webmention other"') \
        == "https://a.example/wm?a=1,2"
    assert webmention_link('<https://a.example/wm>; rel="not-webmention"') is None
    assert webmention_link('<https://a.example/wm>; rel=webmentions') is None


@pytest.fixture
def private() -> Iterator[RemoteSite]:
    """A machine that must not be reached: records hits, accepts anything."""
    site = recording_app("private")

    @site.app.route("/", methods=["GET", "POST"])
    def anything() -> str:
        return "ok"

    with run_site(site):
        yield site


def test_endpoint_on_a_private_address_is_refused_without_contact(private: RemoteSite) -> None:
    site = recording_app("target_page")

    @site.app.get("/post")
    def post() -> Response:
        return Response(f'<link rel="webmention" href="{private.url}/">', content_type="text/html")

    @site.app.get("/localhost")
    def via_name() -> Response:
        url = private.url.replace("127.0.0.1", "localhost")
        return Response(f'<a rel="webmention" href="{url}/">x</a>', content_type="text/html")

    with run_site(site):
        for path in ("/post", "/localhost"):
            with pytest.raises(UnsafeURL):
                send_webmention(SOURCE, site.url + path, policy=policy_for(site))
    assert private.hits == []


@pytest.mark.parametrize("target", ["http://10.1.2.3/post", "http://169.254.169.254/", "file:///etc/passwd",
                                    "http://[::1]/"])
def test_private_target_is_refused(target: str) -> None:
    with pytest.raises(UnsafeURL):
        send_webmention(SOURCE, target, policy=FetchPolicy())


def test_no_endpoint_and_failing_endpoint_are_reported() -> None:
    site = recording_app("other")

    @site.app.get("/plain")
    def plain() -> Response:
        return Response("<p>no endpoint here</p>", content_type="text/html")

    @site.app.get("/gone")
    def gone() -> tuple[str, int]:
        return "gone", 404

    @site.app.get("/broken")
    def broken() -> Response:
        return Response('<link rel="webmention" href="/wm">', content_type="text/html")

    @site.app.post("/wm")
    def wm() -> tuple[str, int, dict[str, str]]:
        return "nope", 400, {}

    @site.app.get("/created")
    def created() -> Response:
        return Response('<link rel="webmention" href="/wm201">', content_type="text/html")

    @site.app.post("/wm201")
    def wm201() -> tuple[str, int, dict[str, str]]:
        return "created", 201, {"Location": "/status/7"}

    with run_site(site):
        policy = policy_for(site)
        assert send_webmention(SOURCE, site.url + "/plain", policy=policy).endpoint is None
        assert send_webmention(SOURCE, site.url + "/gone", policy=policy).status is None
        failed = send_webmention(SOURCE, site.url + "/broken", policy=policy)
        assert (failed.status, failed.ok, failed.endpoint) == (400, False, site.url + "/wm")
        done = send_webmention(SOURCE, site.url + "/created", policy=policy)
        assert (done.status, done.ok, done.location) == (201, True, site.url + "/status/7")

"""webmention.rocks' discovery tests 1–23, served on 127.0.0.1 from the fixtures in
tests/data/webmention/discovery/ (see its SOURCE.md): each /test/N page advertises its endpoint
the way the public test does, and every endpoint records the Webmentions it receives."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from flask import Response, abort, redirect, request

from tests.support.remote import RemoteSite, recording_app

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "webmention" / "discovery"
CASES: list[dict[str, Any]] = json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))
LAYOUT = (FIXTURES / "page.html").read_text(encoding="utf-8")


def webmention_rocks() -> RemoteSite:
    """The test site; after `run_site`, `site.received` lists (path, form) of each Webmention and
    test 23's one-time keys are in `site.keys` (a key's URL answers once, then 410, as upstream)."""
    site = recording_app("webmention_rocks")
    cases = {case["num"]: case for case in CASES}
    received: list[tuple[str, dict[str, str]]] = []
    used: set[str] = set()
    counter = itertools.count(1)
    site.received = received  # type: ignore[attr-defined]

    def base() -> str:
        return request.host_url.rstrip("/")

    def one_time(key: str) -> None:
        if key in used:
            abort(410)
        used.add(key)

    @site.app.get("/test/<int:num>")
    def page(num: int) -> Response:
        case = cases.get(num)
        if case is None:
            abort(404)
        html = (LAYOUT.replace("@LINK_TAG@", case["link_tag"]).replace("@NUM@", str(num))
                .replace("@DESCRIPTION@", case["description"]).replace("{base}", base()))
        response = Response(html, content_type="text/html; charset=utf-8")
        for value in case["link_header"]:
            response.headers.add(case.get("link_header_name", "Link"), value.replace("{base}", base()))
        return response

    @site.app.post("/test/<int:num>")   # test 15: the page is its own endpoint
    @site.app.post("/test/<int:num>/webmention")
    @site.app.post("/test/<int:num>/webmention/<mode>")
    def endpoint(num: int, mode: str = "") -> tuple[str, int]:
        received.append((request.full_path.rstrip("?"), request.form.to_dict()))
        return ("wrong endpoint", 400) if mode == "error" else ("accepted", 202)

    @site.app.get("/test/23/page")
    def redirect23() -> Response:
        return redirect(f"page/{next(counter)}", 302)  # type: ignore[return-value]

    @site.app.get("/test/23/page/<key>")
    def page23(key: str) -> Response:
        one_time(key)
        new_key = f"e{key}"
        body = ('<div class="h-entry"><h2 class="p-name">Discovery Test #23</h2><p><a href="/test/23/page" '
                'class="u-url">permalink</a></p><p><a rel="webmention" '
                f'href="webmention-endpoint/{new_key}">webmention endpoint</a></p></div>')
        response = Response(body, content_type="text/html; charset=utf-8")
        response.headers["Link"] = f"<webmention-endpoint/{new_key}>; rel=webmention"
        return response

    @site.app.post("/test/23/page/webmention-endpoint/<key>")
    def endpoint23(key: str) -> tuple[str, int]:
        one_time(key)
        received.append((request.path, request.form.to_dict()))
        return "accepted", 202

    return site

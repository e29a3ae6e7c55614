"""Other sites on the web, played by small Flask apps on 127.0.0.1 that record every request they
get: the outbound fetcher's tests prove a refused URL was never requested (zero hits)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, request

from tests.support.live import serve_wsgi


@dataclass
class Hit:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class RemoteSite:
    """A running app: `url` its base (http://127.0.0.1:PORT), `hits` every request it got,
    `host` the "127.0.0.1:PORT" an allow list names it by."""

    app: Flask
    url: str = ""
    hits: list[Hit] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]


def recording_app(name: str = "remote") -> RemoteSite:
    """A Flask app that records each request before its view runs; add routes, then `run_site`."""
    site = RemoteSite(Flask(name))

    @site.app.before_request
    def record() -> None:
        site.hits.append(Hit(request.method, request.full_path.rstrip("?"), request.form.to_dict(),
                             dict(request.headers)))

    return site


@contextmanager
def run_site(site: RemoteSite) -> Iterator[RemoteSite]:
    with serve_wsgi(site.app) as url:
        site.url = url
        yield site

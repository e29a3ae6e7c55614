"""After a deploy: ask the comment server to reload the thread manifest (`threads.json`) now,
instead of when its THREADS_MANIFEST_TTL runs out, so new posts take comments at once."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from blogengine.config import SiteConfig
from blogengine.errors import DeployError
from blogengine.serverlink import RedirectRefused, open_url, url_problem

RELOAD_PATH = "/api/threads/reload"
TIMEOUT = 30.0


def comments_url(config: SiteConfig) -> str:
    """The comment server's URL: [comments] url, else the site's own origin."""
    if config.comments.url:
        return config.comments.url.rstrip("/")
    parts = urlsplit(config.base_url)
    return f"{parts.scheme}://{parts.netloc}"


def reload_threads(server: str, token: str, *, timeout: float = TIMEOUT) -> int:
    """POST /api/threads/reload with an author token; the number of threads the server now knows."""
    url = server.rstrip("/") + RELOAD_PATH
    prefix = "the site was deployed, but the comment server did not reload threads.json"
    if problem := url_problem(url):
        raise DeployError(f"{prefix}: the author token is not sent there: {url} {problem}")
    request = urllib.request.Request(url, data=b"", method="POST", headers={
        "Authorization": f"Bearer {token}", "Accept": "application/json"})
    try:
        # A redirect is not followed: urllib would repeat the request, token and all, wherever
        # the Location header points.
        with open_url(request, timeout=timeout) as response:
            body = response.read()
    except RedirectRefused as exc:
        raise DeployError(f"{prefix}: {url} answered {exc.code}, a redirect to {exc.location or '?'}; it is "
                          "not followed, so the author token goes nowhere else. Set [comments] url to "
                          "the comment server's own address") from None
    except urllib.error.HTTPError as exc:
        raise DeployError(f"{prefix}: {url} answered {exc.code}: {_message(exc.read())}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeployError(f"{prefix}: cannot reach {url} ({reason})") from None
    try:
        threads = json.loads(body)["threads"]
    except (ValueError, KeyError, TypeError):
        raise DeployError(f"{prefix}: {url} did not answer like a blogengine comment server") from None
    if not isinstance(threads, int):
        raise DeployError(f"{prefix}: {url} did not answer like a blogengine comment server")
    return threads


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace").strip()[:200] or "no message"

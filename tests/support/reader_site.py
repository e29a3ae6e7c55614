"""The demo site (the repository's own content, blogengine.toml and demo conversations) in a temp
folder, served by `blogengine serve` with its comment server, and built into public/ for a plain
static server: what the reader-path browser tests and their screenshots open."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import REPO
from tests.support.live import LiveServer, LiveServers, free_port, server_env

# The demo post with the longest conversation (four comments, each answering the one before).
POST_PATH = "/2022/03/a-blog-is-a-conversation-not-a-broadcast/"


@dataclass
class Demo:
    root: Path
    url: str
    server: LiveServer

    def thread(self, path: str = POST_PATH) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/api/comments?thread={urllib.parse.quote(path)}", timeout=10) as r:
            data: dict[str, Any] = json.loads(r.read())
        return data

    def post_form(self, **fields: str) -> str:
        """Send the baked form (no form token) as a browser without JavaScript would; the URL of
        the page the answer leads to."""
        data = urllib.parse.urlencode({"thread": POST_PATH, "parent_id": "", **fields}).encode()
        request = urllib.request.Request(f"{self.url}/comments/form", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:   # follows the 303
            return str(response.url)


def start_demo(servers: LiveServers, folder: Path) -> Demo:
    """The demo site copied into `folder`, served by `blogengine serve` (default comment settings:
    form tokens and rate limits on) on a free port, its demo conversations imported and baked."""
    root = folder / "site"
    shutil.copytree(REPO / "content", root / "content")
    for name in ("blogengine.toml", "demo-comments.json"):
        shutil.copy(REPO / name, root / name)
    port = free_port()
    server = servers.process([sys.executable, "-m", "blogengine", "serve", "--port", str(port)], port=port,
                             cwd=root, env=server_env(), log=folder / "serve.log", health="/")
    return Demo(root, server.url, server)

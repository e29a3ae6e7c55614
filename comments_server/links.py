"""Where the site's posts are: the site URL (configured, else the thread manifest's), its title,
its language and each post's absolute URL. No Flask; the service, the notifier, the author's desk and the views share it."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from comments_server.manifest import ThreadIndex


class SiteLinks:
    """The site's address, title and language, read from the manifest each time (it may be redeployed)."""

    def __init__(self, threads: ThreadIndex, site_url: str = "") -> None:
        self._threads = threads
        self._site_url = site_url

    @property
    def site_url(self) -> str:
        """The site's base URL: configured (SITE_URL), else the manifest's."""
        return self._site_url or self._threads.manifest.site_url

    @property
    def site_title(self) -> str:
        return self._threads.manifest.site_title

    @property
    def site_language(self) -> str:
        """The site's language tag, from the manifest ("" when it does not say: English)."""
        return self._threads.manifest.site_language

    @property
    def site_timezone(self) -> str:
        """The site's time zone name, from the manifest ("" when it does not say: UTC)."""
        return self._threads.manifest.site_timezone

    @property
    def site_zone(self) -> ZoneInfo:
        """The site's time zone, from the manifest (UTC when it does not say)."""
        return self._threads.manifest.zone

    def post_url(self, path: str) -> str:
        """Absolute URL of a post; '' when the site URL is unknown."""
        base = self.site_url
        if not base:
            return ""
        parts = urlsplit(base)
        base_path = parts.path or "/"
        origin = f"{parts.scheme}://{parts.netloc}"
        if path.startswith(base_path):
            return origin + path
        return base.rstrip("/") + path

    def post_link(self, path: str) -> str:
        """Where to link a post: its absolute URL, else (site URL unknown) its path."""
        return self.post_url(path) or path

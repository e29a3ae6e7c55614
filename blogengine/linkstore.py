"""The link check's kept links, page by page, in buckets of the build cache's state: an edit
reads and writes only the buckets of the pages it read again, where every page's links in
one piece (17 MB at 10,000 posts) took 0.13 s to read on every edit."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

from blogengine.cache import BuildCache
from blogengine.check import PageLinkIndex
from blogengine.links import RawLink

# Buckets of pages; at 10,000 posts each holds about 110 pages' links (about 130 KB).
LINK_BUCKETS = 128


def bucket_of(rel: str) -> int:
    """The bucket a page's links are kept in: the same in every process and build."""
    return zlib.crc32(rel.encode()) % LINK_BUCKETS


def _state_name(bucket: int) -> str:
    return f"page-links:{bucket}"


class KeptLinks:
    """The last check's links of every page, read a bucket at a time as they are asked for."""

    def __init__(self, cache: BuildCache) -> None:
        self.cache = cache
        self._buckets: dict[int, PageLinkIndex] = {}

    def bucket(self, number: int) -> PageLinkIndex:
        found = self._buckets.get(number)
        if found is None:
            kept = self.cache.get_state(_state_name(number))
            found = self._buckets[number] = kept if isinstance(kept, dict) else {}
        return found

    def of(self, rel: str) -> tuple[RawLink, ...]:
        """A page's links; LookupError when the cache lost them (it is then read whole again)."""
        return self.bucket(bucket_of(rel))[rel]


def link_states(fresh: PageLinkIndex, removed: Iterable[str],
                kept: KeptLinks | None) -> dict[str, Any]:
    """The states that save the links: with `kept` (what the check started from), only the
    buckets of the pages read again or gone, each as kept with those applied; without it,
    every bucket, from `fresh` alone (then every page's links)."""
    if kept is None:
        buckets: dict[int, PageLinkIndex] = {number: {} for number in range(LINK_BUCKETS)}
        for rel, links in fresh.items():
            buckets[bucket_of(rel)][rel] = links
    else:
        buckets = {}

        def editable(number: int) -> PageLinkIndex:
            if number not in buckets:
                buckets[number] = dict(kept.bucket(number))
            return buckets[number]

        for rel in removed:
            editable(bucket_of(rel)).pop(rel, None)
        for rel, links in fresh.items():
            editable(bucket_of(rel))[rel] = links
    return {_state_name(number): bucket for number, bucket in buckets.items()}

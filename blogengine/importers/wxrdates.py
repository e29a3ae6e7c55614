"""Dates in a WordPress export: its post and comment columns, RSS pubDates, and the dates of
the export itself for items that carry none of their own."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

_ZERO_DATE = "0000-00-00 00:00:00"
# The comment WordPress writes at the top of an export: <!-- generator=... created="..." -->
_CREATED = re.compile(rb'<!--\s*generator="[^"]*"\s+created="(\d{4}-\d\d-\d\d \d\d:\d\d)"')


def wordpress_time(gmt: str, local: str, tz: ZoneInfo) -> datetime | None:
    """A WordPress time: the GMT column when it is set (drafts have zeros), else the local one,
    read in the site's time zone (a WXR file does not say the blog's zone)."""
    for value, zone in ((gmt, UTC), (local, tz)):
        if value and value != _ZERO_DATE:
            try:
                moment = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
            except ValueError:
                continue
            if moment.year >= 1000:   # below, a placeholder (0001-...) that no zone can shift
                return moment
    return None


def rss_time(value: str) -> datetime | None:
    """An RSS pubDate; WordPress writes "30 Nov -0001" for posts without a date."""
    try:
        moment = parsedate_to_datetime(value.strip()) if value.strip() else None
    except (TypeError, ValueError, IndexError):
        return None
    # The email parser reads "-0001" as a year of its own making: the year must be written out.
    if moment is None or moment.tzinfo is None or moment.year < 1971 or str(moment.year) not in value:
        return None
    return moment


def export_dates(channel: ET.Element, path: Path) -> list[tuple[datetime, str]]:
    """Dates of the export as a whole, best first, for items that carry none of their own: the
    channel's pubDate, the creation time in WordPress's header comment, and last the file's
    modification time (stable, so importing the file again writes the same dates)."""
    found: list[tuple[datetime, str]] = []
    published = rss_time(channel.findtext("pubDate") or "")
    if published is not None:
        found.append((published, "the export's pubDate"))
    with path.open("rb") as head:
        created = _CREATED.search(head.read(8192))
    if created:
        found.append((datetime.strptime(created.group(1).decode(), "%Y-%m-%d %H:%M")
                      .replace(tzinfo=UTC), "the export's creation date"))
    found.append((datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0),
                  "the export file's modification time"))
    return found

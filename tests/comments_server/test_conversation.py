"""Pure pieces of the author's side: question detection, statistics, the chart, email header safety,
retry backoff and response-time wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from comments_server.conversation import is_question
from comments_server.dashboard.chart import line_chart
from comments_server.health import Point, median_seconds, percentile_seconds
from comments_server.mail import backoff
from comments_server.compose import header_text, safe_address
from comments_server.humanize import human_duration


@pytest.mark.parametrize(("text", "expected"), [
    ("Does it work?", True),
    ("How do I install it", True),
    ("Hi Ann, could you share the palette.", True),
    ("Great post! Why not Django though.", True),
    ("> quoted\nWhich parser did you pick", True),
    ("Thanks, great post!", False),
    ("Footnotes would be lovely.", False),
    ("Showing `a?b` in code only", False),
    ("Somehow it works.", False),
    ("```\nwhy?\n```\nAll good.", False),
])
def test_is_question(text, expected):
    assert is_question(text) is expected


def test_median_and_nearest_rank_percentile():
    assert median_seconds([]) is None and percentile_seconds([], 90) is None
    assert median_seconds([5.0]) == 5.0 and percentile_seconds([5.0], 90) == 5.0
    assert median_seconds([1, 2, 3, 4]) == 2.5
    values = list(range(1, 11))  # 1..10
    assert percentile_seconds(values, 90) == 9.0 and percentile_seconds(values, 91) == 10.0


DAY = 86400


@pytest.mark.parametrize(("span", "text"), [
    (None, "–"), (20, "less than a minute"), (-5, "less than a minute"), (60, "1 minute"), (600, "10 minutes"),
    (3599, "59 minutes"), (3600, "1 hour"), (8640, "2 hours"), (3 * 3600 + 1200, "3 hours"),
    (DAY, "1 day"), (DAY + 3 * 3600, "1 day"), (2 * DAY, "2 days"), (13 * DAY, "13 days"),
    (14 * DAY, "2 weeks"), (59 * DAY, "8 weeks"), (60 * DAY, "about 2 months"), (200 * DAY, "about 7 months"),
    (350 * DAY, "about 11 months"), (360 * DAY, "about a year"), (500 * DAY, "about a year"), (1031 * DAY, "about 3 years"),
    (timedelta(days=3, hours=5), "3 days"), (timedelta(seconds=30), "less than a minute"),
])
def test_human_duration_says_one_unit_as_people_do(span, text):
    assert human_duration(span) == text


@pytest.mark.parametrize("evil", ["a\r\nBcc: x@example.com", "a\nb", "a\u2028b", "a\u0085b", "a\x00b", "a\u200bb"])
def test_header_text_has_no_line_breaks_or_controls(evil):
    cleaned = header_text(evil)
    assert all(c not in cleaned for c in "\r\n\u2028\u0085\x00\u200b") and cleaned.startswith("a")


def test_header_text_is_bounded():
    assert len(header_text("x" * 1000)) == 180 and header_text("x" * 1000).endswith("…")


@pytest.mark.parametrize(("value", "expected"), [
    ("rita@example.org", "rita@example.org"),
    ("rita@example.org\r\nBcc: v@example.net", None),
    ("a@example.org, b@example.org", None),
    ("Rita <rita@example.org>", None),
    ("not an address", None),
    ("", None),
    (None, None),
])
def test_safe_address_takes_one_plain_address(value, expected):
    assert safe_address(value) == expected


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(30, 60) == timedelta(hours=1)


def test_chart_scales_points_into_the_plot():
    day = datetime(2026, 6, 1, tzinfo=UTC)
    chart = line_chart([Point(day + timedelta(days=i), v) for i, v in enumerate([0, 3, 7, 2])])
    assert chart.maximum == 10
    xs = [x for x, _, _ in chart.dots]
    ys = [y for _, y, _ in chart.dots]
    assert xs[0] == chart.plot_left and xs[-1] == chart.plot_right
    assert ys[0] == chart.plot_bottom and ys[2] < ys[1] < ys[0]
    assert [t.label for t in chart.y_ticks] == ["0", "5", "10"]
    assert [t.label for t in chart.x_ticks] == ["1 Jun", "3 Jun", "4 Jun"]
    assert line_chart([Point(day, 0)]).maximum == 1

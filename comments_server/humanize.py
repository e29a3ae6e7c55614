"""How long, for people: the one wording of waits, ages and response times (dashboard, emails,
the terminal). No Flask here."""

from __future__ import annotations

from datetime import timedelta

MINUTE, HOUR, DAY = 60, 3600, 86400
YEAR_DAYS, MONTH_DAYS = 365.25, 30.44


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def human_duration(span: timedelta | float | None) -> str:
    """A duration as a person says it, to one unit, rounded down below a month and to the nearest
    above it: 'less than a minute', '12 minutes', '3 hours', '2 days', '3 weeks', 'about 4 months',
    'about a year', 'about 3 years'. A span (timedelta) or seconds; None is '–' (no value)."""
    if span is None:
        return "–"
    seconds = max(span.total_seconds() if isinstance(span, timedelta) else float(span), 0.0)
    if seconds < MINUTE:
        return "less than a minute"
    if seconds < HOUR:
        return _count(int(seconds // MINUTE), "minute")
    if seconds < DAY:
        return _count(int(seconds // HOUR), "hour")
    days = seconds / DAY
    if days < 14:
        return _count(int(days), "day")
    if days < 60:
        return _count(int(days // 7), "week")
    months = round(days / MONTH_DAYS)
    if months < 12:
        return f"about {months} months"
    years = round(days / YEAR_DAYS)
    return "about a year" if years <= 1 else f"about {years} years"

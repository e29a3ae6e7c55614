"""Reader-facing strings, one catalogue per language (strings/<language>.json): what the theme's
baked comments, the widget and the no-JavaScript form say. No Flask here: the build reads it too.

A catalogue maps a key to a string with {named} fields, or to a list (months, Markdown help).
Keys starting with "form_" are the server's own form pages' alone: the widget goes without them."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).parent / "strings"
DEFAULT_LANGUAGE = "en"
_FIELD = re.compile(r"\{(\w+)\}")
_AT_MOST = re.compile(r"at most (\d+)")

# Error codes that need nothing but their own sentence (the widget's errorText has the same table).
_SIMPLE_ERRORS = {
    "too_short": "e_too_short", "invalid": "e_invalid", "invalid_characters": "e_invalid_characters",
    "too_many_links": "e_too_many_links", "thread_closed": "e_thread_closed",
    "unknown_thread": "e_unknown_thread", "unknown_parent": "e_unknown_parent", "not_found": "e_not_found",
    "wrong_token": "e_locked", "edit_window_closed": "e_locked", "missing_token": "e_locked",
    "cross_origin_forbidden": "e_cross_origin", "reserved": "e_reserved",
}


@functools.cache
def languages() -> tuple[str, ...]:
    """The languages with a catalogue, English first (read once: the form asks on every request)."""
    found = sorted(path.stem for path in FOLDER.glob("*.json"))
    return (DEFAULT_LANGUAGE, *(lang for lang in found if lang != DEFAULT_LANGUAGE))


@functools.cache
def _read(language: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FOLDER / f"{language}.json").read_text(encoding="utf-8"))
    return data


def _primary(tag: str | None) -> str:
    """A language tag's primary language: "fr-CA" and "fr_CA" -> "fr"."""
    return (tag or "").strip().lower().replace("_", "-").split("-")[0]


def language_of(tag: str | None) -> str:
    """The catalogue for a language tag: "fr-CA" and "fr_CA" -> "fr"; unknown or empty -> "en"."""
    primary = _primary(tag)
    return primary if primary in languages() else DEFAULT_LANGUAGE


def page_language(tag: str | None) -> str:
    """The language a page in `tag`'s catalogue declares (<html lang>): the tag itself when it has
    a catalogue ("fr-CA"), else English."""
    return tag.strip() if tag and _primary(tag) in languages() else DEFAULT_LANGUAGE


PAGE_ONLY = ("form_", "reply_time")   # strings embed.js never shows


@functools.cache
def catalogue(tag: str | None) -> dict[str, Any]:
    """Every string for a language tag; a key the language lacks is English. Shared: do not change it."""
    language = language_of(tag)
    return {**_read(DEFAULT_LANGUAGE), **_read(language)}


def widget_catalogues() -> dict[str, dict[str, Any]]:
    """Every language's catalogue as written, less the strings only pages use (the form pages',
    the baked reply time): what embed.js carries (it falls back to English by itself)."""
    return {language: {key: value for key, value in _read(language).items() if not key.startswith(PAGE_ONLY)}
            for language in languages()}


def fill(text: str, **values: Any) -> str:
    """A string with its {fields} filled in; a field without a value stays as written."""
    return _FIELD.sub(lambda m: str(values[m.group(1)]) if values.get(m.group(1)) is not None else m.group(0), text)


def fields_of(value: Any) -> set[str]:
    """The {fields} a catalogue entry uses (in a list, those of every string in it)."""
    if isinstance(value, str):
        return set(_FIELD.findall(value))
    if isinstance(value, list):
        return set().union(*(fields_of(item) for item in value))
    return set()


def error_text(strings: Mapping[str, Any], code: str, status: int, field: str | None, message: str,
               label_of: Callable[[str | None], str]) -> str:
    """A reader's sentence for an API error, from its code, status and field, as the widget says it
    (embed.js errorText); `label_of(field)` is the label of that field in the form shown."""
    def say(key: str, **values: Any) -> str:
        return fill(str(strings[key]), **values)

    label = label_of(field)
    if code == "network":
        return say("e_network")
    if status == 429 or code == "rate_limited":
        return say("e_rate_limited")
    if status >= 500:
        return say("e_server")
    if field == "form_token":
        return say("e_too_fast" if code == "too_fast" else "e_form_token")
    if code == "too_long" or status == 413:
        at_most = _AT_MOST.search(message)
        label = label if field else label_of("body")
        return say("e_too_long_max", label=label, max=at_most.group(1)) if at_most else say("e_too_long", label=label)
    if code in ("missing", "empty"):
        return say("e_missing", label=label)
    if code == "invalid" and field in ("author_email", "author_url"):
        return say("e_invalid_email" if field == "author_email" else "e_invalid_url", label=label)
    if code in _SIMPLE_ERRORS:
        return say(_SIMPLE_ERRORS[code], label=label)
    return say("e_other", message=message or code)

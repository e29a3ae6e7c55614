"""The reader-facing strings: one catalogue per language (comments_server/strings/), complete in
every language, read by language tag; and the sentences errors become."""

from __future__ import annotations

import json

import pytest

from comments_server.strings import (FOLDER, catalogue, error_text, fields_of, fill, language_of, languages,
                                     widget_catalogues)
from tests.support import REPO

# The same cases the widget's errorText is checked against (tests/js/embed.test.js).
ERROR_CASES = json.loads((REPO / "tests/js/error_cases.json").read_text(encoding="utf-8"))


def test_every_language_has_every_english_string_with_the_same_fields():
    english = catalogue("en")
    assert languages()[0] == "en" and {"en", "fr"} <= set(languages())
    assert len(english) > 60
    for language in languages():
        strings = catalogue(language)
        assert set(strings) == set(json.loads((FOLDER / f"{language}.json").read_text())), language
        assert set(strings) == set(english), language
        for key, value in strings.items():
            assert type(value) is type(english[key]), (language, key)
            assert fields_of(value) == fields_of(english[key]), (language, key)
            if isinstance(value, list):
                assert len(value) == len(english[key]), (language, key)


def test_the_widget_gets_every_string_but_the_pages_own():
    """The form pages' strings and the baked reply time are never shown by embed.js."""
    for language, strings in widget_catalogues().items():
        assert strings == {k: v for k, v in catalogue(language).items()
                           if not k.startswith(("form_", "reply_time"))}
        assert "form_title" not in strings and "reply_time" not in strings and "e_missing" in strings


def test_catalogues_are_plain_json_files():
    assert sorted(p.name for p in FOLDER.iterdir()) == sorted(f"{lang}.json" for lang in languages())
    for path in FOLDER.iterdir():
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path


@pytest.mark.parametrize(("tag", "language"), [
    ("fr", "fr"), ("fr-CA", "fr"), ("FR_ca", "fr"), ("en-GB", "en"), ("de", "en"), ("", "en"), (None, "en"),
    ("x-klingon", "en"),
])
def test_a_language_tag_picks_its_catalogue_or_english(tag, language):
    assert language_of(tag) == language
    assert catalogue(tag) == catalogue(language)


def test_a_string_missing_from_a_language_is_english(monkeypatch, tmp_path):
    import comments_server.strings as strings

    (tmp_path / "en.json").write_text(json.dumps({"reply": "Reply", "edit": "Edit"}))
    (tmp_path / "xx.json").write_text(json.dumps({"reply": "Antwort"}))
    monkeypatch.setattr(strings, "FOLDER", tmp_path)
    for cached in (strings._read, strings.catalogue, strings.languages):
        cached.cache_clear()
    try:
        assert strings.catalogue("xx-YY") == {"reply": "Antwort", "edit": "Edit"}
    finally:
        for cached in (strings._read, strings.catalogue, strings.languages):
            cached.cache_clear()


def test_fill_fills_known_fields_and_keeps_the_others():
    assert fill("Reply to {name}", name="Kim") == "Reply to Kim"
    assert fill("{n} of {total}", n=3) == "3 of {total}"
    assert fill("{name}", name="{n}", n=1) == "{n}"  # a value is not filled in again


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["expect"] for c in ERROR_CASES])
def test_errors_become_the_same_sentences_as_in_the_widget(case):
    error = case["error"]
    labels = {"body": "Comment", "author_name": "Name", "author_email": "Email", "author_url": "Website"}
    text = error_text(catalogue("en"), error.get("code", ""), error.get("status", 0), error.get("field"),
                      error.get("message", ""), lambda field: labels.get(field or "", field or ""))
    assert text == case["expect"]

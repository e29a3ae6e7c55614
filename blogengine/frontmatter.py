"""Front matter: YAML read safely (no tags, no aliases, no implicit dates), fields validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml
from yaml.nodes import MappingNode, Node

from blogengine.errors import ContentError

KNOWN_FIELDS = ("title", "date", "updated", "tags", "category", "summary", "slug", "draft",
                "author", "image", "comments", "fediverse")
SLUG_PATTERN = re.compile(r"^[\w][\w.~-]*$")


# libyaml's parser when PyYAML has it (several times faster), else the pure-Python one.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SafeLoader(_Base):  # type: ignore[misc]
    """A safe loader without implicit timestamps, so every date goes through one parser with
    one clear error message. Aliases are refused after composing (see _refuse_aliases)."""


_SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _alias_line(root: Node) -> int | None:
    """The line (0-based) of the first alias: a node reached a second time, which is what an
    alias composes to. Refusing them rules out alias bombs, whose node graph is small but whose
    constructed data is huge. An alias's own position is lost in composing, so the line is that
    of the innermost key above it."""
    seen: set[int] = set()
    stack: list[tuple[Node, int]] = [(root, root.start_mark.line)]
    while stack:
        node, line = stack.pop()
        if id(node) in seen:
            return line
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in reversed(node.value):  # reversed: visit in document order
                stack.append((value, key.start_mark.line))
                stack.append((key, key.start_mark.line))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, line) for item in reversed(node.value))
    return None


@dataclass(frozen=True)
class FrontMatter:
    """The validated fields of one document's front matter."""

    title: str
    date: datetime | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    category: str | None = None
    summary: str | None = None
    slug: str | None = None
    draft: bool = False
    author: str | None = None
    image: str | None = None
    comments: bool | None = None
    fediverse: str | None = None     # the URL of the post's announcement on the fediverse
    extra: dict[str, Any] = field(default_factory=dict)


def read_front_matter(text: str, *, first_line: int, display_path: str, tz: ZoneInfo,
                      date_required: bool) -> FrontMatter:
    """Parse YAML front matter whose first line is `first_line` in the file (1-based).

    Raises ContentError naming the file and line for any problem."""
    def error(message: str, line: int | None) -> ContentError:
        return ContentError(message, path=display_path, line=line)

    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise error("front matter is empty (expected at least `title: ...`)", first_line)
        if not isinstance(node, MappingNode):
            raise error("front matter must be a mapping of `key: value` lines",
                        first_line + node.start_mark.line)
        alias_line = _alias_line(node)
        if alias_line is not None:
            raise error("YAML aliases (*name) are not allowed in front matter",
                        first_line + alias_line)
        lines: dict[str, int] = {k.value: first_line + k.start_mark.line for k, _ in node.value
                                 if isinstance(k.value, str)}
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        message, at = _yaml_problem(exc, text)
        raise error(f"invalid YAML front matter: {message}",
                    first_line + at if at is not None else first_line) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML front matter: {exc}", first_line) from None
    finally:
        loader.dispose()

    def line_of(key: str) -> int:
        return lines.get(key, first_line)

    def text_field(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value).strip()
        raise error(f"{key}: must be text, got {_describe(value)}", line_of(key))

    def bool_field(key: str) -> bool | None:
        value = data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise error(f"{key}: must be true or false, got {value!r}", line_of(key))

    title = text_field("title")
    if not title:
        raise error("title: missing (every post and page needs `title: ...`)", first_line - 1
                    if "title" not in data else line_of("title"))
    when = _parse_when(data.get("date"), "date", tz, line_of("date"), error)
    if when is None and date_required:
        raise error("date: missing (every post needs `date: YYYY-MM-DD`)", first_line - 1)
    slug = text_field("slug")
    if slug is not None and not SLUG_PATTERN.match(slug):
        raise error(f"slug: {slug!r} may hold only letters, digits, '-', '_', '.' and '~' "
                    "(no '/' or spaces)", line_of("slug"))
    fediverse = text_field("fediverse") or None
    if fediverse is not None and not is_status_url(fediverse):
        raise error(f"fediverse: must be the http(s) URL of the post's announcement, e.g. "
                    f"https://mastodon.social/@you/123 (got {fediverse!r})", line_of("fediverse"))
    return FrontMatter(
        title=title,
        date=when,
        updated=_parse_when(data.get("updated"), "updated", tz, line_of("updated"), error),
        tags=_parse_tags(data.get("tags"), line_of("tags"), error),
        category=text_field("category") or None,
        summary=text_field("summary") or None,
        slug=slug,
        draft=bool_field("draft") or False,
        author=text_field("author") or None,
        image=text_field("image") or None,
        comments=bool_field("comments"),
        fediverse=fediverse,
        extra={k: v for k, v in data.items() if k not in KNOWN_FIELDS},
    )


def is_status_url(url: str) -> bool:
    """An absolute http(s) URL with a host and no spaces: what a fediverse status link looks like."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, int | None]:
    """What went wrong in the YAML, and on which line (0-based) of the front matter, with a
    hint for the two mistakes everyone makes: an unclosed [list] and an unquoted ': '."""
    lines = text.splitlines()
    context, problem = exc.context or "", exc.problem or ""
    if context.startswith("while parsing a flow") and exc.context_mark is not None:
        # The parser notices only where it gave up (often the next line); the mistake is on
        # the line that opened the list.
        opened: int = exc.context_mark.line
        opener, closer = ("[", "]") if "sequence" in context else ("{", "}")
        return (f"the {'list' if opener == '[' else 'mapping'} opened with '{opener}' is never "
                f"closed (expected ',' or '{closer}'; end it with '{closer}' on this line)"), opened
    mark = exc.problem_mark or exc.context_mark
    at = mark.line if mark is not None else None
    line = lines[at] if at is not None and at < len(lines) else ""
    key, colon, value = line.partition(":")
    if "mapping values are not allowed" in problem and colon and ": " in value + " ":
        quoted = value.strip().replace("\\", "\\\\").replace('"', '\\"')
        return (f"{problem}: the value of '{key.strip()}' holds ': ', which YAML reads as another "
                f"key; put the value in quotes: {key.strip()}: \"{quoted}\""), at
    return problem or context, at


def _parse_when(value: Any, key: str, tz: ZoneInfo, line: int, error: Any) -> datetime | None:
    """A date or datetime in the site's time zone (an explicit offset wins)."""
    if value is None:
        return None
    if isinstance(value, str):
        raw = value.strip()
        try:
            parsed: date | datetime = datetime.fromisoformat(raw) if len(raw) > 10 \
                else date.fromisoformat(raw)
        except ValueError:
            raise error(f'{key}: "{raw}" is not a valid date (expected YYYY-MM-DD or '
                        'YYYY-MM-DD HH:MM)', line) from None
    elif isinstance(value, (date, datetime)):
        parsed = value
    else:
        raise error(f"{key}: must be a date such as 2024-05-01, got {_describe(value)}", line)
    if not isinstance(parsed, datetime):
        parsed = datetime.combine(parsed, time(0, 0))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def _parse_tags(value: Any, line: int, error: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise error(f"tags: must be a list or a comma-separated string, got {_describe(value)}",
                    line)
    tags: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise error(f"tags: each tag must be text, got {_describe(item)}", line)
        tag = str(item).strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _describe(value: Any) -> str:
    kinds = {list: "a list", dict: "a mapping", bool: "a boolean", int: "a number",
             float: "a number", str: "text"}
    return kinds.get(type(value), type(value).__name__) + (f" {value!r}" if not
                                                           isinstance(value, (list, dict)) else "")

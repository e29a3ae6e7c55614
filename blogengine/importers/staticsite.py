"""What Jekyll and Hugo sites share: front matter in YAML, TOML or JSON; dates; Staticman comment
files; old URLs from permalink patterns; assets to copy."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from blogengine.importers.html import html_to_markdown
from blogengine.importers.plan import CommentItem, Plan, SourceError

class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without timestamps (every date goes through parse_date) and without aliases
    (an alias bomb is small to read and huge to build)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(None, None, "aliases (*name) are not allowed", mark)
        return super().compose_node(parent, index)


_NoAliasLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, path: Path, first_line: int = 1) -> Any:
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SourceError(f"invalid YAML: {exc.problem or exc.context}", path=path,
                          line=first_line + mark.line if mark else first_line) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"invalid YAML: {exc}", path=path, line=first_line) from None


def load_data_file(path: Path) -> Any:
    """A YAML, TOML or JSON file (configs, data files), by its suffix."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError("not UTF-8 text", path=path) from None
    except OSError as exc:
        raise SourceError(f"cannot read the file ({exc.strerror})", path=path) from None
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SourceError(f"invalid TOML: {exc}", path=path) from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from None
    return load_yaml(text, path)


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str] | None:
    """(front matter, body) of a content file with YAML (---), TOML (+++) or JSON ({) front
    matter; None when the file has none."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    for fence, kind in (("---", "yaml"), ("+++", "toml")):
        if text.startswith(fence + "\n") or text == fence:
            end = re.search(rf"^{re.escape(fence)}[ \t]*$", text[len(fence) + 1:], re.MULTILINE)
            if end is None:
                raise SourceError(f"front matter opened with {fence!r} is never closed", path=path,
                                  line=1)
            raw = text[len(fence) + 1: len(fence) + 1 + end.start()]
            body = text[len(fence) + 1 + end.end():].lstrip("\n")
            if kind == "yaml":
                data = load_yaml(raw, path, first_line=2) if raw.strip() else {}
            else:
                try:
                    data = tomllib.loads(raw)
                except tomllib.TOMLDecodeError as exc:
                    raise SourceError(f"invalid TOML front matter: {exc}", path=path) from None
            if not isinstance(data, dict):
                raise SourceError("front matter must be a mapping of keys to values", path=path,
                                  line=1)
            return data, body
    if text.startswith("{"):
        try:
            data, end_index = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"invalid JSON front matter: {exc.msg}", path=path,
                              line=exc.lineno) from None
        if isinstance(data, dict):
            return data, text[end_index:].lstrip("\n")
    return None


def zone(name: Any, fallback: ZoneInfo) -> ZoneInfo:
    if isinstance(name, str) and name.strip():
        try:
            return ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError):
            return fallback
    return fallback


_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*"
                   r"(Z|[+-]\d{2}:?\d{2})?$")


def parse_date(value: Any, tz: ZoneInfo) -> datetime | None:
    """A front matter date (TOML datetime, YAML string in Jekyll's or Hugo's spellings, unix
    seconds), aware; times without an offset are in `tz`."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tz)
    if not isinstance(value, str):
        return None
    match = _DATE.match(value.strip())
    if match is None:
        return None
    day, clock, offset = match.groups()
    clock = clock or "00:00"
    if len(clock.split(":")[0]) == 1:
        clock = "0" + clock
    stamp = f"{day}T{clock}"
    if offset:
        offset = "+00:00" if offset == "Z" else offset[:3] + ":" + offset[-2:]
        return datetime.fromisoformat(stamp + offset)
    try:
        return datetime.fromisoformat(stamp).replace(tzinfo=tz)
    except ValueError:
        return None


def words(value: Any) -> list[str]:
    """Tags or categories: a list, or a string of words (Jekyll) or of comma-separated words."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",") if "," in value else value.split()
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    return list(dict.fromkeys(str(item).strip() for item in items
                              if not isinstance(item, (dict, list)) and str(item).strip()))


def text_value(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    if value is None or isinstance(value, bool):
        return None
    return str(value).strip() or None


def walk(root: Path, skip: Callable[[PurePosixPath], bool]) -> Iterator[tuple[Path, PurePosixPath]]:
    """Files under root, sorted, with their relative paths; `skip` prunes folders and files.
    Symbolic links are not followed: an import copies the site, not what it points to."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        if any(skip(PurePosixPath(*rel.parts[: n + 1])) for n in range(len(rel.parts))):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        yield path, rel


def staticman_comments(folder: Path, plan: Plan, system: str, site_id: str, authors: set[str],
                       tz: ZoneInfo) -> dict[str, list[CommentItem]]:
    """Comments that Staticman committed to the site as data files, one folder per post:
    `<folder>/<post slug>/<entry>.yml` (or .json), with _id, _parent or replying_to, name,
    email (often its MD5), url, message and date. Keyed by the folder name."""
    found: dict[str, list[CommentItem]] = {}
    if not folder.is_dir():
        return found
    for post_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
        items: list[tuple[dict[str, Any], Path]] = []
        for path in sorted(post_folder.iterdir()):
            if path.suffix in (".yml", ".yaml", ".json", ".toml") and path.is_file():
                data = load_data_file(path)
                if isinstance(data, dict):
                    items.append((data, path))
        ids = {str(d.get("_id") or p.stem): d for d, p in items}
        order = [str(d.get("_id") or p.stem) for d, p in items]
        comments = []
        for (data, path), comment_id in zip(items, order):
            when = parse_date(data.get("date"), tz)
            if when is None:
                plan.skip("comments", "no valid date", f"{path}: no valid `date`")
                continue
            parent = data.get("_parent") or data.get("replying_to_uid")
            if parent is None and str(data.get("replying_to") or "").strip().isdigit():
                index = int(str(data["replying_to"]).strip()) - 1   # 1-based position in the post
                parent = order[index] if 0 <= index < len(order) else None
            name = str(data.get("name") or "").strip()
            email = str(data.get("email") or "").strip().lower()
            # Staticman often stores the MD5 of the email (for Gravatar), not the email.
            hashed = {hashlib.md5(a.encode()).hexdigest() for a in authors}  # noqa: S324
            is_author = bool({name.lower(), email} & (authors | hashed) - {""})
            message = str(data.get("message") or data.get("comment") or "")
            comments.append(CommentItem(
                uid=f"{system}:{site_id}:{post_folder.name}:{comment_id}",
                parent_uid=(f"{system}:{site_id}:{post_folder.name}:{parent}"
                            if parent and str(parent) in ids else None),
                author_name=name, author_email=email if "@" in email else None,
                author_url=str(data.get("url") or "").strip() or None, is_author=is_author,
                body=html_to_markdown(message) if re.search(r"</?[a-z][^>]*>", message) else message.strip(),
                created_at=when.astimezone(UTC)))
        found[post_folder.name] = comments
    return found


def permalink_path(pattern: str, values: dict[str, str]) -> str:
    """Fill `:name` placeholders (longest names first) and tidy the slashes."""
    for name in sorted(values, key=len, reverse=True):
        pattern = pattern.replace(f":{name}", values[name])
    path = re.sub(r"/{2,}", "/", "/" + pattern)
    return path

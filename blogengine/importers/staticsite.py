"""What Jekyll and Hugo sites share: front matter in YAML, TOML or JSON; dates; old URLs from
permalink patterns; walking the files to copy."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from blogengine.importers.contained import site_file
from blogengine.importers.plan import SourceError

# Aliases are common in real configs (`logo: &logo ...`, `image: *logo`) but a few of them nested
# can stand for billions of values (an "alias bomb"): a document may expand to this many nodes.
MAX_EXPANDED_NODES = 200_000


class _BoundedLoader(yaml.SafeLoader):
    """Safe YAML without timestamps (every date goes through parse_date), with aliases as long as
    the document they expand to stays under MAX_EXPANDED_NODES."""

    _aliased = False

    def compose_document(self) -> Any:
        self._aliased = False
        node = super().compose_document()
        if self._aliased and node is not None:
            _expanded_size(node, {}, set(), MAX_EXPANDED_NODES)
        return node

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliased = True
        return super().compose_node(parent, index)


_BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_: set[int], limit: int) -> int:
    """How many nodes `node` stands for once every alias is written out; refuses past `limit`
    and refuses an alias to a collection that holds it."""
    if id(node) in sizes:
        return sizes[id(node)]
    if id(node) in open_:
        raise yaml.MarkedYAMLError(None, None, "an alias (*name) refers to a value that holds it",
                                   node.start_mark)
    open_.add(id(node))
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, sizes, open_, limit) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes, open_, limit) + _expanded_size(v, sizes, open_, limit)
                    for k, v in node.value)
    open_.discard(id(node))
    if size > limit:
        raise yaml.MarkedYAMLError(
            None, None, f"aliases (*name) expand it to more than {limit:,} values; "
            "write the values out or use fewer nested aliases", node.start_mark)
    sizes[id(node)] = size
    return size


def load_yaml(text: str, path: Path, first_line: int = 1) -> Any:
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 (a safe loader)
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
                if data is None:   # only comments, like a Sass file's "---\n# note\n---"
                    data = {}
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
        if not site_file(path, root):
            continue
        yield path, rel


def permalink_path(pattern: str, values: dict[str, str]) -> str:
    """Fill `:name` placeholders (longest names first) and tidy the slashes."""
    for name in sorted(values, key=len, reverse=True):
        pattern = pattern.replace(f":{name}", values[name])
    path = re.sub(r"/{2,}", "/", "/" + pattern)
    return path

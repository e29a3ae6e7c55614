"""`blogengine init` and `blogengine new`: write a new site, or a new post or page, to disk."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from slugify import slugify

from blogengine.config import CONFIG_NAME, SiteConfig
from blogengine.errors import BlogError

_GITIGNORE = "public/\n.blogengine/\ncomments.sqlite3*\n"


def init_site(root: Path, *, title: str, author: str = "", base_url: str = "",
              now: datetime | None = None) -> list[Path]:
    """Create a site that builds at once: config, a first post, an about page."""
    if (root / CONFIG_NAME).exists() or (root / "content").exists():
        raise BlogError(f"{root} already holds a site ({CONFIG_NAME} or content/ exists); "
                        "choose an empty folder")
    when = now or datetime.now().astimezone()
    config_lines = [
        "# blogengine site settings; every key is optional but title.",
        f"title = {_toml_string(title)}",
        f"base_url = {_toml_string(base_url or 'http://localhost:8000/')}",
        'language = "en"',
        f"timezone = {_toml_string(_local_zone_name())}",
        'permalink = "/{year}/{month}/{slug}/"',
        "posts_per_page = 10",
        "",
        "[author]",
        f"name = {_toml_string(author or 'Your Name')}",
        'email = ""',
        "",
        "[comments]",
        "enabled = true",
        '# url = "https://comments.example.com/"   # empty: the comment server shares the site\'s origin',
        "",
    ]
    files = {CONFIG_NAME: "\n".join(config_lines),
             **starter_documents(when.strftime("%Y-%m-%d %H:%M")),
             ".gitignore": _GITIGNORE}
    written = []
    for rel, text in files.items():
        path = root / rel
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def starter_documents(date: str) -> dict[str, str]:
    """The first post and the about page `init` writes (by path), the post dated `date`."""
    return {
        "content/posts/hello-world.md": _document(
            {"title": "Hello, world", "date": date, "tags": ["welcome"]},
            "This is the first post of your new blog. Edit it in `content/posts/hello-world.md`,\n"
            "or write another with `blogengine new \"My next post\"`.\n\n"
            "## What next\n\n- [ ] Write about something you care about\n"
            "- [ ] Answer the first reader who writes back\n"),
        "content/pages/about.md": _document(
            {"title": "About"},
            "Who writes here, and why. Readers can reach you in the comments under every post.\n"),
    }


def is_untouched_starter(rel: str, text: str) -> bool:
    """Whether `text`, found at `rel` (from the site root), is a starter document exactly as
    `init` wrote it: an import may then put its own post or page there."""
    dated = re.search(r"^date: '?([^'\n]*)'?$", text, re.MULTILINE)
    return starter_documents(dated.group(1) if dated else "").get(rel) == text


def new_document(config: SiteConfig, title: str, *, page: bool = False, draft: bool = True,
                 tags: list[str] | None = None, now: datetime | None = None) -> Path:
    """Write content/posts/<slug>.md (or content/pages/<slug>.md) with front matter filled in."""
    slug = slugify(title, max_length=80, word_boundary=True)
    if not slug:
        raise BlogError(f"cannot make a file name from the title {title!r}; use letters or digits")
    folder = config.content_dir / ("pages" if page else "posts")
    path = folder / f"{slug}.md"
    if path.exists():
        raise BlogError(f"{path} already exists; choose another title")
    meta: dict[str, object] = {"title": title}
    if not page:
        when = (now or datetime.now(config.tz)).astimezone(config.tz)
        meta.update(date=when.strftime("%Y-%m-%d %H:%M"), tags=tags or [], draft=draft)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(_document(meta, "Write here.\n"), encoding="utf-8")
    return path


def _document(meta: dict[str, object], body: str) -> str:
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return f"---\n{front}---\n\n{body}"


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _local_zone_name() -> str:
    try:
        target = Path("/etc/localtime").resolve()
        parts = target.parts
        if "zoneinfo" in parts:
            name = "/".join(parts[parts.index("zoneinfo") + 1:]).removeprefix("posix/")
            ZoneInfo(name)
            return name
    except (OSError, ValueError, ZoneInfoNotFoundError):
        pass
    return "UTC"

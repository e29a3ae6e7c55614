"""A Jekyll post's text as plain Markdown: the Liquid Jekyll would have run, Kramdown's attribute
lists, and links made by `post_url` and `link` pointed at the posts they name."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from blogengine.importers.jekyll_shortcodes import includes_to_shortcodes
from blogengine.importers.plan import Entry, Plan

# A marker for a link whose URL is known once every post has been read.
_LINK_MARK = re.compile(r"\x00(post_url|link):([^\x00]*)\x00")
_RAW = r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}"


# Tags of Liquid itself: their blocks are logic, not text to keep.
_CORE_BLOCKS = {"if", "unless", "case", "for", "capture", "tablerow", "comment", "raw",
                "highlight"}
# A plugin's block tag ({% notice %}...{% endnotice %}, {% figure %}...{% endfigure %}).
_BLOCK = r"\{%-?\s*(\w+)([^%]*?)-?%\}\n?(.*?)\n?\{%-?\s*end\1\s*-?%\}"


def _unwrap(match: re.Match[str], leftover: set[str]) -> str:
    """A plugin's block keeps its text; a figure's caption follows its image."""
    name, options, inner = match.group(1), match.group(2), match.group(3)
    if name in _CORE_BLOCKS:
        return match.group(0)
    caption = re.search(r"caption:\s*\"([^\"]*)\"", options) if name == "figure" else None
    if name != "figure":
        leftover.add(f"{name} (its text kept)")
    return inner.strip("\n") + (f"\n\n*{caption.group(1)}*" if caption else "")


def _stash_raw(body: str, raws: list[str]) -> str:
    """{% raw %} text (Liquid the author meant to show) set aside until the end."""
    def stash(match: re.Match[str]) -> str:
        raws.append(match.group(1))
        return f"\x02{len(raws) - 1}\x02"
    return re.sub(_RAW, stash, body, flags=re.DOTALL)


def _includes(body: str, folder: Path | None, leftover: set[str], raws: list[str],
              depth: int = 3) -> str:
    """{% include name %} (and include_cached): the file from _includes/ in its place, as Jekyll
    puts it, with `{{ include.x }}` filled from the tag's parameters."""
    def insert(match: re.Match[str]) -> str:
        path = (folder / match.group(1)).resolve() if folder else None
        if folder is None or path is None or depth == 0 or not path.is_relative_to(
                folder.resolve()) or not path.is_file():
            return match.group(0)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return match.group(0)
        params = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in re.finditer(r"(\w+)=(?:[\"']([^\"']*)[\"']|(\S+))", match.group(2))}
        text = re.sub(r"\{\{-?\s*include\.(\w+)\s*-?\}\}",
                      lambda p: params.get(p.group(1), ""), _stash_raw(text, raws))
        return _includes(text, folder, leftover, raws, depth - 1).strip("\n")
    return re.sub(r"\{%-?\s*include(?:_cached)?\s+([\w./-]+)([^%]*?)-?%\}", insert, body)


def liquid_to_markdown(body: str, leftover: set[str], includes: Path | None = None) -> str:
    """Liquid that Jekyll would have run: video, figure and gist includes and tags become
    shortcode calls (see jekyll_shortcodes), other includes put in place (from `includes`, the
    site's _includes/), highlight blocks become fenced code, comments vanish, a plugin's blocks keep
    their text, raw/endraw and site.baseurl vanish, post_url and link
    become markers (see resolve_links); other tags are left as text (blogengine never runs post
    text) and named in `leftover`. Text inside {% raw %} is left as it is."""
    def fence(match: re.Match[str]) -> str:
        return f"```{match.group(1)}\n{match.group(2).strip(chr(10))}\n```"

    raws: list[str] = []
    body = includes_to_shortcodes(_stash_raw(body, raws), leftover)
    body = _includes(body, includes, leftover, raws)
    body = includes_to_shortcodes(body, leftover)   # those an inlined include made
    body = re.sub(r"\{%-?\s*highlight\s+([\w+-]+)[^%]*-?%\}\n?(.*?)\{%-?\s*endhighlight\s*-?%\}",
                  fence, body, flags=re.DOTALL)
    body = re.sub(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}\n?", "", body,
                  flags=re.DOTALL)
    body = re.sub(_BLOCK, lambda m: _unwrap(m, leftover), body, flags=re.DOTALL)
    body = re.sub(r"\{%-?\s*youtube\s+[\"']?([\w-]+)[\"']?\s*-?%\}",
                  r"<https://www.youtube.com/watch?v=\1>", body)
    body = re.sub(r"\{\{-?\s*(?:site\.baseurl|site\.url|site\.github\.url)\s*-?\}\}", "", body)
    body = re.sub(r"\{%-?\s*(post_url|link)\s+([^\s%]+)\s*-?%\}",
                  lambda m: f"\x00{m.group(1)}:{m.group(2)}\x00", body)
    for match in re.finditer(r"\{%-?\s*(\w+)|\{\{(?!< )", body):   # not our own calls
        leftover.add(match.group(1) or "{{ }}")
    body = re.sub(r"\{%-?\s*(?:raw|endraw)\s*-?%\}", "", body)   # a raw never closed
    for _depth in range(4):   # raw text inside raw text that an include brought
        body = re.sub(r"\x02(\d+)\x02", lambda m: raws[int(m.group(1))], body)
    return body


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_TOC = re.compile(r"^\s*(?:[*+-]|1\.)\s+.*\n\s*\{:\s*(?:\.no_toc\s*)?toc\s*\}[ \t]*$", re.MULTILINE)
# {: .class}, {:#id}, {:.a target="_blank"}, {:name: .class} (a definition), {::options ... /}
_ATTRIBUTES = re.compile(r"\{::?[^{}\n]*\}")


def kramdown_to_markdown(body: str, found: set[str]) -> str:
    """Kramdown's extras that CommonMark would show as text: the `* TOC\\n{:toc}` marker and
    attribute lists go, `{::comment}` blocks go, `{::nomarkdown}` keeps its content; code blocks
    are left alone. What was removed is named in `found` ("toc", "attribute lists")."""
    if "{:" not in body:
        return body
    if _TOC.search(body):
        found.add("toc")
        body = _TOC.sub("", body)
    body = re.sub(r"\{::comment\}.*?\{:/comment\}\n?", "", body, flags=re.DOTALL)
    out: list[str] = []
    fence: str | None = None
    for line in body.split("\n"):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            out.append(line)
            continue
        if opened:
            fence = opened.group(1)
            out.append(line)
            continue
        cleaned = re.sub(r"\{:/\w*\}", "", _ATTRIBUTES.sub("", line))
        if cleaned != line:
            found.add("attribute lists")
            if not cleaned.strip():
                continue     # a line that was only an attribute list
            cleaned = cleaned.rstrip()
        out.append(cleaned)
    return "\n".join(out)


def resolve_links(plan: Plan, posts: dict[str, Entry], files: dict[str, Entry]) -> None:
    """`{% post_url 2016-05-19-name %}` and `{% link _posts/2016-05-19-name.md %}`: the old URL
    of the post or page they name, which the import then points at its new URL. `posts` is keyed
    by a post's name under _posts/ without suffix, `files` by its path in the source."""
    for entry in plan.entries:
        def resolve(match: re.Match[str], entry: Entry = entry) -> str:
            kind, name = match.group(1), match.group(2).strip("'\"")
            if kind == "post_url":
                target = posts.get(name) or posts.get(PurePosixPath(name).name)
            else:
                target = files.get(name.lstrip("/"))
            if target is None or not target.old_urls:
                plan.notes.append(f"{entry.label}: {{% {kind} {name} %}} names no published "
                                  "imported post or page; left as text")
                return name
            return target.old_urls[0]
        entry.body = _LINK_MARK.sub(resolve, entry.body)

"""`blogengine webmention send`: tell the sites a post links to that it does, with a Webmention
(https://www.w3.org/TR/webmention/), once per link.

The built site is read back: each page with a microformats `e-content` element (the default
theme's posts and pages) is a source, and the outside links inside that element are its targets,
so navigation, footers and comment sections never count. What was sent is remembered in
.blogengine/webmentions-sent.json, written after each page, so a second run, or a run after a
crash, sends nothing twice:

- a new page, or a changed page's new links, are sent;
- a link removed from a page, and every link of a page deleted from the site, is sent once more
  (the receiver then finds the link, or the page, gone and drops the mention), then forgotten;
- a failure (no answer, the endpoint said 4xx/5xx) is tried again on the next run; "no endpoint"
  and "refused" (a private address) are final until the link is removed and added again.

Each Webmention is sent by the comment server's client, through the one door (blogengine/comments.py);
its every request goes through netguard: no private addresses, size and time caps.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

from blogengine.cache import CACHE_DIR
from blogengine.comments import send_webmention
from blogengine.config import SiteConfig
from blogengine.errors import BlogError

STATE_NAME = "webmentions-sent.json"
SKIPPED_FOLDERS = {"pagefind"}
# Outcomes, as the comment server's sender names them; "failed" is tried again next run, the
# others are final.
SENT, FAILED, NO_ENDPOINT, REFUSED = "sent", "failed", "no endpoint", "refused"


@dataclass(frozen=True)
class SendOptions:
    source_base: str = ""      # the site's public URL; empty: base_url
    output_dir: Path | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class SourcePage:
    """One built page that can mention others: its public URL, a hash of its content element
    and the outside links in that element, in document order."""

    url: str
    digest: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    source: str
    target: str
    result: str             # SENT, FAILED, NO_ENDPOINT or REFUSED ("would send" in a dry run)
    detail: str = ""        # the status code, the endpoint or the reason
    removed: bool = False   # the link (or the page) is gone: sent so the receiver drops it


@dataclass
class SendReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.result == result)

    @property
    def failed(self) -> bool:
        return self.count(FAILED) > 0


def state_path(config: SiteConfig) -> Path:
    return config.root / CACHE_DIR / STATE_NAME


def send_webmentions(config: SiteConfig, options: SendOptions = SendOptions(),
                     progress: Callable[[Outcome], None] | None = None) -> SendReport:
    """Send what the built site has not sent yet (see the module's docstring). `progress` sees
    each outcome as it happens; failures never stop the rest."""
    out_dir = options.output_dir or config.output_dir
    if not out_dir.is_dir():
        raise BlogError(f"no built site in {out_dir}; run `blogengine build` first")
    base = options.source_base or config.base_url
    if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).netloc:
        raise BlogError(f"--source-base must be an absolute http(s) URL, got {base!r}")
    base = base if base.endswith("/") else base + "/"
    pages = {page.url: page for page in read_sources(out_dir, base)}
    path = state_path(config)
    state = read_state(path)
    if not pages and state:
        # Most likely a theme without `e-content` or the wrong folder, not a site whose every
        # post was deleted: sending "removed" for everything ever linked would be spam.
        raise BlogError(f"no page in {out_dir} has an element of class \"e-content\" (the post's body), "
                        f"but {len(state)} page(s) sent Webmentions before; is this the built site? "
                        f"To forget them, delete {path}")
    report = SendReport()
    for source in sorted(set(pages) | set(state)):
        page = pages.get(source)
        sent = state.get(source, {})
        plan = plan_source(page, sent)
        if not plan:
            continue
        for target, removed in plan:
            if options.dry_run:
                outcome = Outcome(source, target, "would send", removed=removed)
            else:
                result, detail = send_webmention(config, source, target)
                outcome = Outcome(source, target, result, detail, removed)
                record(sent, target, outcome, page)
            report.outcomes.append(outcome)
            if progress:
                progress(outcome)
        if not options.dry_run:
            if sent:
                state[source] = sent
            else:
                state.pop(source, None)
            write_state(path, state)   # after each page: a crash loses at most one page's record
    return report


def plan_source(page: SourcePage | None, sent: dict[str, dict[str, str]]) -> list[tuple[str, bool]]:
    """(target, removed) pairs to send for one source: links not sent yet (or that failed), then
    links remembered but no longer on the page (all of them when the page is gone)."""
    current = page.targets if page else ()
    todo = [(target, False) for target in current
            if target not in sent or sent[target].get("result") == FAILED]
    todo += [(target, True) for target in sent if target not in current]
    return todo


def record(sent: dict[str, dict[str, str]], target: str, outcome: Outcome, page: SourcePage | None) -> None:
    """Remember a link's outcome; a removed link is forgotten once it went out (or was final),
    and kept, marked failed, to be tried again when it did not."""
    if outcome.removed and outcome.result != FAILED:
        sent.pop(target, None)
        return
    sent[target] = {"result": outcome.result, "detail": outcome.detail,
                    "digest": page.digest if page else sent.get(target, {}).get("digest", "")}


def read_sources(out_dir: Path, base: str) -> Iterator[SourcePage]:
    """Every built HTML page with an `e-content` element, as a SourcePage at `base`."""
    own_host = (urlsplit(base).hostname or "").lower()
    for path in sorted(out_dir.rglob("*.html")):
        rel = path.relative_to(out_dir)
        if rel.parts[0] in SKIPPED_FOLDERS or rel.parts[0].startswith("."):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "e-content" not in text:
            continue
        url = urljoin(base, rel.as_posix().removesuffix("index.html"))
        content = content_element(text)
        if content is None:
            continue
        html = etree.tostring(content, encoding="unicode")
        yield SourcePage(url=url, digest=hashlib.sha256(html.encode("utf-8")).hexdigest(),
                         targets=outside_links(content, url, own_host))


def content_element(text: str) -> etree._Element | None:
    """The first element of class `e-content` (microformats2, which receivers read too)."""
    try:
        document = lxml.html.fromstring(text)
    except (ValueError, etree.ParserError):
        return None
    for element in document.iter():
        if "e-content" in str(element.get("class") or "").split():
            return element
    return None


def outside_links(content: etree._Element, page_url: str, own_host: str) -> tuple[str, ...]:
    """The http(s) links of `content` to other hosts, without fragments, each once, in order."""
    links: dict[str, None] = {}
    for anchor in content.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href:
            continue
        url = urldefrag(urljoin(page_url, href)).url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname and parts.hostname.lower() != own_host:
            links[url] = None
    return tuple(links)


def read_state(path: Path) -> dict[str, dict[str, dict[str, str]]]:
    """source -> target -> {"result", "detail", "digest"}; an unreadable file is an error (sending
    everything again would spam every site the blog ever linked to)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BlogError(f"cannot read what was sent before ({exc}); fix or delete the file to send "
                        "everything again", path=path) from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise BlogError("not a record of sent Webmentions (expected a JSON object of objects); fix "
                        "or delete the file to send everything again", path=path)
    return data


def write_state(path: Path, state: dict[str, dict[str, dict[str, str]]]) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)

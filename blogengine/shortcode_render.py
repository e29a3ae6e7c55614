"""Shortcodes (render stage): fill a page's placeholders from templates/shortcodes/NAME.html in
the theme chain, with the call's arguments, `inner`, the page, `site` and `config`."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from blogengine.errors import ContentError
from blogengine.images import ImageSite, rewrite_images
from blogengine.shortcodes import PLACEHOLDER, ShortcodeCall, ShortcodeHtml

# Names a call's arguments cannot take: the template's own variables.
RESERVED = frozenset({"page", "site", "config", "inner", "args", "positional", "shortcode"})
_UNDEFINED = re.compile(r"^'([A-Za-z_]\w*)' is undefined$")
_INLINE_MARKDOWN = MarkdownIt("commonmark", {"html": True})
_ESCAPING_MARKDOWN = MarkdownIt("commonmark", {"html": False})


def install(env: jinja2.Environment) -> None:
    """Let an environment fill shortcode placeholders wherever a template writes a page's
    HTML out, and give shortcode templates the `markdownify` filter."""
    env.finalize = finalize
    env.filters["markdownify"] = markdownify
    env.filters["regex_match"] = regex_match
    env.globals["fail"] = fail


class ShortcodeFailure(Exception):
    """Raised by a shortcode template through `fail(message)`: a bad argument."""


def fail(message: str) -> str:
    """For shortcode templates: stop with a message naming what is wrong with the call."""
    raise ShortcodeFailure(message)


def regex_match(value: str, pattern: str) -> bool:
    """Whether the whole value matches a regular expression (for checking ids)."""
    return re.fullmatch(pattern, str(value)) is not None


@jinja2.pass_environment
def finalize(env: jinja2.Environment, value: Any) -> Any:
    if isinstance(value, ShortcodeHtml) and value.page is not None:
        return Markup(expand_page(env, value.page, str(value)))
    return value


def expand_page(env: jinja2.Environment, page: Any, html: str) -> str:
    """A page's whole HTML with its shortcodes filled in, and the images they made sized and
    given variants (images.py; the Markdown's own images were done when it was parsed)."""
    done = expand(env, page, html)
    site = env.globals.get("image_site")
    if not isinstance(site, ImageSite) or "<img" not in done:
        return done
    first = done.find("<img")
    eager = not re.match(r"<img\b[^>]*\b(?:decoding|fetchpriority)=", done[first:])
    return rewrite_images(done, page.doc.source.rel, site, eager_first=eager,
                          resizable=[image.path for image in page.doc.images])[0]


@jinja2.pass_environment
def markdownify(env: jinja2.Environment, text: str) -> Markup:
    """Inline Markdown (a caption's *emphasis* and [links]) as HTML; raw HTML in it is escaped
    when the site escapes it in posts (`escape_html`)."""
    config = env.globals.get("config")
    md = _ESCAPING_MARKDOWN if getattr(config, "escape_html", False) else _INLINE_MARKDOWN
    return Markup(md.renderInline(str(text)).strip())


def expand(env: jinja2.Environment, page: Any, html: str) -> str:
    """The page's HTML with every shortcode placeholder replaced by its template's output;
    a problem is a ContentError naming the source file, the call's line and the shortcode."""
    calls: tuple[ShortcodeCall, ...] = page.doc.shortcodes

    def one(match: re.Match[str]) -> str:
        call = calls[int(match[1])]
        inner = None if match[2] is None else expand(env, page, match[2])
        return render_call(env, page, call, inner)

    return PLACEHOLDER.sub(one, html)


def render_call(env: jinja2.Environment, page: Any, call: ShortcodeCall,
                inner: str | None) -> str:
    """One call through its template."""
    where = {"path": page.source, "line": call.line}
    reserved = sorted(RESERVED.intersection(key for key, _ in call.args))
    if reserved:
        raise ContentError(f"shortcode {call.name!r}: argument name {reserved[0]!r} is reserved "
                           f"(it names one of the template's own variables)", **where)
    try:
        template = env.get_template(call.template)
    except jinja2.TemplateNotFound:
        raise ContentError(f"unknown shortcode {call.name!r}{_did_you_mean(env, call.name)}",
                           **where) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ContentError(f"shortcode {call.name!r}: template syntax error in "
                           f"{exc.filename}:{exc.lineno}: {exc.message}", **where) from None
    args = dict(call.args)
    context: dict[str, Any] = {**args, "args": args, "positional": list(call.positional),
                               "page": page, "shortcode": call}
    if inner is not None:
        context["inner"] = Markup(inner)
    try:
        return template.render(context).strip("\n") + ("\n" if call.block or inner is not None else "")
    except ContentError:
        raise
    except ShortcodeFailure as exc:
        raise ContentError(f"shortcode {call.name!r}: {exc}", **where) from None
    except jinja2.UndefinedError as exc:
        missing = _UNDEFINED.match(str(exc.message))
        if missing and missing[1] == "inner":
            raise ContentError(f"shortcode {call.name!r} wraps Markdown but is never closed "
                               f"(expected {{{{< /{call.name} >}}}} alone on a line after it)",
                               **where) from None
        if missing and missing[1] not in context:
            raise ContentError(f"shortcode {call.name!r}: missing required argument "
                               f"{missing[1]!r}", **where) from None
        raise ContentError(_template_problem(call, exc), **where) from None
    except Exception as exc:  # anything a template raises is the shortcode's problem
        raise ContentError(_template_problem(call, exc), **where) from None


def _template_problem(call: ShortcodeCall, exc: BaseException) -> str:
    position = ""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".html"):
            position = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return f"shortcode {call.name!r}: template error{position}: {exc}"


def _did_you_mean(env: jinja2.Environment, name: str) -> str:
    known = available(env)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(known)})" if known else " (no templates/shortcodes/ folder found)"


def available(env: jinja2.Environment) -> list[str]:
    """Names of the shortcodes the theme chain and the site provide."""
    names = set()
    for template in env.list_templates(extensions=["html"]):
        if template.startswith("shortcodes/") and ":" not in template:
            names.add(template[len("shortcodes/"):-len(".html")])
    return sorted(names)


def templates_key(env: jinja2.Environment, pages: Iterable[Any]) -> str:
    """A digest of the shortcode templates these pages call (for outputs such as feeds that
    show page HTML without a page template recording what it read)."""
    parts = []
    assert env.loader is not None
    for name in sorted({call.template for page in pages for call in page.doc.shortcodes}):
        try:   # the source, not the template: nothing compiles before the filters are in
            source = env.loader.get_source(env, name)[0]
        except jinja2.TemplateNotFound:
            source = "gone"
        parts.append(f"{name}:{hashlib.sha256(source.encode()).hexdigest()}")
    return "\n".join(parts)

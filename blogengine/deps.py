"""What each page was built from: templates record what they read, and every such input has a
digest, so a rebuild re-renders exactly the pages whose inputs changed."""

from __future__ import annotations

import hashlib
from collections import ChainMap
from collections.abc import Iterable, KeysView, MutableMapping
from dataclasses import fields, is_dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from blogengine.model import Entry, Listing, Site, Term
from blogengine.stamps import digest

Dependency = tuple[str, str, str]   # (kind, url, attribute): ("entry", "/a/", "title"),
                                    # ("listing", "/", "posts"), ("site", "", "pages"),
                                    # ("template", "post.html", "")


class Recorder:
    """The inputs one page's rendering read, attribute by attribute."""

    def __init__(self) -> None:
        self.inputs: set[Dependency] = set()

    def saw(self, obj: Any, name: str) -> None:
        # Called for every attribute a template reads: one dict lookup for the usual case.
        kind = _KINDS.get(type(obj))
        if kind is not None:
            self.inputs.add((kind, obj.url, name))
        elif type(obj) is Site:
            self.inputs.add(("site", "", name))
        elif isinstance(obj, (Entry, Listing, Term, Site)):   # a subclass (a plugin's)
            self._saw_subclass(obj, name)

    def _saw_subclass(self, obj: Any, name: str) -> None:
        if isinstance(obj, Entry):
            self.inputs.add(("entry", obj.url, name))
        elif isinstance(obj, Listing):
            self.inputs.add(("listing", obj.url, name))
        elif isinstance(obj, Term):
            self.inputs.add(("term", obj.url, name))
        else:
            self.inputs.add(("site", "", name))


_KINDS: dict[type, str] = {Entry: "entry", Listing: "listing", Term: "term"}


class RecordingEnvironment(jinja2.Environment):
    """A Jinja environment that tells the current Recorder every model object a template reads
    (templates reach attributes only through getattr/getitem) and every template it loads."""

    recorder: Recorder | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fragments: dict[str, tuple[Markup, frozenset[Dependency]]] = {}
        # Fragments of objects (a post's summary), by template and the objects' identities; the
        # objects are kept with them, so an identity is never another object's while cached.
        # Kept small (10,000 posts make as many): the HTML as UTF-8, what it read packed.
        self._object_fragments: dict[tuple[Any, ...], tuple[tuple[Any, ...], bytes, _Packed]] = {}
        self._shared_groups: dict[Any, Any] = {}
        self.globals["shared_fragment"] = self.shared_fragment

    def forget_object_fragments(self) -> None:
        """A new model is about to be rendered: fragments of the last one's objects are stale
        (their comments, say, may have changed, in a serving process's next build)."""
        self._object_fragments.clear()
        self._shared_groups.clear()

    def shared_fragment(self, name: str, /, **objects: Any) -> Markup:
        """A template rendered once per build and worker however many pages show it. Without
        `objects` it reads nothing of the page (only settings and strings); with them (say
        `post=post`) those are its only variables besides the globals, and it is rendered once
        for the same objects: a post's summary on the index, its tags' and its category's pages.
        Either way it cannot see the page it is on, so its HTML is the same on every page, and
        each page still records what the fragment read, as if it had rendered it itself."""
        if objects:
            return self._object_fragment(name, objects)
        found = self._fragments.get(name)
        if found is None:
            html, inputs = self._render_apart(name, {})
            found = self._fragments[name] = (html, inputs)
        if self.recorder is not None:
            self.recorder.inputs.update(found[1])
        return found[0]

    def _object_fragment(self, name: str, objects: dict[str, Any]) -> Markup:
        key = (name, *[(key, id(value)) for key, value in objects.items()])
        found = self._object_fragments.get(key)
        inputs: Iterable[Dependency]
        if found is None:
            html, inputs = self._render_apart(name, objects)
            packed = _pack(inputs, self._shared_groups)
            self._object_fragments[key] = (tuple(objects.values()), html.encode("utf-8"), packed)
        else:
            html = Markup(found[1].decode("utf-8"))
            inputs = _unpack(found[2])
        if self.recorder is not None:
            self.recorder.inputs.update(inputs)
        return html

    def _render_apart(self, name: str, variables: dict[str, Any]) -> tuple[Markup, frozenset[Dependency]]:
        """A template's HTML with only `variables` and the globals, and what it read."""
        outer, self.recorder = self.recorder, Recorder()
        try:
            html = Markup(self.get_template(name).render(variables))
            return html, frozenset(self.recorder.inputs)
        finally:
            self.recorder = outer

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Every attribute a template reads comes here (a few hundred per page): the usual
        # case, a model object's attribute, without calling further.
        recorder = self.recorder
        if recorder is not None:
            kind = _KINDS.get(type(obj))
            if kind is not None:
                recorder.inputs.add((kind, obj.url, attribute))
            else:
                recorder.saw(obj, attribute)
        try:
            return getattr(obj, attribute)
        except AttributeError:
            return super().getattr(obj, attribute)   # an item, or undefined

    def getitem(self, obj: Any, argument: Any) -> Any:
        if self.recorder is not None and isinstance(argument, str):
            self.recorder.saw(obj, argument)
        return super().getitem(obj, argument)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _Globals({} if d is None else d, self.globals)

    def _load_template(self, name: str, globals: Any) -> jinja2.Template:
        if self.recorder is not None:
            self.recorder.inputs.add(("template", name, ""))
        return super()._load_template(name, globals)


_Packed = tuple[tuple[str, str, tuple[str, ...]], ...]


def _pack(inputs: Iterable[Dependency], shared: dict[Any, Any]) -> _Packed:
    """Dependencies grouped by object: (kind, url, its attribute names), a few small tuples
    where each dependency would be one of its own (a fragment reads some 25). Equal groups
    and name lists (every summary reads the same templates, and the same attributes of its
    post) are one object, taken from `shared`."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for kind, url, name in inputs:
        grouped.setdefault((kind, url), []).append(name)
    packed = []
    for (kind, url), names in grouped.items():
        ordered = tuple(sorted(names))
        group = (kind, url, shared.setdefault(ordered, ordered))
        packed.append(shared.setdefault(group, group))
    return tuple(packed)


def _unpack(packed: _Packed) -> list[Dependency]:
    return [(kind, url, name) for kind, url, names in packed for name in names]


class _Globals(ChainMap[str, Any]):
    """A template's globals over the environment's, as Jinja layers them (a ChainMap, so globals
    set later still show), with membership and keys() at dict speed: every `{% import %}` and
    `{% from %}` compares them, and ChainMap's own take a Python generator per key."""

    def __contains__(self, key: object) -> bool:
        for mapping in self.maps:
            if key in mapping:
                return True
        return False

    def keys(self) -> KeysView[str]:
        merged: dict[str, None] = {}
        for mapping in reversed(self.maps):
            merged.update(dict.fromkeys(mapping))
        return merged.keys()


def _urls(items: Iterable[Any]) -> list[str]:
    return [item.url for item in items]


# Entry attributes whose value is the parsed body: their digest is the source's, so checking a
# page never has to read a cached body back.
_BODY_ATTRIBUTES = frozenset({"content", "doc"})


def _summary(value: Any) -> Any:
    """A JSON-able stand-in for what a template read: other pages only by URL."""
    if isinstance(value, (Entry, Listing, Term)):
        return ["ref", value.url]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, tuple) and all(type(item) is str for item in value):
        return value          # a thousand page URLs: repr handles them in one go
    if isinstance(value, (list, tuple)):
        return [_summary(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _summary(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _summary(getattr(value, f.name)) for f in fields(value)}
    return str(value)


class Digests:
    """The current digest of each input a page may have read, computed on demand."""

    def __init__(self, site: Site, env: jinja2.Environment) -> None:
        self.site = site
        self.env = env
        self.entries = {e.url: e for e in site.entries}
        self.listings = {page.url: page for page in site.listings}
        self.terms = {t.url: t for t in [*site.tags, *site.categories]}
        self._known: dict[Dependency, str] = {}
        self._lines: dict[Dependency, str] = {}            # an input and its digest, for key
        self._of_entry: dict[str, list[Dependency]] = {}   # what is known of each entry
        self._of_templates: list[Dependency] = []

    def forget(self, entries: Iterable[str]) -> None:
        """Drop what was computed for the entries at these URLs (their document changed) and
        for the templates, so that this object serves the next build of the same model."""
        for url in entries:
            for dependency in self._of_entry.pop(url, ()):
                self._known.pop(dependency, None)
                self._lines.pop(dependency, None)
        for dependency in self._of_templates:
            self._known.pop(dependency, None)
            self._lines.pop(dependency, None)
        self._of_templates = []

    def of(self, dependency: Dependency) -> str:
        found = self._known.get(dependency)
        if found is None:
            found = self._known[dependency] = self._compute(dependency)
            if dependency[0] == "entry":   # (for forget)
                self._of_entry.setdefault(dependency[1], []).append(dependency)
            elif dependency[0] == "template":
                self._of_templates.append(dependency)
        return found

    def template(self, name: str) -> str:
        """The digest of a template's file ("gone" when the theme chain no longer has it)."""
        return self.of(("template", name, ""))

    def key(self, inputs: Iterable[Dependency], base: str) -> str:
        """A page's key: the build's fingerprint and the digest of every input it read."""
        lines = self._lines   # most inputs are read by many pages: each line is made once
        parts = [base]
        for dependency in sorted(inputs):
            line = lines.get(dependency)
            if line is None:
                kind, url, name = dependency
                line = lines[dependency] = f"{kind}\0{url}\0{name}\0{self.of(dependency)}"
            parts.append(line)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _compute(self, dependency: Dependency) -> str:
        kind, url, name = dependency
        if kind == "template":
            try:
                template = self.env.get_template(url)
            except jinja2.TemplateError:
                return "gone"
            with open(str(template.filename), "rb") as handle:
                return hashlib.sha256(handle.read()).hexdigest()
        tables: dict[str, dict[str, Any]] = {"entry": self.entries, "listing": self.listings,
                                             "term": self.terms}
        owner: Any = self.site if kind == "site" else tables.get(kind, {}).get(url)
        if owner is None:
            return "gone"
        if kind == "entry" and name in _BODY_ATTRIBUTES:
            return owner.doc.source.digest  # type: ignore[no-any-return]
        if kind == "site" and name == "config":
            return "config"   # part of every key's fingerprint already
        try:
            value = getattr(owner, name)
        except AttributeError:
            return "missing"
        # Most values are short strings or other pages: they stand for themselves, unhashed.
        if isinstance(value, str) and len(value) < 120:
            return "s:" + repr(value)   # repr: no newline or NUL can blur the key
        if isinstance(value, (Entry, Listing, Term)):
            return "r:" + value.url
        if value is None or isinstance(value, (bool, int)):
            return "v:" + repr(value)
        return digest(_summary(value))


# Attributes kept apart from the rest of their object, so that a change to them (a new post
# shifts its neighbours' links and its tags' post lists) marks only the pages that read them.
_ATTRIBUTE_GROUPS = {
    "entry": {"previous": "entry.links", "next": "entry.links", "related": "entry.links",
              "conversation": "entry.talk"},
    "term": {"posts": "term.posts"},
}


# An entry's attributes that its front matter and its place decide ("entry"): a new body leaves
# them as they were, so the pages that read only these of it (archives, its neighbours, posts
# that list it as related) are not looked at again for it. Every other attribute of an entry
# (its body, summary, contents, word count, and any attribute not named here) is "entry.text".
_ENTRY_PLACE = frozenset({"title", "url", "slug", "kind", "author", "comments", "date",
                          "updated", "published", "tags", "category", "draft", "image",
                          "fediverse", "meta", "source", "thread"})


def group_of(kind: str, attribute: str) -> str:
    """The object kind an attribute belongs to ("entry", "entry.text", "entry.links",
    "term.posts", ...)."""
    group = _ATTRIBUTE_GROUPS.get(kind, {}).get(attribute)
    if group is not None:
        return group
    if kind == "entry" and attribute not in _ENTRY_PLACE:
        return "entry.text"
    return kind


def _entry_place(entry: Entry) -> tuple[Any, ...]:
    return (entry.doc.meta, entry.doc.source.display_path, entry.kind, entry.url, entry.slug,
            entry.author, entry.comments, entry.date, entry.updated, _urls(entry.tags),
            entry.category.url if entry.category else None)


def _entry_text(entry: Entry) -> tuple[Any, ...]:
    # The whole source (front matter too): an attribute unknown to _ENTRY_PLACE is here.
    return (entry.doc.source.digest, entry.doc.images, entry.url)


def _entry_links(entry: Entry) -> tuple[Any, ...]:
    return (entry.previous.url if entry.previous else None,
            entry.next.url if entry.next else None, _urls(entry.related))


def _entry_talk(entry: Entry) -> Any:
    conversation = entry.conversation
    return None if conversation is None else [conversation.count, conversation.comments, conversation.reply_median]


def listing_digest(listing: Listing) -> str:
    pagination = listing.pagination
    return digest(listing.kind, listing.title, listing.url, _urls(listing.posts),
                  None if pagination is None else [pagination.number, pagination.count,
                                                   list(pagination.urls)],
                  listing.term.url if listing.term else None, listing.year, listing.month)


SITE_ATTRIBUTES = ("posts", "pages", "entries", "tags", "categories", "listings", "archive_years",
                   "updated")


def object_id(kind: str, name: str) -> str:
    """How an object is named in the cache: "entry\t/2024/05/a/", "site\tposts", ..."""
    return f"{kind}\t{name}"


def split_object_id(oid: str) -> tuple[str, str]:
    """The (kind, name) an object id was made from: ("template", "post.html"), ..."""
    kind, _tab, name = oid.partition("\t")
    return kind, name


def template_ids(oids: Iterable[str]) -> dict[str, str]:
    """The object ids among `oids` that name templates, each with its template's name."""
    prefix = object_id("template", "")
    return {oid: oid[len(prefix):] for oid in oids if oid.startswith(prefix)}


def template_id(name: str) -> str:
    """The object id of a template (templates are objects too: pages read them)."""
    return object_id("template", name)


def object_digests(site: Site) -> dict[str, str]:
    """One coarse digest per model object (per attribute group), covering every attribute a
    template can read, so a rebuild finds the few objects that changed before looking at any
    page's inputs."""
    found: dict[str, str] = {}
    for entry in site.entries:
        found.update(entry_objects(entry))
    for listing in site.listings:
        found[object_id("listing", listing.url)] = listing_digest(listing)
    for term in [*site.tags, *site.categories]:
        found[object_id("term", term.url)] = digest(term.kind, term.name, term.slug, term.url)
        found[object_id("term.posts", term.url)] = digest(_urls(term.posts))
    for name in SITE_ATTRIBUTES:
        found[object_id("site", name)] = digest(_summary(getattr(site, name)))
    return found


def entry_objects(entry: Entry) -> dict[str, str]:
    """The digests of one entry's objects (object_digests has them for every entry)."""
    place, text, links, talk = entry_object_ids(entry.url)
    return {place: digest(_entry_place(entry)), text: digest(_entry_text(entry)),
            links: digest(_entry_links(entry)), talk: digest(_entry_talk(entry))}


def entry_object_ids(url: str) -> tuple[str, str, str, str]:
    """The ids of the objects of the entry at `url`: its place (front matter and where it is),
    its text, its links to other entries and its conversation. Together their digests cover
    everything a template can read of it (other entries only by URL)."""
    return (object_id("entry", url), object_id("entry.text", url),
            object_id("entry.links", url), object_id("entry.talk", url))


def touched_objects(inputs: Iterable[Dependency]) -> str:
    """The objects (and templates) a page's inputs belong to, as one newline-joined string."""
    return "\n".join(sorted({object_id(group_of(kind, name), name if kind == "site" else url)
                              for kind, url, name in inputs}))


def split_touched(touched: str) -> list[str]:
    """The object ids a touched_objects() string holds."""
    return touched.split("\n")

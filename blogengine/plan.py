"""Incremental planning: which outputs this build must make again (see stamps.py for whether
the last build stands at all, cache.py and deps.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from blogengine.cache import BuildCache
from blogengine.deps import Digests, object_id, split_touched, template_id, template_ids
from blogengine.model import Entry, Listing, output_path
from blogengine.render import Output
from blogengine.stamps import LastBuild, digest


@dataclass
class Plan:
    """What this build must write: pages to render, other files to make, what stays."""

    render: list[int]                # indexes of the pages to render
    extras: set[str]                 # paths of the other files to make
    extra_keys: dict[str, str]
    whole: bool                      # every output is made (no last build to build upon)
    previous_outputs: set[str]
    old_templates: dict[str, str]    # the templates the last build knew: object id -> name
    # Files left as the last build made them, planned without their outputs (kept_extras);
    # None when one of them is not as it made them: the caller plans them as ever.
    kept_extras: set[str] | None = None


def plan_outputs(pages: list[Entry | Listing], extras: list[Output], cache: BuildCache,
                 objects: dict[str, str], previous: LastBuild | None, digests: Digests,
                 fingerprint: str, candidates: Iterable[str] | None = None,
                 kept_extras: Mapping[str, str] | None = None) -> Plan:
    """Compare with the last build. A page is kept when no object it read has changed; for a
    page that read a changed object, its inputs are compared attribute by attribute.
    `candidates`: the only objects that may differ from the last build's but for templates
    (a build from the kept model: its swapped entries'), when known. `kept_extras`: files
    that this build would key as the last one did (path -> record key), not among `extras`."""
    old_objects: dict[str, str] = previous["objects"] if previous is not None else {}
    old_outputs = cache.outputs() if previous is not None else {}
    old_templates = template_ids(old_objects)
    changed = _changed_objects(objects, old_objects, old_templates, digests, candidates)
    render: list[int] = []
    maybe: dict[str, int] = {}
    for index, page in enumerate(pages):
        rel = output_path(page.url)
        old = old_outputs.get(rel)
        own = object_id("entry" if isinstance(page, Entry) else "listing", page.url)
        if old is None or old[1] is None or own in changed \
                or (isinstance(page, Entry) and object_id("entry.text", page.url) in changed):
            render.append(index)     # new, or its own content changed: no need to look closer
        elif _touches(old[1], changed):
            maybe[rel] = index
    read = cache.inputs(maybe) if maybe else {}
    for rel, index in maybe.items():
        inputs = read.get(rel)
        if inputs is None or digests.key(inputs, fingerprint) != old_outputs[rel][0]:
            render.append(index)
    render.sort()
    extra_keys = {out.path: digest(fingerprint, out.key) for out in extras}
    stale_extras = {path for path, key in extra_keys.items()
                    if old_outputs.get(path, ("", None))[0] != key}
    kept = kept_extras or {}
    unchanged = all(old_outputs.get(path, ("", None))[0] == key for path, key in kept.items())
    return Plan(render=render, extras=stale_extras, extra_keys=extra_keys, whole=previous is None,
                previous_outputs=set(old_outputs), old_templates=old_templates,
                kept_extras=set(kept) if unchanged else None)


def _touches(touched: str, changed: set[str]) -> bool:
    """Whether a page read one of the changed objects. A few changed objects (one edited
    post) are first looked for as substrings: most pages hold none of them, and splitting
    every page's list costs more than the whole render of a one-post rebuild."""
    if len(changed) <= 16 and not any(oid in touched for oid in changed):
        return False
    return not changed.isdisjoint(split_touched(touched))


def _changed_objects(objects: dict[str, str], old_objects: dict[str, str],
                     old_templates: dict[str, str], digests: Digests,
                     candidates: Iterable[str] | None = None) -> set[str]:
    """The objects whose digest differs from the last build's; templates by their file."""
    among = objects.keys() | old_objects.keys() if candidates is None else candidates
    changed = {oid for oid in among
               if oid not in old_templates and objects.get(oid) != old_objects.get(oid)}
    changed |= {oid for oid, name in old_templates.items()
                if digests.template(name) != old_objects[oid]}
    return changed


def objects_to_keep(objects: dict[str, str], templates: dict[str, str]) -> dict[str, str]:
    """The object digests the next build compares with: the model's, and the templates'
    (templates_to_keep; templates are objects too)."""
    return {**objects, **templates}


def templates_to_keep(plan: Plan, used_templates: Iterable[str], digests: Digests
                      ) -> dict[str, str]:
    """The digest of every template the last build knew or a page of this one used."""
    kept = {oid: digests.template(name) for oid, name in plan.old_templates.items()}
    for name in used_templates:
        kept[template_id(name)] = digests.template(name)
    return kept

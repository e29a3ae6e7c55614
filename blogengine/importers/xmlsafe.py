"""Reading export files as XML without entity expansion or external references (defusedxml)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from blogengine.importers.plan import SourceError


def read_xml(path: Path, expected: str) -> ET.Element:
    """Parse `path`; every problem is one SourceError naming the file (and line when known).

    Entity declarations and external references are refused: export files never need them,
    and they are how XML bombs and file disclosure (XXE) work."""
    if not path.exists():
        raise SourceError(f"no such file (expected {expected})", path=path)
    if not path.is_file():
        raise SourceError(f"not a file (expected {expected})", path=path)
    try:
        tree = SafeET.parse(str(path), forbid_dtd=False, forbid_entities=True,
                            forbid_external=True)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        reason = str(exc).split(":", 1)[0]
        raise SourceError(f"not well-formed XML ({reason}); is the file complete? "
                          f"(expected {expected})", path=path, line=line) from None
    except DefusedXmlException as exc:
        raise SourceError(f"refused: the XML declares entities or external references "
                          f"({type(exc).__name__}); {expected} never does", path=path) from None
    except OSError as exc:
        raise SourceError(f"cannot read the file ({exc.strerror})", path=path) from None
    root = tree.getroot()
    if root is None:
        raise SourceError(f"empty XML document (expected {expected})", path=path)
    return root


def local_name(element: ET.Element) -> str:
    """A tag without its namespace: '{http://wordpress.org/export/1.2/}post_id' -> 'post_id'."""
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def namespace(element: ET.Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""

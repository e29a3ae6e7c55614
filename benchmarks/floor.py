"""The Python floor: the least any Python generator must do for the benchmark corpus, on the
same cores. Each post is read, its front matter parsed with PyYAML, its Markdown rendered with
markdown-it-py (CommonMark with tables and strikethrough, as blogengine enables them),
wrapped by a one-page Jinja2 template and written; in one process per CPU. No listings, feeds,
highlighting or cache: the distance between this and a real build is what a real build adds.

    python benchmarks/floor.py /tmp/corpus-1k/site /tmp/floor-out
"""

from __future__ import annotations

import os
import sys
from multiprocessing import Pool
from pathlib import Path

import yaml
from jinja2 import Environment
from markdown_it import MarkdownIt

TEMPLATE = Environment(autoescape=True).from_string(
    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ title }}</title></head>"
    "<body><article><h1>{{ title }}</h1>{{ body | safe }}</article></body></html>")
_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def render(job: tuple[Path, Path]) -> int:
    source, out_dir = job
    text = source.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    html = TEMPLATE.render(title=meta["title"], body=_MD.render(body))
    target = out_dir / source.stem
    target.mkdir(parents=True, exist_ok=True)
    (target / "index.html").write_text(html, encoding="utf-8")
    return 1


def main() -> None:
    site, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    jobs = [(path, out_dir) for path in sorted((site / "content" / "posts").glob("*.md"))]
    with Pool(os.cpu_count()) as pool:
        done = sum(pool.imap_unordered(render, jobs, chunksize=64))
    print(f"{done} posts")


if __name__ == "__main__":
    main()

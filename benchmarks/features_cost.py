"""What search, images and social cards cost: the same site built with the three on (the
default) and off, paired in the same run.

The corpus is benchmarks/corpus.py's (1,000 posts by default, one in ten with a 1600-pixel
photo of its own) in the default configuration (comments on, none stored); the "off" copy adds
`[search]`, `[images]` and `[social_cards]` `enabled = false`. Scenarios, each a whole
`blogengine build` process, on then off, repeated:

- first build: no output and no .blogengine/ cache (what a new checkout without the cache
  costs once: every photo is resized and every card drawn);
- clean build: no output and `--clean` (the build cache ignored), with the content caches a
  previous build left (resized images, cards, search index): what `build --clean` costs;
- one edited post, after a settled build;
- no change.

    python benchmarks/features_cost.py                      # 1,000 posts, 3 pairs
    python benchmarks/features_cost.py --write benchmarks/FEATURES.md
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import BLOGENGINE, Measure, machine, run, settle  # noqa: E402
from corpus import write_corpus  # noqa: E402

OFF = "\n[search]\nenabled = false\n\n[images]\nenabled = false\n\n[social_cards]\nenabled = false\n"


def make_sites(posts: int, images: int, base: Path) -> dict[str, Path]:
    write_corpus(posts, base / "on", images=images)
    site = base / "on" / "site"
    config = site / "blogengine.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[comments]\nenabled = false\n", ""),
                      encoding="utf-8")   # the default configuration: comments on
    off = base / "off"
    shutil.copytree(site, off)
    (off / "blogengine.toml").write_text(config.read_text(encoding="utf-8") + OFF, encoding="utf-8")
    return {"on": site, "off": off}


def remove_output(site: Path, cache: bool) -> None:
    shutil.rmtree(site / "public", ignore_errors=True)
    if cache:
        shutil.rmtree(site / ".blogengine", ignore_errors=True)
    for leftover in site.glob(".public.*"):
        shutil.rmtree(leftover, ignore_errors=True)


def scenarios(site: Path, step: int) -> dict[str, Measure]:
    """One round of every scenario on one site."""
    measured: dict[str, Measure] = {}
    remove_output(site, cache=True)
    measured["first build (no cache)"] = run([*BLOGENGINE, "build"], site)
    remove_output(site, cache=False)
    measured["clean build (--clean, content caches kept)"] = run([*BLOGENGINE, "build", "--clean"], site)
    settle()
    measured["no change"] = run([*BLOGENGINE, "build"], site)
    edited = sorted((site / "content/posts").glob("post-*.md"))[100 + step]
    edited.write_text(edited.read_text(encoding="utf-8") + f"\nOne more sentence ({step}).\n",
                      encoding="utf-8")
    measured["one edited post"] = run([*BLOGENGINE, "build"], site)
    return measured


def report(rounds: list[dict[str, dict[str, Measure]]], posts: int, images: int) -> str:
    lines = [f"Measured on {machine()}; {posts:,} posts, one in {images} with a photo; "
             f"{len(rounds)} rounds, each scenario on then off. Median wall and CPU seconds "
             "(range of wall in brackets).", "",
             "| scenario | on: wall s | on: CPU s | off: wall s | off: CPU s | on / off (wall) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name in rounds[0]["on"]:
        on = [r["on"][name] for r in rounds]
        off = [r["off"][name] for r in rounds]
        on_wall, off_wall = statistics.median(m.wall for m in on), statistics.median(m.wall for m in off)
        lines.append(
            f"| {name} | {on_wall:.2f} ({min(m.wall for m in on):.2f}–{max(m.wall for m in on):.2f}) "
            f"| {statistics.median(m.cpu for m in on):.2f} "
            f"| {off_wall:.2f} ({min(m.wall for m in off):.2f}–{max(m.wall for m in off):.2f}) "
            f"| {statistics.median(m.cpu for m in off):.2f} | {on_wall / off_wall:.2f} × |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--images", type=int, default=10, metavar="N", help="one post in N has a photo")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the corpora")
    parser.add_argument("--write", type=Path, default=None, help="also write the table to this file")
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="blogengine-features-"))
    sites = make_sites(args.posts, args.images, base)
    rounds = [{name: scenarios(site, step) for name, site in sites.items()} for step in range(args.repeat)]
    table = report(rounds, args.posts, args.images)
    print(table)
    if args.write:
        args.write.write_text("# What search, images and social cards cost\n\nWritten by "
                              f"`python benchmarks/features_cost.py --write {args.write}`.\n\n{table}",
                              encoding="utf-8")


if __name__ == "__main__":
    main()

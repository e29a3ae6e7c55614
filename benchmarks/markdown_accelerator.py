"""The Markdown accelerator's gain: clean builds of the same corpus with and without it
(`markdown_accelerator = true|false` in blogengine.toml), taken in pairs in the same run, as whole
processes; wall time and CPU seconds (the build and its workers), medians and ranges.

    python benchmarks/markdown_accelerator.py                    # 1,000 rich posts, 3 pairs
    python benchmarks/markdown_accelerator.py --posts 1000 --repeat 5 --style plain
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus  # noqa: E402


def clean_build(site: Path, accelerator: bool) -> tuple[float, float, str]:
    """One clean build: wall seconds, CPU seconds of the build and its workers, its last line."""
    config = site / "blogengine.toml"
    lines = [line for line in config.read_text().splitlines()
             if not line.startswith("markdown_accelerator")]
    # A top-level key: before the first [table].
    config.write_text(f"markdown_accelerator = {'true' if accelerator else 'false'}\n"
                      + "\n".join(lines) + "\n")
    for leftover in ("public", ".blogengine"):
        shutil.rmtree(site / leftover, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "blogengine", "build", "--source", str(site)],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout.strip().splitlines()[-1]


def parse_stage(site: Path, accelerator: bool) -> float:
    """CPU seconds of parse_document over every post, in this process (the stage it speeds up,
    without the rest of the build's noise)."""
    from pathlib import PurePosixPath
    from zoneinfo import ZoneInfo

    from blogengine.fastmd import Accelerator
    from blogengine.load import SourceFile
    from blogengine.markup import make_markdown
    from blogengine.parse import parse_document

    sources = [SourceFile(path, PurePosixPath("posts") / path.name, path.read_text(), "")
               for path in sorted((site / "content" / "posts").glob("*.md"))]
    md, tz = make_markdown(), ZoneInfo("UTC")
    fast = Accelerator() if accelerator else None
    started = time.process_time()
    for source in sources:
        parse_document(source, md, tz, fast)
    return time.process_time() - started


def describe(label: str, values: list[float]) -> str:
    return f"{label} median {statistics.median(values):.2f} s (range {min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="pairs of clean builds")
    parser.add_argument("--style", choices=("rich", "plain"), default="rich")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-accelerator-") as tmp:
        write_corpus(args.posts, Path(tmp), style=args.style)
        site = Path(tmp) / "site"
        results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        stage: dict[bool, list[float]] = {True: [], False: []}
        for n in range(args.repeat):
            # Alternate which goes first, so neither always runs on a warmer machine.
            for accelerator in ((True, False) if n % 2 == 0 else (False, True)):
                wall, cpu, line = clean_build(site, accelerator)
                results[accelerator].append((wall, cpu))
                stage[accelerator].append(parse_stage(site, accelerator))
                print(f"pair {n + 1}, accelerator {'on ' if accelerator else 'off'}: "
                      f"{wall:.2f} s wall, {cpu:.2f} s CPU  | {line}", flush=True)
    print(f"\n{args.posts} {args.style} posts, clean build, default configuration, "
          f"{args.repeat} pairs:")
    for accelerator in (False, True):
        walls = [wall for wall, _cpu in results[accelerator]]
        cpus = [cpu for _wall, cpu in results[accelerator]]
        print(f"  accelerator {'on ' if accelerator else 'off'}: {describe('wall', walls)}; "
              f"{describe('CPU', cpus)}")
    off = statistics.median(cpu for _w, cpu in results[False])
    on = statistics.median(cpu for _w, cpu in results[True])
    print(f"  CPU saved: {100 * (off - on) / off:.0f} %")
    print(f"  parse stage alone (in process, {args.repeat} pairs): "
          + "; ".join(f"accelerator {'on' if on_ else 'off'} median "
                      f"{statistics.median(stage[on_]):.2f} s CPU" for on_ in (False, True)))


if __name__ == "__main__":
    main()

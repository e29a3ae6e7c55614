"""Build benchmark: blogengine against Hugo and the Python floor on the same synthetic corpus,
in the same run.

For each corpus style (default: the inline-rich one, then plain prose; corpus.py) and size
(default 1,000 and 10,000 posts) it measures, as whole processes, the wall time, CPU time and
peak memory of: a clean build (no output, no .blogengine/), a rebuild with nothing changed, one
edited post, one new post and a template change; Hugo's clean build (Hugo has no cache, so its
rebuild costs the same); and the Python floor (floor.py: markdown-it-py, PyYAML, Jinja2 and a
write per post, nothing else). Clean builds are taken in triples (blogengine, Hugo, floor) and
repeated; ratios are of the medians. blogengine runs in the default configuration unless told.

    python benchmarks/build.py                  # both styles, 1,000 and 10,000 posts, printed
    python benchmarks/build.py --sizes 1000 --write benchmarks/RESULTS.md
    python benchmarks/build.py --runs rich:1000:3 rich:10000:1 plain:1000:3 --write benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus  # noqa: E402

BLOGENGINE = [sys.executable, "-m", "blogengine"]
FLOOR = [sys.executable, str(Path(__file__).resolve().parent / "floor.py")]
ACCELERATED = False   # --accelerator: blogengine may use markdown-it-pyrs
EDITS = 5   # one edited post is timed this many times (a different post each): its median


@dataclass
class Measure:
    wall: float
    cpu: float
    peak_mib: float      # the largest total memory of the process and its workers (PSS: pages
                         # shared after fork are counted once, split between the sharers)
    spread: str = ""     # of a median: the range of the wall times it is the median of


def byte_compile() -> None:
    """Byte-compile the blogengine that the builds will import, as `pip install` does when it
    installs the package. An editable install run with PYTHONDONTWRITEBYTECODE set (as on
    some CI machines) would otherwise compile its modules in every process (about 0.07 s),
    which no user's install does."""
    found = subprocess.run(BLOGENGINE[:1] + ["-c", "import blogengine, comments_server\n"
                                             "print(blogengine.__file__)\n"
                                             "print(comments_server.__file__)"],
                           capture_output=True, text=True, check=True)
    for init in found.stdout.split():
        compileall.compile_dir(Path(init).parent, quiet=1)


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree_memory(root_pid: int) -> int:
    """Proportional set size of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += _pss(pid)
        stack.extend(children.get(pid, []))
    return total


def run(command: list[str], cwd: Path, *, memory: bool = False) -> Measure:
    """Run a command to completion: wall time and CPU of it and its children, and with
    `memory` its peak memory (sampled from /proc, which costs CPU: timed runs do without)."""
    before = os.times()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while memory and not done.is_set():
            peak = max(peak, _tree_memory(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = os.times()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode(errors='replace')}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return Measure(wall=wall, cpu=cpu, peak_mib=peak / 2**20)


def clean(site: Path) -> None:
    for name in ("public", ".blogengine"):
        shutil.rmtree(site / name, ignore_errors=True)
    for leftover in site.glob(".public.*"):
        shutil.rmtree(leftover, ignore_errors=True)


def settle() -> None:
    # Files written less than two seconds before a build are re-checked by content ("racy"
    # stamps); wait so that a no-change rebuild measures the usual case.
    time.sleep(2.2)


def with_memory(timed: Measure, sampled: Measure) -> Measure:
    return Measure(wall=timed.wall, cpu=timed.cpu, peak_mib=sampled.peak_mib, spread=timed.spread)


def median_of(timed: list[Measure]) -> Measure:
    """The median (and range) of runs, with the peak memory of those sampled."""
    walls = [m.wall for m in timed]
    return Measure(wall=statistics.median(walls), cpu=statistics.median(m.cpu for m in timed),
                   peak_mib=max(m.peak_mib for m in timed), spread=f" ({min(walls):.2f}–{max(walls):.2f})" if len(walls) > 1 else "")


def bench_size(posts: int, root: Path, repeat: int, extra: list[str], images: int = 0,
               images_off: bool = False, style: str = "rich",
               comments_off: bool = False, accelerator: bool = False) -> dict[str, object]:
    write_corpus(posts, root, images=images, images_off=images_off, style=style,
                 comments_off=comments_off)
    if not accelerator:   # as `pip install blogengine` runs, without blogengine[fast]
        config = root / "site" / "blogengine.toml"
        config.write_text("markdown_accelerator = false\n" + config.read_text())
    site, hugo_site = root / "site", root / "hugo"
    hugo = shutil.which("hugo")
    ours: list[Measure] = []
    kept: list[Measure] = []
    theirs: list[Measure] = []
    floor: list[Measure] = []
    # In turn, so the machine's state is the same for all; the last also samples memory.
    for n in range(repeat + 1):
        clean(site)
        ours.append(run([*BLOGENGINE, "build", *extra], site, memory=n == repeat))
        # Every page again, with what is keyed on content kept in .blogengine/ (documents,
        # cards, the search index): what `build --clean` does on an author's machine.
        shutil.rmtree(site / "public")
        kept.append(run([*BLOGENGINE, "build", "--clean", *extra], site, memory=n == repeat))
        if hugo:
            shutil.rmtree(hugo_site / "public", ignore_errors=True)
            theirs.append(run([hugo, "--quiet"], hugo_site, memory=n == repeat))
        shutil.rmtree(root / "floor", ignore_errors=True)
        floor.append(run([*FLOOR, str(site), str(root / "floor")], root, memory=n == repeat))
    results: dict[str, object] = {"posts": posts, "style": style, "clean": ours, "kept": kept,
                                  "hugo": theirs, "floor": floor}
    build = [*BLOGENGINE, "build", *extra]
    meta = Path(__file__).resolve().parent.parent / "themes/default/templates/partials/post_meta.html"
    override = site / "templates/partials"
    override.mkdir(parents=True, exist_ok=True)

    # Each change is made twice: once timed, once with memory sampled.
    def changes(step: int) -> dict[str, object]:
        measured: dict[str, object] = {}
        settle()
        measured["no change"] = run(build, site, memory=step == 1)
        edits = []
        for n in range(EDITS if step == 0 else 1):   # a different post each time
            edited = site / "content/posts" / f"post-{posts // 2 + step * EDITS + n:05d}.md"
            edited.write_text(edited.read_text() + "\nOne more sentence, added for the benchmark.\n")
            edits.append(run(build, site, memory=step == 1))
        measured["one edited post"] = median_of(edits)
        (site / f"content/posts/zz-benchmark-new-{step}.md").write_text(
            f'---\ntitle: "A new post {step}"\ndate: 2025-12-31 12:0{step}\n'
            "tags: [topic-01, topic-02]\n---\n\nA new post, written for the benchmark.\n")
        measured["one new post"] = run(build, site, memory=step == 1)
        (override / "post_meta.html").write_text(meta.read_text().replace("min read", f"minutes {step}"))
        measured["template change"] = run(build, site, memory=step == 1)
        return measured

    timed, sampled = changes(0), changes(1)
    for name, measure in timed.items():
        assert isinstance(measure, Measure)
        other = sampled[name]
        assert isinstance(other, Measure)
        results[name] = with_memory(measure, other)
    return results


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    hugo = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.split()[:2] \
        if shutil.which("hugo") else ["no hugo"]
    return (f"{os.cpu_count()} × {model}, {memory:.0f} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, {' '.join(hugo)}")


def median(measures: list[Measure]) -> Measure:
    """The median of the timed runs; the memory of the one sampled run (the last)."""
    timed = measures[:-1] or measures
    walls = [m.wall for m in timed]
    return Measure(wall=statistics.median(walls), cpu=statistics.median(m.cpu for m in timed),
                   peak_mib=measures[-1].peak_mib,
                   spread=f" ({min(walls):.2f}–{max(walls):.2f})" if len(walls) > 1 else "")


def report(all_results: list[dict[str, object]]) -> str:
    lines = [f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}.", "",
             "Corpora (corpus.py): *rich*, posts written like technical posts (about 700 words; "
             "links, code, bold and emphasis in most paragraphs, lists, half with a code block); "
             "*plain*, about 1,000 words of mostly plain prose. blogengine in the default "
             "configuration unless a row says otherwise"
             + (", with the Markdown accelerator (blogengine[fast])" if ACCELERATED else
                ", without the optional Markdown accelerator (as `pip install blogengine`)")
             + ". The Python floor (floor.py) only parses "
             "front matter, renders Markdown, fills a one-page template and writes each post.", "",
             "A first build starts with no output and no .blogengine/; `--clean` renders and "
             "writes every page again but reuses what is keyed on content alone (parsed "
             "documents, social cards, the search index, the link check's findings on pages "
             "written again alike), as `build --clean` does on an "
             "author's machine. Clean builds: the median (range in brackets) of runs taken in "
             "turn (blogengine first, blogengine --clean, Hugo, the floor, on the same corpus); "
             "the changes: one timed run each, but one edited post: the median (range) of "
             f"{EDITS}, a different post each. Peak memory (PSS of the process and its workers) "
             "comes from one more run of each, sampled: sampling costs CPU, so timed runs go "
             "without. Every build is a whole `blogengine build` process, startup included, "
             "with blogengine's modules byte-compiled as `pip install` leaves them.", "",
             "| corpus | posts | scenario | wall s | CPU s | peak MiB | vs Hugo (wall) |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for result in all_results:
        posts, style = result["posts"], result["style"]
        ours = median(result["clean"])  # type: ignore[arg-type]
        theirs = median(result["hugo"]) if result["hugo"] else None  # type: ignore[arg-type]
        floor = median(result["floor"])  # type: ignore[arg-type]
        kept = median(result["kept"])  # type: ignore[arg-type]
        ratio = f"{ours.wall / theirs.wall:.2f} ×" if theirs else "n/a"
        rows = [("blogengine first build (nothing cached)", ours, ratio),
                ("blogengine `--clean` (content caches kept)", kept,
                 f"{kept.wall / theirs.wall:.2f} ×" if theirs else "n/a")]
        if theirs:
            rows.append(("Hugo clean build (also its rebuild)", theirs, "1.00 ×"))
        rows.append(("Python floor (markdown-it-py + PyYAML + Jinja2 + write)", floor,
                     f"{floor.wall / theirs.wall:.2f} ×" if theirs else "n/a"))
        for name in ("no change", "one edited post", "one new post", "template change"):
            m = result[name]
            assert isinstance(m, Measure)
            rows.append((f"blogengine {name}", m, f"{m.wall / theirs.wall:.2f} ×" if theirs else "n/a"))
        for name, m, versus in rows:
            lines.append(f"| {style} | {posts:,} | {name} | {m.wall:.2f}{m.spread} | {m.cpu:.2f} "
                         f"| {m.peak_mib:.0f} "
                         f"| {versus} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3, help="paired clean builds per size")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the corpora")
    parser.add_argument("--write", type=Path, default=None, help="also write the table to this file")
    parser.add_argument("--build-args", default="",
                        help='more options for every build, e.g. "--no-check" (the link check)')
    parser.add_argument("--images", type=int, default=0, metavar="N",
                        help="one post in N shows a photo of its own (corpus.py --images)")
    parser.add_argument("--images-off", action="store_true",
                        help="and build with [images] enabled = false")
    parser.add_argument("--styles", nargs="+", choices=("rich", "plain"), default=["rich", "plain"],
                        help="corpus styles, in this order (corpus.py)")
    parser.add_argument("--comments-off", action="store_true",
                        help="build with [comments] enabled = false (not the default)")
    parser.add_argument("--accelerator", action="store_true",
                        help="let blogengine use markdown-it-pyrs when installed (blogengine[fast]); "
                             "default: markdown-it-py alone, as the default install")
    parser.add_argument("--runs", nargs="+", default=None, metavar="STYLE:POSTS:REPEAT",
                        help="instead of --styles/--sizes/--repeat: each corpus and its repeats, "
                             "e.g. rich:1000:3 rich:10000:1 plain:1000:3")
    args = parser.parse_args()
    global ACCELERATED
    ACCELERATED = args.accelerator
    byte_compile()
    base = args.dir or Path(tempfile.mkdtemp(prefix="blogengine-bench-"))
    extra = args.build_args.split()
    runs = [(style, size, args.repeat) for style in args.styles for size in args.sizes]
    if args.runs:
        runs = [(style, int(size), int(repeat))
                for style, size, repeat in (run.split(":") for run in args.runs)]
    results = [bench_size(size, base / f"corpus-{style}-{size}", repeat, extra, args.images,
                          args.images_off, style, args.comments_off, args.accelerator)
               for style, size, repeat in runs]
    table = report(results)
    print(table)
    if args.write:
        args.write.write_text("# Build benchmark results\n\nWritten by `python benchmarks/build.py "
                              f"--write {args.write}`.\n\n{table}", encoding="utf-8")


if __name__ == "__main__":
    main()

"""What the worst comment bodies cost to render: Markdown (markdown-it-py) then the allow-list
sanitiser (on the Markdown's tokens, or bleach for what the token pass may not judge), exactly as
`POST /api/comments` and `POST /api/preview` run them (comments_server.sanitize.render_comment),
for inputs built to make parsers backtrack: `*a` repeated, `[` repeated, nested emphasis, long and
many autolinks, and their relatives.

Each input is measured at the preview cap (MAX_PREVIEW_LENGTH, 5,000 characters) and at the body
cap (MAX_BODY_LENGTH, 10,000), plus at 2,500 to show how cost grows. The stated bound: every input
renders in under BOUND_SECONDS at 10,000 characters, and doubling the length at most triples the
time (no quadratic blow-up). Exits 1 if a bound is broken.

    python benchmarks/markdown_pathological.py --repeat 5 [--write benchmarks/MARKDOWN.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from comments_server.sanitize import _MD, render_comment, render_from_tokens  # noqa: E402

BOUND_SECONDS = 0.5          # one 10,000-character body, Markdown and sanitiser together
GROWTH_BOUND = 3.0           # time(10,000) / time(5,000)
LENGTHS = (2500, 5000, 10000)


def _fill(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _nested(open_: str, close: str) -> Callable[[int], str]:
    def make(n: int) -> str:
        depth = max((n - 1) // (len(open_) + len(close)), 0)
        return open_ * depth + "x" + close * depth
    return make


CASES: dict[str, Callable[[int], str]] = {
    "`*a` repeated": _fill("*a"),
    "`_a` repeated": _fill("_a"),
    "`[` repeated": _fill("["),
    "`[a](` repeated (unclosed links)": _fill("[a](http://x"),
    "`![` repeated": _fill("!["),
    "nested emphasis `*_…x…_*`": _nested("*_", "_*"),
    "nested strong `**…x…**`": _nested("**", "**"),
    "alternating `*a**`": _fill("*a**"),
    "one long autolink": lambda n: "https://" + "a" * max(n - 12, 0) + ".com",
    "many autolinks": _fill("http://a.b/ "),
    "many `www.` links": _fill("www.a.bc "),
    "`<` repeated": _fill("<"),
    "`&#` repeated": _fill("&#"),
    "backticks `` ` `` repeated": _fill("`"),
    "`> ` nested quotes": _fill("> "),
    "nested lists": lambda n: "".join("  " * (i % 40) + "- a\n" for i in range(n // 50))[:n],
    "plain prose (baseline)": _fill("The quick brown fox jumps over the lazy dog. "),
}


def cpu_seconds(fn: Callable[[], object], repeat: int) -> float:
    """The least CPU time of `repeat` calls (CPU, not wall, and the least, as timeit does: what
    the work costs, without the noise of a busy machine)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def measure(repeat: int) -> list[dict[str, object]]:
    rows = []
    for name, make in CASES.items():
        row: dict[str, object] = {"case": name}
        for length in LENGTHS:
            text = make(length)
            row[length] = cpu_seconds(lambda text=text: render_comment(text), repeat)
        text = make(LENGTHS[-1])
        row["markdown"] = cpu_seconds(lambda text=text: _MD.render(text), repeat)
        row["path"] = "tokens" if render_from_tokens(text) is not None else "bleach"
        rows.append(row)
    return rows


def report(rows: list[dict[str, object]], repeat: int) -> tuple[str, list[str]]:
    lines = [
        "# Markdown rendering of pathological comment bodies",
        "",
        "Written by `python benchmarks/markdown_pathological.py --write benchmarks/MARKDOWN.md`.",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}: CPU seconds, the "
        f"least of {repeat} runs of `render_comment` (markdown-it-py, then the allow-list on its tokens, "
        "or bleach where the token pass may not judge: the last column), one process.",
        "",
        f"Bound: every body renders in under **{BOUND_SECONDS} s** at the 10,000-character body cap "
        f"(MAX_BODY_LENGTH), and doubling a body's length at most **{GROWTH_BOUND:g}×** its time. A preview "
        "(MAX_PREVIEW_LENGTH, 5,000) costs the 5,000 column; at PREVIEW_RATE_LIMIT (30/minute) one "
        "address can spend at most 30 such renders a minute.",
        "",
        "| input | 2,500 chars s | 5,000 chars s | 10,000 chars s | of which Markdown s | growth 5k→10k | sanitised by |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    broken = []
    for row in rows:
        t = {n: float(row[n]) for n in LENGTHS}  # type: ignore[arg-type]
        growth = t[10000] / t[5000] if t[5000] > 0.002 else None
        lines.append(f"| {row['case']} | {t[2500]:.3f} | {t[5000]:.3f} | {t[10000]:.3f} | "
                     f"{float(row['markdown']):.3f} | "  # type: ignore[arg-type]
                     + (f"{growth:.2f}× |" if growth is not None else "(too fast to tell) |")
                     + f" {row['path']} |")
        if t[10000] >= BOUND_SECONDS:
            broken.append(f"{row['case']}: {t[10000]:.3f} s at 10,000 characters (bound {BOUND_SECONDS} s)")
        if growth is not None and growth > GROWTH_BOUND:
            broken.append(f"{row['case']}: {growth:.2f}× from 5,000 to 10,000 characters (bound {GROWTH_BOUND}×)")
    worst = max(rows, key=lambda r: float(r[10000]))  # type: ignore[arg-type]
    lines += ["", f"Slowest at 10,000 characters: {worst['case']}, {float(worst[10000]):.3f} s "  # type: ignore[arg-type]
              f"({float(worst[10000]) / BOUND_SECONDS:.0%} of the bound). "  # type: ignore[arg-type]
              + ("Every input is within the bound." if not broken else "Bound broken: " + "; ".join(broken)), ""]
    return "\n".join(lines), broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (the median is kept)")
    parser.add_argument("--write", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args()
    text, broken = report(measure(args.repeat), args.repeat)
    print(text)
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

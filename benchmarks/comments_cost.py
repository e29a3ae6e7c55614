"""What comments on (the default) cost a build that has no comments yet: the same corpus built
clean with the default configuration and with `[comments] enabled = false`, each build a fresh
`blogengine build` process (start-up and imports included), interleaved so both see the same
machine.

    python benchmarks/comments_cost.py --posts 1000 --repeat 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus  # noqa: E402

IMPORTS = ("import sys, json\nfrom blogengine.cli import main\n"
           "try:\n    main(['build', '--source', sys.argv[1], '--clean'])\n"
           "except SystemExit:\n    pass\n"
           "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
           "('flask', 'flask_limiter', 'flask_wtf', 'sqlalchemy', 'alembic', 'comments_server'))))")


def site_with(root: Path, posts: int, comments: bool) -> Path:
    write_corpus(posts, root)
    site = root / "site"
    config = site / "blogengine.toml"
    text = config.read_text(encoding="utf-8")
    if comments:   # the default: no [comments] table at all
        text = text.replace("[comments]\nenabled = false\n", "")
    config.write_text(text, encoding="utf-8")
    return site


def clean_build(site: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "blogengine", "build", "--source", str(site), "--clean"],
                   check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="comments-cost-"))
    try:
        sites = {"comments on (default)": site_with(work / "on", args.posts, True),
                 "comments off": site_with(work / "off", args.posts, False)}
        times: dict[str, list[float]] = {name: [] for name in sites}
        for _ in range(args.repeat):
            for name, site in sites.items():
                times[name].append(clean_build(site))
        print(f"{args.posts} posts, clean build, {args.repeat} runs each (seconds):")
        for name, runs in times.items():
            print(f"  {name:22} median {statistics.median(runs):6.2f}  "
                  f"min {min(runs):6.2f}  max {max(runs):6.2f}")
        loaded = subprocess.run([sys.executable, "-c", IMPORTS, str(sites["comments on (default)"])],
                                check=True, capture_output=True, text=True).stdout.splitlines()[-1]
        print(f"  comment-server modules a default build loads: {loaded}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

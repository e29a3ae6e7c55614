"""The output folder listed beside the build (prescan.py): the listing a forked process makes
while the build parses and plans, corrected by what the build wrote, is the folder as it is
after the writing; an edit's search index and link check use it instead of walking again."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import blogengine.check
import blogengine.search
from blogengine.prescan import OutputScan, list_output
from blogengine.write import output_files
from tests.blogengine.test_search import indexed_pages
from tests.support import REPO
from tests.support.site import post


def a_folder(root: Path) -> Path:
    out = root / "public"
    for rel in ("index.html", "a/index.html", "b/page.htm", "theme/style.css", "c/d/e.txt"):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(f"<p>{rel}</p>", encoding="utf-8")
    return out


def test_list_output_holds_every_file_and_each_pages_stat(tmp_path):
    out = a_folder(tmp_path)
    listing = list_output(out)
    assert listing.files == output_files(out)
    assert set(listing.pages) == {"index.html", "a/index.html", "b/page.htm"}
    stat = (out / "a/index.html").stat()
    assert listing.pages["a/index.html"] == (stat.st_mtime_ns, stat.st_size)


def test_a_scan_takes_in_the_files_changed_after_it_started(tmp_path):
    out = a_folder(tmp_path)
    scan = OutputScan(out)
    (out / "new").mkdir()
    (out / "new/index.html").write_text("<p>a new page</p>", encoding="utf-8")
    (out / "a/index.html").write_text("<p>a longer page than it was</p>", encoding="utf-8")
    (out / "b/page.htm").unlink()
    (out / "c/d/e.txt").unlink()
    listing = scan.listing(["new/index.html", "a/index.html", "b/page.htm", "c/d/e.txt"])
    assert listing == list_output(out)


def test_a_scan_of_a_missing_folder_gives_nothing(tmp_path):
    assert OutputScan(tmp_path / "nowhere").listing([]) is None


def test_closing_a_scan_leaves_no_process(tmp_path):
    scan = OutputScan(a_folder(tmp_path))
    scan.close()
    assert not scan._process.is_alive() and scan._process.exitcode is not None



def ended(pid: int) -> bool:
    """Whether the process is gone, or a zombie left for its new parent to reap."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return True


KILLED_WHILE_SCANNING = """
import os, signal, sys, time
from pathlib import Path
from blogengine.prescan import OutputScan
scan = OutputScan(Path(sys.argv[1]))
print(scan._process.pid, flush=True)
time.sleep(1)   # the scan is sending a listing bigger than the pipe's buffer, no one reading
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_scan_ends_when_the_build_that_started_it_is_killed(tmp_path):
    out = tmp_path / "public"
    for n in range(3000):   # a listing of about 200 KB, where a pipe holds 64 KB
        page = out / f"posts/a-post-with-a-long-enough-name-{n:05d}/index.html"
        page.parent.mkdir(parents=True)
        page.write_text("<p>x</p>", encoding="utf-8")
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_SCANNING, str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert killed.returncode == -9, killed.stderr
    scanner = int(killed.stdout.split()[0])
    deadline = time.monotonic() + 10
    while not ended(scanner) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ended(scanner), "the scan outlived the build that started it"


POSTS = {
    "content/posts/one.md": post("One", "2024-03-01", "See [two](/2024/03/two/)."),
    "content/posts/two.md": post("Two", "2024-03-02", "The second post."),
    "content/posts/three.md": post("Three", "2024-03-03", "The third post."),
    # Enough others that the edit patches the output folder (a fresh one is listed afresh).
    **{f"content/posts/old-{n}.md": post(f"Old {n}", f"2023-01-{n + 1:02d}", "An older post.")
       for n in range(28)},
}


def test_an_edit_is_indexed_and_checked_from_the_prescan_without_a_walk(make_site, build_at,
                                                                          monkeypatch):
    root = make_site(POSTS)
    first = build_at(root)
    assert first.problems == []
    # After this, only the forked prescan may walk the output folder.
    def no_walk(out_dir: Path) -> set[str]:
        raise AssertionError(f"{out_dir} walked after the writing")
    monkeypatch.setattr(blogengine.search, "output_files", no_walk)
    monkeypatch.setattr(blogengine.check, "output_files", no_walk)
    (root / "content/posts/two.md").unlink()
    (root / "content/posts/three.md").write_text(
        post("Three", "2024-03-03", "The third post, on searchable quokkas."), encoding="utf-8")
    report = build_at(root)
    # The page gone is known gone: the link to it is reported.
    assert [(p.path, p.line) for p in report.problems] == [("content/posts/one.md", 6)]
    # And the index holds the edited page's new words, and no longer the page gone.
    indexed = indexed_pages(root / "public")
    assert "/2024/03/two/" not in indexed
    assert "quokkas" in indexed["/2024/03/three/"]

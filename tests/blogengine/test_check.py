"""The link check (`blogengine check`, and the build's warnings): built pages read back, every
local link that leads nowhere reported at the line that wrote it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from blogengine.cli import main
from tests.blogengine.test_cache import age
from tests.support.site import post
from tests.support.spies import calls_to

# A valid 1x1 PNG (Pillow reads it: the build warns about images it cannot read).
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")
REPO = Path(__file__).resolve().parents[2]

BROKEN = post("Broken things", "2024-05-01", body="""
    A typo: ![a cup](/images/cupp.png) here.

    A relative image
    on a second line ![a plan](images/a.png).

    A [dead link](/2024/05/nowhere/) and [a bad anchor](#sectoin) and [fine](#section).

    ## Section

    <a href="/files/missing.pdf">raw html</a>

    [to the other post](/2024/04/fine/#no-such-heading) and [outside](https://example.com/x).
    """)
FINE = post("Fine", "2024-04-01", body="""
    ![a cup](/images/cup.png) and ![a plan](../../../images/a.png)
    <img src="/images/cup.png" srcset="/images/cup.png 1x, /images/a.png 2x" alt="both">

    [home](/) [about](/about/) [about without slash](/about) [tags](/tags/)
    [a heading here](#a-heading) [itself](/2024/04/fine/#a-heading)
    [feed](/atom.xml) [mail](mailto:ann@example.com) [top](#top) [file](/files/notes.txt)

    ## A heading
    """)


def site_files(**extra: str | bytes) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        "content/posts/broken.md": BROKEN,
        "content/posts/fine.md": FINE,
        "content/pages/about.md": "---\ntitle: About\n---\n\nAbout me.\n",
        "content/images/a.png": PNG,
        "content/images/cup.png": PNG,
        "content/files/notes.txt": "plain\n",
    }
    files.update(extra)
    return files


def messages(report) -> list[str]:
    return [str(problem) for problem in report.problems]


def find(report, needle: str) -> str:
    found = [m for m in messages(report) if needle in m]
    assert len(found) == 1, messages(report)
    return found[0]


def test_check_reports_missing_image_at_its_source_line_with_the_likely_file(make_site, build_at):
    report = build_at(make_site(site_files()))
    assert find(report, "cupp.png") == (
        'content/posts/broken.md:6: image "a cup" -> /images/cupp.png: the built site has no '
        "such file (did you mean /images/cup.png, from content/images/cup.png?) (on 2 pages)")


def test_check_reports_where_a_relative_image_resolved_and_the_file_meant(make_site, build_at):
    report = build_at(make_site(site_files()))
    assert find(report, "images/a.png") == (
        'content/posts/broken.md:9: image "a plan" -> images/a.png: resolves to '
        "/2024/05/broken-things/images/a.png, which the built site does not have "
        "(did you mean /images/a.png, from content/images/a.png?)")


def test_check_reports_dead_pages_and_anchors(make_site, build_at):
    report = build_at(make_site(site_files()))
    assert find(report, "nowhere") == ('content/posts/broken.md:11: link "dead link" -> '
                                       "/2024/05/nowhere/: the built site has no such page")
    assert find(report, "#sectoin") == (
        'content/posts/broken.md:11: link "a bad anchor" -> #sectoin: no element with id '
        '"sectoin" on this page (did you mean #section?)')
    assert find(report, "no-such-heading") == (
        'content/posts/broken.md:17: link "to the other post" -> /2024/04/fine/#no-such-heading: '
        'no element with id "no-such-heading" on /2024/04/fine/ (did you mean #a-heading?)')
    assert find(report, "missing.pdf") == ('content/posts/broken.md:15: link "raw html" -> '
                                           "/files/missing.pdf: the built site has no such file")


def test_check_finds_nothing_wrong_with_good_links(make_site, build_at):
    root = make_site(site_files())
    (root / "content/posts/broken.md").unlink()
    report = build_at(root)
    assert report.problems == []
    assert [link.url for link in report.external] == []


def test_check_collects_outside_links_without_reporting_them(make_site, build_at):
    root = make_site(site_files())
    report = build_at(root, external_links=True)
    assert [link.url for link in report.external] == ["https://example.com/x"]
    assert not any("example.com" in m for m in messages(report))


def test_a_build_lists_outside_links_only_when_asked(make_site, build_at):
    """A plain build has no use for them (a big site has tens of thousands): only
    `blogengine check` asks."""
    root = make_site(site_files())
    assert build_at(root).external == []
    age(root)
    again = build_at(root, external_links=True)        # nothing changed, and still listed
    assert [link.url for link in again.external] == ["https://example.com/x"]


def test_an_up_to_date_check_still_counts_the_outside_links(make_site):
    """A build after nothing changed does not load the outside links (costly on a big site);
    `blogengine check` asks for them."""
    from click.testing import CliRunner

    from blogengine.cli import main
    from tests.blogengine.test_cache import age

    root = make_site({"content/posts/out.md": post("Out", "2024-04-02",
                                                   "See [elsewhere](https://example.com/x).\n")})
    runner = CliRunner()
    assert runner.invoke(main, ["build", "--source", str(root)]).exit_code == 0
    age(root)
    assert runner.invoke(main, ["build", "--source", str(root)]).exit_code == 0
    result = runner.invoke(main, ["check", "--source", str(root)])
    assert result.exit_code == 0, result.output
    assert "1 outside link(s) not checked (--external)" in result.output


def test_check_reports_a_broken_srcset_candidate(make_site, build_at):
    root = make_site(site_files())
    (root / "content/posts/broken.md").unlink()
    (root / "content/pages/about.md").write_text(
        '---\ntitle: About\n---\n\n<img src="/images/a.png" srcset="/images/a@2x.png 2x" alt="me">\n')
    report = build_at(root)
    assert messages(report) == [
        'content/pages/about.md:5: image "me" -> /images/a@2x.png: the built site has no such '
        "file (did you mean /images/a.png, from content/images/a.png?)"]


def test_check_reports_a_theme_link_once_at_its_template_line(make_site, build_at):
    root = make_site(site_files())
    (root / "content/posts/broken.md").unlink()
    theme = (REPO / "themes/default/templates/base.html").read_text(encoding="utf-8")
    lines = theme.splitlines()
    at = next(i for i, line in enumerate(lines) if "</footer>" in line)
    lines.insert(at, '<a href="/colophon/">Colophon</a>')
    (root / "templates").mkdir()
    (root / "templates/base.html").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = build_at(root)
    assert len(report.problems) == 1, messages(report)
    problem = report.problems[0]
    assert (problem.path, problem.line) == ("templates/base.html", at + 1)
    assert problem.message.startswith('link "Colophon" -> /colophon/: the built site has no such page')
    assert problem.message.endswith(f"(on {report.pages_written} pages)")


def test_check_keeps_reporting_a_problem_until_its_cause_is_gone(make_site, build_at):
    root = make_site(site_files())
    first = build_at(root)
    assert len(first.problems) == 6
    age(root)
    build_at(root)                            # stamps are trusted from here on
    again = build_at(root)                    # nothing changed: the findings still hold
    assert again.up_to_date and messages(again) == messages(first)
    (root / "content/pages/about.md").write_text("---\ntitle: About\n---\n\nAbout us.\n")
    other = build_at(root)                    # an unrelated page rebuilt: still reported
    assert not other.up_to_date and messages(other) == messages(first)
    (root / "content/posts/broken.md").unlink()
    fixed = build_at(root)
    assert fixed.problems == []
    (root / "content/images/cup.png").unlink()  # a file goes: the pages linking it are told
    gone = build_at(root)
    assert [p.path for p in gone.problems] == ["content/posts/fine.md", "content/posts/fine.md"]
    assert {p.line for p in gone.problems} == {6, 7}


def test_build_without_the_check_reports_no_link_problems(make_site, build_at):
    report = build_at(make_site(site_files()), check_links=False)
    assert report.problems == []


def test_build_counts_drafts_and_future_posts_left_out(make_site, build_at):
    root = make_site(site_files(**{
        "content/posts/d1.md": post("D1", "2024-01-01", draft="true"),
        "content/posts/d2.md": post("D2", "2024-01-02", draft="true"),
        "content/posts/later.md": post("Later", "2030-01-01"),
    }))
    report = build_at(root)
    assert (report.drafts_left_out, report.future_left_out) == (2, 1)
    result = CliRunner().invoke(main, ["build", "--source", str(root)])
    assert "2 drafts and 1 future post left out; --drafts / --future include them" in result.output
    both = build_at(root, drafts=True, future=True)
    assert (both.drafts_left_out, both.future_left_out) == (0, 0)


def test_check_command_exits_1_and_names_each_problem(make_site):
    root = make_site(site_files())
    result = CliRunner().invoke(main, ["check", "--source", str(root)])
    assert result.exit_code == 1
    assert "warning: content/posts/broken.md:6: image \"a cup\"" in result.stderr
    assert "6 problem(s) found." in result.stderr
    (root / "content/posts/broken.md").unlink()
    clean = CliRunner().invoke(main, ["check", "--source", str(root)])
    assert clean.exit_code == 0, clean.output
    assert "No problems found." in clean.stdout


def test_build_warns_but_exits_0_and_strict_exits_1(make_site):
    root = make_site(site_files())
    plain = subprocess.run([sys.executable, "-m", "blogengine", "build", "--source", str(root)],
                           capture_output=True, text=True, cwd=REPO, env=_env())
    assert plain.returncode == 0, plain.stderr
    assert "warning: content/posts/broken.md:11: link \"dead link\"" in plain.stderr
    strict = subprocess.run([sys.executable, "-m", "blogengine", "build", "--strict",
                             "--source", str(root)], capture_output=True, text=True, cwd=REPO,
                            env=_env())
    assert strict.returncode == 1
    assert "6 warning(s) and --strict: exit 1 (the site was written)." in strict.stderr


def test_the_demo_site_has_no_broken_links(tmp_path):
    site = tmp_path / "demo"
    site.mkdir()
    shutil.copy(REPO / "blogengine.toml", site)
    shutil.copytree(REPO / "content", site / "content")
    result = subprocess.run([sys.executable, "-m", "blogengine", "check", "--source", str(site)],
                            capture_output=True, text=True, cwd=REPO, env=_env())
    assert result.returncode == 0, result.stderr
    assert "No problems found" in result.stdout


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_check_reads_pages_in_workers_with_the_same_findings(make_site, build_at, monkeypatch):
    from blogengine import check
    root = make_site(site_files())
    alone = build_at(root, jobs=1, incremental=False, content_cache=False)
    monkeypatch.setattr(check, "PARALLEL_PAGES", 1)       # a small site read by two workers
    shared = build_at(root, jobs=2, incremental=False, content_cache=False)
    assert messages(shared) == messages(alone) and len(alone.problems) == 6


def fresh_messages(root: Path, build_at, tmp_path: Path) -> list[str]:
    """What a check from scratch finds on the same sources."""
    clean = tmp_path / f"clean-{len(list(tmp_path.glob('clean-*')))}"
    return sorted(messages(build_at(root, output_dir=clean, incremental=False)))


def test_after_another_page_changes_the_old_problems_are_still_reported(make_site, build_at,
                                                                        tmp_path, monkeypatch):
    import blogengine.check

    root = make_site(site_files())
    first = sorted(messages(build_at(root)))
    assert len(first) >= 5
    about = root / "content/pages/about.md"
    about.write_text(about.read_text() + "More about me.\n")    # same ids, no file added
    age(root / "content")                     # (the pages keep their stamps, as in real use)
    rechecked: list[set[str] | None] = []
    choose = blogengine.check._pages_to_check
    monkeypatch.setattr(blogengine.check, "_pages_to_check",
                        lambda *args: rechecked.append(choose(*args)) or rechecked[-1])
    again = build_at(root)
    assert again.pages_rendered >= 1
    assert rechecked == [{"about/index.html"}]              # only the changed page's links
    assert sorted(messages(again)) == first == fresh_messages(root, build_at, tmp_path)


def test_a_heading_added_to_the_target_page_clears_the_anchor_problem(make_site, build_at,
                                                                      tmp_path):
    root = make_site(site_files())
    assert any("no-such-heading" in m for m in messages(build_at(root)))
    fine = root / "content/posts/fine.md"
    fine.write_text(fine.read_text() + "\n## No such heading\n")
    age(root)
    again = sorted(messages(build_at(root)))
    assert not any("no-such-heading" in m for m in again)
    assert again == fresh_messages(root, build_at, tmp_path)


def test_a_file_added_clears_the_links_to_it_and_a_fixed_page_its_own(make_site, build_at,
                                                                      tmp_path):
    root = make_site(site_files())
    assert any("missing.pdf" in m for m in messages(build_at(root)))
    (root / "content/files/missing.pdf").write_bytes(b"%PDF-1.4\n")
    age(root)
    after_file = sorted(messages(build_at(root)))
    assert not any("missing.pdf" in m for m in after_file)
    assert after_file == fresh_messages(root, build_at, tmp_path)
    broken = root / "content/posts/broken.md"
    broken.write_text(broken.read_text().replace("[dead link](/2024/05/nowhere/)", "no link"))
    age(root)
    after_fix = sorted(messages(build_at(root)))
    assert not any("nowhere" in m for m in after_fix)
    assert after_fix == fresh_messages(root, build_at, tmp_path)


def parsed_pages(monkeypatch) -> list[str]:
    """The text of every page whose links the check parses from now on."""
    import blogengine.check
    return calls_to(monkeypatch, blogengine.check, "read_page_links")


def test_a_clean_build_takes_the_links_of_pages_written_again_alike_from_the_last_check(
        make_site, build_at, tmp_path, monkeypatch):
    root = make_site(site_files())
    first = sorted(messages(build_at(root, jobs=1)))
    parsed = parsed_pages(monkeypatch)
    again = build_at(root, jobs=1, incremental=False)         # build --clean: every page written
    assert again.pages_rendered == again.pages_written and parsed == []
    assert sorted(messages(again)) == first == fresh_messages(root, build_at, tmp_path)
    broken = root / "content/posts/broken.md"
    broken.write_text(broken.read_text().replace("/2024/05/nowhere/", "/2024/05/elsewhere/"))
    parsed.clear()
    after = sorted(messages(build_at(root, jobs=1, incremental=False)))
    assert any("elsewhere" in page for page in parsed)        # the changed page is read again,
    assert len(parsed) < again.pages_written                  # the unchanged ones are not
    assert any("/2024/05/elsewhere/" in m for m in after)
    assert not any("/2024/05/nowhere/" in m for m in after)
    assert after == fresh_messages(root, build_at, tmp_path)


def read_back(monkeypatch) -> list[str]:
    """Every page the check reads from the output folder from now on."""
    import blogengine.check
    return calls_to(monkeypatch, blogengine.check, "_read_pages", lambda _known, rels: rels)


def test_a_clean_build_reads_back_no_page_its_render_stamped_alike(make_site, build_at,
                                                                   tmp_path, monkeypatch):
    root = make_site(site_files())
    first = sorted(messages(build_at(root, jobs=1)))
    read = read_back(monkeypatch)
    shutil.rmtree(root / "public")     # every page a new file (else linked from the old folder)
    again = build_at(root, jobs=1, incremental=False)         # build --clean
    assert again.pages_written > 3 and read == []
    assert sorted(messages(again)) == first == fresh_messages(root, build_at, tmp_path)
    # A page written with other bytes than the last check knew is read (and parsed) again.
    broken = root / "content/posts/broken.md"
    broken.write_text(broken.read_text().replace("/2024/05/nowhere/", "/2024/05/elsewhere/"))
    read.clear()
    shutil.rmtree(root / "public")
    after = build_at(root, jobs=1, incremental=False)
    assert [rel for rel in read if "2024/05/broken" in rel] == ["2024/05/broken-things/index.html"]
    assert any("/2024/05/elsewhere/" in m for m in messages(after))
    assert sorted(messages(after)) == fresh_messages(root, build_at, tmp_path)


def test_a_written_page_stays_unread_only_with_the_bytes_the_last_check_knew(make_site,
                                                                             build_at,
                                                                             monkeypatch):
    from blogengine.check import IDS, check_site
    from blogengine.config import load_config
    from blogengine.locate import CheckInputs
    from blogengine.pagefacts import check_stamp

    root = make_site(site_files())
    build_at(root)
    out = root / "public"
    inputs = CheckInputs(config=load_config(root), out_dir=out, origins={}, template_dirs=[])
    first = check_site(inputs, external_links=False)
    pages = sorted(first.index)
    for rel in pages:          # written again alike, as by build --clean: a new stat each
        path = out / rel
        data = path.read_bytes()
        path.unlink()
        path.write_bytes(data)
        os.utime(path, ns=(first.index[rel][0] + 10**9,) * 2)
    stamps = {rel: check_stamp((out / rel).stat(), (out / rel).read_bytes()) for rel in pages}
    same, other, unstamped = pages[0], pages[1], pages[2]
    stamps[other] = stamps[other][:2] + (b"\0" * 16,)   # bytes the last check did not know
    del stamps[unstamped]                               # not written by this build
    read = read_back(monkeypatch)
    checked = check_site(inputs, first.index, links_of=first.links.__getitem__,
                         external_links=False, written=stamps)
    assert sorted(read) == sorted([other, unstamped])
    assert checked.index[same] == stamps[same] + (first.index[same][IDS],)
    assert checked.index[unstamped][:2] == stamps_of(out / unstamped)
    assert sorted(map(str, checked.problems)) == sorted(map(str, first.problems))


def stamps_of(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return (stat.st_mtime_ns, stat.st_size)


def test_a_clean_build_without_the_cache_parses_every_page(make_site, build_at, monkeypatch):
    root = make_site(site_files())
    first = messages(build_at(root, jobs=1))
    parsed = parsed_pages(monkeypatch)
    again = build_at(root, jobs=1, incremental=False, content_cache=False)   # --no-cache
    assert len(parsed) == again.pages_written and messages(again) == first


def test_findings_kept_under_other_link_settings_are_not_trusted(make_site, build_at):
    import dataclasses

    from blogengine.check import check_site
    from blogengine.config import load_config
    from blogengine.locate import CheckInputs

    root = make_site(site_files())
    build_at(root)
    config = load_config(root)
    inputs = CheckInputs(config=config, out_dir=root / "public", origins={}, template_dirs=[])
    first = check_site(inputs, external_links=False)
    assert first.memory is not None and len(first.problems) >= 5
    # Findings kept from a check that found nothing: trusted when the settings are these,
    # so nothing is checked again; not trusted under other settings.
    emptied = dataclasses.replace(first.memory, found=())
    trusted = check_site(inputs, first.index, links_of=first.links.__getitem__,
                         external_links=False, memory=emptied)
    assert trusted.problems == []
    other = dataclasses.replace(emptied, settings=emptied.settings + " (another base URL)")
    distrusted = check_site(inputs, first.index, links_of=first.links.__getitem__,
                            external_links=False, memory=other)
    assert sorted(map(str, distrusted.problems)) == sorted(map(str, first.problems))


def test_an_edit_saves_only_the_changed_pages_links_and_the_next_check_reads_them(
        make_site, build_at, tmp_path):
    from blogengine.cache import BuildCache
    from blogengine.linkstore import LINK_BUCKETS, bucket_of

    def buckets(cache: BuildCache) -> list[object]:
        return [cache.get_state(f"page-links:{number}") for number in range(LINK_BUCKETS)]

    # Enough pages that one edit is a small share of the link check's index.
    others = {f"content/posts/other-{n}.md": post(f"Other {n}", f"2023-02-{n + 1:02d}", body="Text.")
              for n in range(25)}
    root = make_site(site_files(**others))
    first = sorted(messages(build_at(root)))
    cache = BuildCache.for_output(root, root / "public")
    kept = cache.get_dict_state("pages")
    assert kept is not None and kept.base is kept.current
    links_before = buckets(cache)
    assert sum(len(bucket) for bucket in links_before) == len(kept.current)   # every page's
    about = root / "content/pages/about.md"
    about.write_text(about.read_text() + "\nA [new dead link](/2024/01/gone/).\n")
    age(root / "content")
    edited = sorted(messages(build_at(root)))
    cache = BuildCache.for_output(root, root / "public")
    after = cache.get_dict_state("pages")
    assert after is not None and after.base == kept.base        # the whole index not saved again
    assert after.current["about/index.html"] != kept.current["about/index.html"]
    # Only the buckets of the pages whose bytes changed hold other links now, and the about
    # page's holds its new link.
    rewritten = {rel for rel, entry in after.current.items() if entry[2] != kept.current[rel][2]}
    links_after = buckets(cache)
    assert {number for number in range(LINK_BUCKETS) if links_after[number] != links_before[number]} \
        <= {bucket_of(rel) for rel in rewritten}
    assert any(link[2] == "/2024/01/gone/" for link in links_after[bucket_of("about/index.html")]["about/index.html"])
    assert len(edited) == len(first) + 1 and any("/2024/01/gone/" in m for m in edited)
    # The next edit checks from the base and the changes: the new problem is still there.
    fine = root / "content/posts/fine.md"
    fine.write_text(fine.read_text() + "\nMore text.\n")
    age(root / "content")
    assert sorted(messages(build_at(root))) == edited == fresh_messages(root, build_at, tmp_path)


def test_a_cache_that_lost_the_pages_links_makes_the_check_read_every_page(
        make_site, build_at, tmp_path, monkeypatch):
    import sqlite3

    from blogengine.cache import BuildCache

    root = make_site(site_files())
    first = sorted(messages(build_at(root)))
    cache = BuildCache.for_output(root, root / "public")
    with sqlite3.connect(cache.path) as db:
        db.execute("DELETE FROM state WHERE name LIKE 'page-links:%'")
    db.close()
    # A file added: the check looks at every page again, with the links of the pages it does
    # not read from the cache, which lost them; it reads them all instead.
    (root / "content/files/missing.pdf").write_bytes(b"%PDF-1.4\n")
    age(root)
    parsed = parsed_pages(monkeypatch)
    again = build_at(root)
    assert len(parsed) == again.pages_written
    after = sorted(messages(again))
    assert after == [m for m in first if "missing.pdf" not in m] and after != first
    assert after == fresh_messages(root, build_at, tmp_path)

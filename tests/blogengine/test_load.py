"""Load stage: walking content/, assets, dotfiles, symbolic links, and undecodable files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

import pytest

from blogengine.errors import BuildFailed
from blogengine.load import load_sources
from tests.support.site import post, write_files

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def content(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "content"
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, files)
    return root


def rels(items) -> list[str]:
    return [str(item.rel) for item in items]


def test_load_finds_markdown_in_subfolders(tmp_path):
    root = content(tmp_path, {
        "posts/2024/spring/a.md": post("A", "2024-04-01"),
        "posts/b.markdown": post("B", "2024-05-01"),
        "posts/C.MD": post("C", "2024-06-01"),
        "pages/docs/setup.md": "---\ntitle: Setup\n---\n",
    })
    loaded = load_sources(root)
    assert loaded.errors == []
    assert rels(loaded.sources) == ["pages/docs/setup.md", "posts/2024/spring/a.md",
                                    "posts/C.MD", "posts/b.markdown"]
    source = loaded.sources[1]
    assert source.rel == PurePosixPath("posts/2024/spring/a.md")
    assert source.display_path == "content/posts/2024/spring/a.md"
    assert source.path == root / "posts" / "2024" / "spring" / "a.md"
    assert source.text.startswith("---\ntitle: 'A'\n")


def test_load_lists_assets_separately(tmp_path):
    root = content(tmp_path, {
        "posts/hello.md": post("Hello", "2024-05-01"),
        "posts/hello/diagram.png": PNG,
        "images/cat.png": PNG,
        "files/paper.pdf": b"%PDF-1.4\n",
        "robots.txt": "User-agent: *\n",
    })
    loaded = load_sources(root)
    assert rels(loaded.sources) == ["posts/hello.md"]
    assert rels(loaded.assets) == ["files/paper.pdf", "images/cat.png", "posts/hello/diagram.png",
                                   "robots.txt"]
    assert loaded.assets[1].path == root / "images" / "cat.png"


def test_load_skips_dotfiles_dot_folders_and_backups(tmp_path):
    root = content(tmp_path, {
        "posts/visible.md": post("Visible", "2024-05-01"),
        "posts/.hidden.md": post("Hidden", "2024-05-01"),
        "posts/visible.md~": "editor backup",
        ".git/config": "[core]\n",
        ".obsidian/posts/x.md": post("X", "2024-05-01"),
        "images/.DS_Store": b"\x00\x01",
    })
    loaded = load_sources(root)
    assert rels(loaded.sources) == ["posts/visible.md"]
    assert loaded.assets == []
    assert loaded.errors == []


def test_load_digest_is_sha256_of_the_bytes(tmp_path):
    text = post("Hello", "2024-05-01", body="Café.\n")
    root = content(tmp_path, {"posts/hello.md": text})
    [source] = load_sources(root).sources
    assert source.digest == hashlib.sha256((root / "posts" / "hello.md").read_bytes()).hexdigest()


def test_load_is_sorted_and_repeatable(tmp_path):
    root = content(tmp_path, {f"posts/{name}.md": post(name, "2024-05-01")
                              for name in ["m", "a", "z", "b"]})
    first = load_sources(root)
    assert rels(first.sources) == ["posts/a.md", "posts/b.md", "posts/m.md", "posts/z.md"]
    assert load_sources(root) == first


def test_load_strips_bom_and_normalises_crlf(tmp_path):
    root = content(tmp_path, {"posts/win.md": b"\xef\xbb\xbf---\r\ntitle: Win\r\ndate: 2024-05-01\r\n---\r\n\r\nHi.\r\n"})
    [source] = load_sources(root).sources
    assert source.text == "---\ntitle: Win\ndate: 2024-05-01\n---\n\nHi.\n"


def test_load_reports_non_utf8_file_with_line(tmp_path):
    latin1 = "---\ntitle: Caf\xe9\ndate: 2024-05-01\n---\n\nCr\xe8me.\n".encode("latin-1")
    root = content(tmp_path, {"posts/latin.md": latin1, "posts/ok.md": post("Ok", "2024-05-01")})
    loaded = load_sources(root)
    assert rels(loaded.sources) == ["posts/ok.md"]   # the good file is still read
    [error] = loaded.errors
    assert (str(error.path), error.line) == ("content/posts/latin.md", 2)
    assert "not valid UTF-8" in error.message
    assert "0xe9" in error.message


def test_build_fails_on_non_utf8_naming_file_and_line(make_site, build_at):
    latin1 = "---\ntitle: Ok\ndate: 2024-05-01\n---\n\nFirst line.\nCr\xe8me.\n".encode("latin-1")
    root = make_site({"content/posts/latin.md": latin1})
    with pytest.raises(BuildFailed) as info:
        build_at(root)
    assert [str(e) for e in info.value.errors][0].startswith("content/posts/latin.md:7: not valid UTF-8")


def test_load_reports_missing_content_folder(tmp_path):
    loaded = load_sources(tmp_path / "content")
    [error] = loaded.errors
    assert "no content/ folder" in error.message


# --- symbolic links -------------------------------------------------------------------------

def test_load_refuses_file_symlink_leading_outside(tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text(post("Secret", "2024-05-01"), encoding="utf-8")
    root = content(tmp_path, {"posts/ok.md": post("Ok", "2024-05-01")})
    os.symlink(secret, root / "posts" / "leak.md")
    loaded = load_sources(root)
    assert rels(loaded.sources) == ["posts/ok.md"]
    [error] = loaded.errors
    assert str(error.path) == "content/posts/leak.md"
    assert "leads outside content/" in error.message
    assert "refused" in error.message


def test_load_refuses_folder_symlink_leading_outside(tmp_path):
    outside = tmp_path / "elsewhere"
    write_files(outside, {"x.md": post("X", "2024-05-01"), "photo.png": PNG})
    root = content(tmp_path, {"posts/ok.md": post("Ok", "2024-05-01")})
    os.symlink(outside, root / "posts" / "more", target_is_directory=True)
    relative_escape = root / "pages"
    os.symlink("../elsewhere", relative_escape, target_is_directory=True)
    loaded = load_sources(root)
    assert rels(loaded.sources) == ["posts/ok.md"]
    assert loaded.assets == []
    assert sorted(str(e.path) for e in loaded.errors) == ["content/pages", "content/posts/more"]
    assert all("leads outside content/" in e.message for e in loaded.errors)


def test_load_refuses_chain_of_links_that_ends_outside(tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text(post("Secret", "2024-05-01"), encoding="utf-8")
    root = content(tmp_path, {})
    (root / "posts").mkdir()
    os.symlink(secret, root / "hop.md")                      # inside content/, leads out
    os.symlink("../hop.md", root / "posts" / "start.md")     # looks like it stays inside
    loaded = load_sources(root)
    assert loaded.sources == []
    assert sorted(str(e.path) for e in loaded.errors) == ["content/hop.md",
                                                          "content/posts/start.md"]


def test_load_follows_symlinks_that_stay_inside(tmp_path):
    root = content(tmp_path, {"shared/snippet.md": "---\ntitle: Shared\n---\n",
                              "shared/pic.png": PNG,
                              "drafts/real.md": post("Real", "2024-05-01")})
    (root / "posts").mkdir()
    os.symlink("../drafts/real.md", root / "posts" / "linked.md")
    os.symlink("../shared", root / "posts" / "shared", target_is_directory=True)
    loaded = load_sources(root)
    assert loaded.errors == []
    assert "posts/linked.md" in rels(loaded.sources)
    assert "posts/shared/snippet.md" in rels(loaded.sources)
    assert "posts/shared/pic.png" in rels(loaded.assets)
    linked = next(s for s in loaded.sources if str(s.rel) == "posts/linked.md")
    assert linked.text == (root / "drafts" / "real.md").read_text(encoding="utf-8")


def test_load_ends_folder_link_loops(tmp_path):
    root = content(tmp_path, {"posts/a/one.md": post("One", "2024-05-01")})
    os.symlink("..", root / "posts" / "a" / "up", target_is_directory=True)        # back to posts/
    os.symlink("../..", root / "posts" / "a" / "top", target_is_directory=True)    # back to content/
    os.symlink(".", root / "posts" / "here", target_is_directory=True)             # itself
    loaded = load_sources(root)
    assert rels(loaded.sources) == ["posts/a/one.md"]
    assert loaded.errors == []


@pytest.mark.parametrize("links", [{"self.md": "self.md"}, {"a.md": "b.md", "b.md": "a.md"}])
def test_load_ends_file_link_loops(tmp_path, links):
    root = content(tmp_path, {"posts/ok.md": post("Ok", "2024-05-01")})
    for name, target in links.items():
        os.symlink(target, root / "posts" / name)
    loaded = load_sources(root)   # must return, not raise
    assert rels(loaded.sources) == ["posts/ok.md"]
    assert sorted(str(e.path) for e in loaded.errors) == \
        sorted(f"content/posts/{name}" for name in links)


def test_load_reports_broken_symlink(tmp_path):
    root = content(tmp_path, {"posts/ok.md": post("Ok", "2024-05-01")})
    os.symlink("missing.md", root / "posts" / "gone.md")
    loaded = load_sources(root)
    assert rels(loaded.sources) == ["posts/ok.md"]
    [error] = loaded.errors
    assert str(error.path) == "content/posts/gone.md"
    assert "broken" in error.message

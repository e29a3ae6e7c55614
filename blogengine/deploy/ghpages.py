"""The `github-pages` deploy target: the build as one commit on a branch of a remote, pushed.

Like ghp-import, but with git plumbing and a temporary index: the user's working tree, index
and branches are never touched. The commit's parent is the remote branch's tip, so the push
is a fast-forward; a remote that moved meanwhile, or refuses, rejects it and nothing changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from blogengine import __version__
from blogengine.deploy import Changes
from blogengine.errors import DeployError

SCRATCH = Path(".blogengine") / "deploy" / "github-pages.git"
FALLBACK_IDENTITY = {"GIT_AUTHOR_NAME": "blogengine", "GIT_AUTHOR_EMAIL": "blogengine@localhost",
                     "GIT_COMMITTER_NAME": "blogengine", "GIT_COMMITTER_EMAIL": "blogengine@localhost"}


class GithubPagesTarget:
    """Commit the site to `branch` and push it to `remote`."""

    name = "github-pages"

    def __init__(self, remote: str, *, branch: str, cname: str, nojekyll: bool, site_root: Path,
                 base: Path) -> None:
        self.remote = remote
        self.branch = branch
        self.cname = cname.strip()
        self.nojekyll = nojekyll
        self.site_root = site_root
        self.base = base
        self.git_dir: Path | None = None
        self.url = remote    # what git is given: a remote name, a URL or an absolute path

    def describe(self) -> str:
        return f"{self.remote} (branch {self.branch})"

    def check(self) -> None:
        if shutil.which("git") is None:
            raise DeployError("git is not installed (or not on PATH); the github-pages target needs it")
        if not self.branch:
            raise DeployError("the github-pages target needs a branch: set `branch` in "
                              "[deploy.github_pages]")
        repo = self._git(["rev-parse", "--absolute-git-dir"], cwd=self.site_root, check=False)
        if repo.returncode == 0:
            # The site's own repository: its remotes, credentials and settings apply.
            self.git_dir = Path(repo.stdout.strip())
            names = self._git(["remote"]).stdout.split()
        else:
            # Not in a repository: a private one under .blogengine/ holds the objects.
            self.git_dir = (self.site_root / SCRATCH).absolute()
            if not (self.git_dir / "HEAD").exists():
                self.git_dir.parent.mkdir(parents=True, exist_ok=True)
                self._git(["init", "--quiet", "--bare", str(self.git_dir)], cwd=self.site_root,
                          bare=True)
            names = []
        if self.remote in names:
            return
        local = self.base / Path(self.remote).expanduser()
        if local.exists():
            self.url = str(local.absolute())
        elif ":" not in self.remote and "/" not in self.remote:   # a name, not a URL or path
            where = "the site's git repository has no such remote" if repo.returncode == 0 \
                else "the site is not in a git repository"
            raise DeployError(f"git remote {self.remote!r} not found ({where}); set `remote` in "
                              "[deploy.github_pages] to a remote name, a URL or a path")

    def publish(self, site: Path, files: dict[str, Path], dry_run: bool) -> Changes:
        parent = self._remote_tip()
        with tempfile.TemporaryDirectory(prefix="blogengine-pages-") as scratch:
            index = Path(scratch) / "index"
            tree = self._write_tree(files, index)
        if parent is not None:
            if self._git(["rev-parse", f"{parent}^{{tree}}"]).stdout.strip() == tree:
                return Changes()
            changes = self._diff(parent, tree)
        else:
            listed = self._git(["ls-tree", "-r", "-z", "--name-only", tree]).stdout
            changes = Changes(new=tuple(sorted(p for p in listed.split("\0") if p)))
        if dry_run:
            return changes
        commit = self._commit(tree, parent)
        self._push(commit)
        return changes

    # --- steps ---------------------------------------------------------------------------

    def _remote_tip(self) -> str | None:
        """The branch's commit on the remote, fetched; None when the branch does not exist yet."""
        ref = f"refs/heads/{self.branch}"
        listed = self._git(["ls-remote", "--heads", self.url, ref], check=False)
        if listed.returncode != 0:
            raise DeployError(f"cannot reach git remote {self.remote!r}: {_reason(listed.stderr)}")
        tips = [line.split("\t")[0] for line in listed.stdout.splitlines()
                if line.endswith("\t" + ref)]
        if not tips:
            return None
        fetched = self._git(["fetch", "--quiet", "--no-tags", self.url, ref], check=False)
        if fetched.returncode != 0:
            raise DeployError(f"cannot fetch {self.branch} from git remote {self.remote!r}: "
                              f"{_reason(fetched.stderr)}")
        return tips[0]

    def _write_tree(self, files: dict[str, Path], index: Path) -> str:
        env = {"GIT_INDEX_FILE": str(index)}
        paths = list(files)
        if any("\n" in path for path in paths):
            raise DeployError("a file name in the build contains a line break; git cannot take it")
        # --no-filters: the bytes as built, whatever .gitattributes or autocrlf would do.
        hashed = self._git(["hash-object", "-w", "--no-filters", "--stdin-paths"],
                           stdin="".join(f"{files[p]}\n" for p in paths)).stdout.split()
        blobs = dict(zip(paths, hashed, strict=True))
        if self.nojekyll:
            blobs[".nojekyll"] = self._blob("")
        if self.cname:
            blobs["CNAME"] = self._blob(self.cname + "\n")
        records = "".join(f"100644 {sha}\t{path}\0" for path, sha in sorted(blobs.items()))
        self._git(["update-index", "-z", "--add", "--index-info"], stdin=records, env=env)
        return self._git(["write-tree"], env=env).stdout.strip()

    def _blob(self, text: str) -> str:
        return self._git(["hash-object", "-w", "--stdin"], stdin=text).stdout.strip()

    def _diff(self, parent: str, tree: str) -> Changes:
        out = self._git(["diff-tree", "-r", "-z", "--no-renames", "--name-status", parent, tree]).stdout
        fields = [f for f in out.split("\0") if f]
        buckets: dict[str, list[str]] = {"A": [], "M": [], "D": []}
        for status, path in zip(fields[::2], fields[1::2], strict=True):
            buckets.get(status[0], buckets["M"]).append(path)
        return Changes(new=tuple(sorted(buckets["A"])), changed=tuple(sorted(buckets["M"])),
                       removed=tuple(sorted(buckets["D"])))

    def _commit(self, tree: str, parent: str | None) -> str:
        identity = self._git(["var", "GIT_COMMITTER_IDENT"], check=False).returncode == 0 and \
            self._git(["var", "GIT_AUTHOR_IDENT"], check=False).returncode == 0
        args = ["commit-tree", tree, "-m", f"Site built by blogengine {__version__}"]
        if parent is not None:
            args += ["-p", parent]
        return self._git(args, env=None if identity else FALLBACK_IDENTITY).stdout.strip()

    def _push(self, commit: str) -> None:
        pushed = self._git(["push", "--porcelain", "--quiet", self.url,
                            f"{commit}:refs/heads/{self.branch}"], check=False)
        if pushed.returncode == 0:
            return
        rejected = [line.split("\t") for line in pushed.stdout.splitlines() if line.startswith("!")]
        said = [line.removeprefix("remote:").strip() for line in pushed.stderr.splitlines()
                if line.startswith("remote:") and line.removeprefix("remote:").strip()]
        if rejected:
            reason = rejected[0][-1].strip()
            detail = f"; the remote said: {said[0]}" if said else ""
            raise DeployError(f"git push to {self.remote!r} (branch {self.branch}) was rejected: "
                              f"{reason}{detail}")
        raise DeployError(f"git push to {self.remote!r} failed: {_reason(pushed.stderr)}")

    # --- git -----------------------------------------------------------------------------

    def _git(self, args: list[str], *, cwd: Path | None = None, check: bool = True,
             stdin: str | None = None, env: dict[str, str] | None = None,
             bare: bool = False) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
        full_env.update(env or {})
        command = ["git"]
        if self.git_dir is not None and not bare:
            command.append(f"--git-dir={self.git_dir}")
        try:
            result = subprocess.run([*command, *args], cwd=cwd or self.site_root, input=stdin,
                                    capture_output=True, text=True, errors="replace", env=full_env)
        except OSError as exc:
            raise DeployError(f"could not run git ({exc.strerror})") from None
        if check and result.returncode != 0:
            raise DeployError(f"git {args[0]} failed: {_reason(result.stderr)}")
        return result


def _reason(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if not line.startswith("remote:"):
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return lines[0] if lines else "no message"

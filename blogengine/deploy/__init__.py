"""`blogengine deploy`: build the site, then publish the finished output folder to one target.

One module per target (dir, rsync, github-pages, s3); each compares the build with what the
target holds and sends only the difference. Nothing is sent unless the build succeeded."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from blogengine.build import BuildOptions, BuildReport, build
from blogengine.config import DEPLOY_TARGETS, SiteConfig
from blogengine.errors import DeployError
from blogengine.write import JOURNAL, MARKER

# Files in the output folder that belong to the build machinery, not to the site.
BUILD_FILES = frozenset({MARKER, JOURNAL})


@dataclass(frozen=True)
class DeployOptions:
    target: str | None = None        # overrides [deploy] target
    destination: str | None = None   # overrides the target's folder, remote or bucket
    dry_run: bool = False
    delete: bool | None = None       # overrides the target's `delete`
    comments_token: str = ""         # an author API token, for [deploy] reload_comments
    build: BuildOptions = BuildOptions()


@dataclass(frozen=True)
class Changes:
    """What a deploy changes (or, in a dry run, would change) at the target; sorted paths."""

    new: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.new) + len(self.changed) + len(self.removed)


@dataclass
class DeployReport:
    target: str
    destination: str
    dry_run: bool
    build: BuildReport
    changes: Changes
    notes: list[str] = field(default_factory=list)
    threads_reloaded: int | None = None   # threads the comment server knows after the reload
    comments_error: DeployError | None = None   # the site is deployed, but the reload failed


class Target(Protocol):
    """A place a site can be published to."""

    name: str

    def describe(self) -> str:
        """Where the site goes, for messages."""

    def check(self) -> None:
        """Raise DeployError for a setting or tool that is missing; runs before the build."""

    def publish(self, site: Path, files: dict[str, Path], dry_run: bool) -> Changes:
        """Make the target hold exactly `files` (relative path -> file); return the changes."""


def deploy_site(config: SiteConfig, options: DeployOptions = DeployOptions()) -> DeployReport:
    """Build, then publish the build to the chosen target; a failed build publishes nothing."""
    target = make_target(config, options)
    target.check()
    token = options.comments_token
    if config.deploy.reload_comments and not options.dry_run and not token:
        raise DeployError("[deploy] reload_comments is on, but no author API token was given: set "
                          "BLOGENGINE_COMMENTS_TOKEN (make one with `blogengine comments add-token "
                          "NAME --label deploy`) or pass --comments-token",
                          path=config.config_path)
    report = build(config, options.build)   # raises BuildFailed: nothing below runs
    site = report.output_dir
    changes = target.publish(site, site_files(site), options.dry_run)
    result = DeployReport(target=target.name, destination=target.describe(),
                          dry_run=options.dry_run, build=report, changes=changes)
    if config.deploy.reload_comments and not options.dry_run:
        from blogengine.deploy.comments import comments_url, reload_threads
        try:
            result.threads_reloaded = reload_threads(comments_url(config), token)
        except DeployError as exc:   # reported after what was deployed
            result.comments_error = exc
    return result


def make_target(config: SiteConfig, options: DeployOptions) -> Target:
    """The target named by --target or [deploy] target, with --to and --delete applied."""
    name = options.target or config.deploy.target
    if not name:
        raise DeployError("no deploy target: set `target` in [deploy] (one of "
                          f"{', '.join(DEPLOY_TARGETS)}) or pass --target", path=config.config_path)
    if name not in DEPLOY_TARGETS:
        raise DeployError(f"unknown deploy target {name!r} (expected one of {', '.join(DEPLOY_TARGETS)})")
    settings = config.deploy
    out_dir = (options.build.output_dir or config.output_dir)
    if name == "dir":
        from blogengine.deploy.local import DirTarget
        folder = _local_path(options.destination, settings.dir.path, config.root)
        return DirTarget(folder, delete=_choose(options.delete, settings.dir.delete),
                         site_root=config.root, out_dir=out_dir)
    if name == "rsync":
        from blogengine.deploy.rsync import RsyncTarget
        destination = options.destination or settings.rsync.destination
        return RsyncTarget(destination, delete=_choose(options.delete, settings.rsync.delete),
                           checksum=settings.rsync.checksum, options=list(settings.rsync.options),
                           base=Path.cwd() if options.destination else config.root)
    if name == "github-pages":
        from blogengine.deploy.ghpages import GithubPagesTarget
        pages = settings.github_pages
        return GithubPagesTarget(options.destination or pages.remote, branch=pages.branch,
                                 cname=pages.cname, nojekyll=pages.nojekyll, site_root=config.root,
                                 base=Path.cwd() if options.destination else config.root)
    from blogengine.deploy.s3 import S3Target, split_bucket
    s3 = settings.s3
    bucket, prefix = split_bucket(options.destination) if options.destination else (s3.bucket, s3.prefix)
    return S3Target(s3, bucket=bucket, prefix=prefix, delete=_choose(options.delete, s3.delete))


def _choose(option: bool | None, setting: bool) -> bool:
    return setting if option is None else option


def _local_path(option: str | None, setting: str, root: Path) -> Path | None:
    """A folder from --to (relative to the current folder) or the config (relative to the site)."""
    if option:
        return Path(os.path.abspath(Path(option).expanduser()))
    if setting:
        return Path(os.path.abspath(root / Path(setting).expanduser()))
    return None


def site_files(site: Path) -> dict[str, Path]:
    """Every file of a built site by its relative POSIX path, sorted; build bookkeeping left out."""
    found: dict[str, Path] = {}
    for folder, dirs, files in os.walk(site):
        dirs.sort()
        base = Path(folder)
        rel_folder = PurePosixPath(base.relative_to(site).as_posix())
        for name in sorted(files):
            rel = str(rel_folder / name) if str(rel_folder) != "." else name
            if rel in BUILD_FILES:
                continue
            found[rel] = base / name
    return dict(sorted(found.items()))


def plan_changes(wanted: dict[str, str], present: dict[str, str], *, delete: bool) -> Changes:
    """Compare digests by path: what to add, replace and (with `delete`) remove."""
    return Changes(
        new=tuple(sorted(p for p in wanted if p not in present)),
        changed=tuple(sorted(p for p in wanted if p in present and present[p] != wanted[p])),
        removed=tuple(sorted(p for p in present if p not in wanted)) if delete else (),
    )

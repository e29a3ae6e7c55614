"""The `rsync` deploy target: the system rsync to a local path or `user@host:path`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from blogengine.deploy import BUILD_FILES, Changes
from blogengine.errors import DeployError

INSTALL_HINT = "Debian/Ubuntu: apt install rsync; Fedora: dnf install rsync; macOS: brew install rsync"


def is_remote(destination: str) -> bool:
    """rsync's own rule: a colon before the first slash (or rsync://) means another host."""
    if destination.startswith("rsync://"):
        return True
    colon, slash = destination.find(":"), destination.find("/")
    return colon > 0 and (slash == -1 or colon < slash)


class RsyncTarget:
    """Run rsync once; its itemized output is the list of changes."""

    name = "rsync"

    def __init__(self, destination: str, *, delete: bool, checksum: bool, options: list[str],
                 base: Path) -> None:
        # A local destination in the config is relative to the site; on the command line, to
        # the current folder.
        if destination and not is_remote(destination) and not Path(destination).is_absolute():
            destination = os.path.abspath(base / destination)
        self.destination = destination
        self.delete = delete
        self.checksum = checksum
        self.options = options
        self.program: str | None = None

    def describe(self) -> str:
        return self.destination

    def check(self) -> None:
        if not self.destination:
            raise DeployError("the rsync target needs a destination: set `destination` in "
                              "[deploy.rsync] (a path or user@host:path) or pass --to")
        self.program = shutil.which("rsync")
        if self.program is None:
            raise DeployError(f"rsync is not installed (or not on PATH); {INSTALL_HINT}")

    def command(self, site: Path, dry_run: bool) -> list[str]:
        assert self.program is not None
        # --delay-updates and --delete-after: every file lands at the end, together, and
        # nothing disappears before the pages that stop linking to it have arrived.
        command = [self.program, "--recursive", "--links", "--times", "--omit-dir-times",
                   "--delay-updates", "--out-format=%i %n"]
        if self.checksum:
            command.append("--checksum")
        if self.delete:
            command.append("--delete-after")
        command += [f"--exclude=/{name}" for name in sorted(BUILD_FILES)]
        if dry_run:
            command.append("--dry-run")
        # "--" would end the options, so user options come before the paths, as rsync expects.
        return [*command, *self.options, f"{site}/", self.destination]

    def publish(self, site: Path, files: dict[str, Path], dry_run: bool) -> Changes:
        command = self.command(site, dry_run)
        try:
            result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, errors="replace")
        except OSError as exc:
            raise DeployError(f"could not run rsync ({exc.strerror}); {INSTALL_HINT}") from None
        if result.returncode != 0:
            raise DeployError(f"rsync to {self.destination} failed (exit {result.returncode}): "
                              f"{_reason(result.stderr)}")
        return parse_itemized(result.stdout)


def parse_itemized(output: str) -> Changes:
    """Changes from `--out-format=%i %n` lines: `>f+++++++++ new`, `>fc.t...... changed`,
    `*deleting   gone`; folders and attribute-only updates are not changes to the site."""
    new: list[str] = []
    changed: list[str] = []
    removed: list[str] = []
    for line in output.splitlines():
        if len(line) < 13:
            continue
        flags, name = line[:11], line[12:]
        if name.endswith("/"):
            continue
        if flags.startswith("*deleting"):
            removed.append(name)
        elif flags[0] in "<>c" and flags[1] in "fL":
            (new if flags[2:].strip("+") == "" else changed).append(name)
    return Changes(new=tuple(sorted(new)), changed=tuple(sorted(changed)),
                   removed=tuple(sorted(removed)))


def _reason(stderr: str) -> str:
    """The first line that says what went wrong (ssh's own message comes before rsync's)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if not line.startswith("rsync error:"):
            return re.sub(r"^rsync: (\[\w+\] )?", "", line)
    return lines[0] if lines else "no message"

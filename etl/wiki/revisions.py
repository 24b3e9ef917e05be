"""Read stage for snapshots in git: revisions of a wiki checkout, their
commits, and their trees written into a scratch directory.

The checkout is only read: trees are written through a private index file
(`GIT_INDEX_FILE`) into a directory of our own, so the checkout's HEAD,
index, work tree and worktree list are never touched.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

TRAILER = re.compile(r"^Upstream-commit:\s*([0-9a-f]{7,40})\s*$", re.M)


class RevisionError(Exception):
    """A checkout or revision that cannot be read; the message says why."""


@dataclass(frozen=True)
class Commit:
    commit: str
    upstream_commit: str
    date: str  # author date, ISO 8601 with offset
    author: str
    message: str  # the subject line and body, trailers included


def _git(checkout: Path, *args: str, env: dict | None = None) -> str:
    try:
        completed = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True, env=env)
    except FileNotFoundError:
        raise RevisionError("git is not installed") from None
    if completed.returncode != 0:
        raise RevisionError(completed.stderr.strip() or f"git {' '.join(args)} failed")
    return completed.stdout


def require_checkout(checkout: Path) -> Path:
    checkout = Path(checkout).resolve()
    if not checkout.is_dir():
        raise RevisionError(f"{checkout}: no such directory")
    try:
        top = _git(checkout, "rev-parse", "--show-toplevel").strip()
    except RevisionError:
        raise RevisionError(f"{checkout}: not a git checkout") from None
    if Path(top).resolve() != checkout:
        raise RevisionError(f"{checkout}: not the top of its git checkout ({top})")
    return checkout


def resolve(checkout: Path, revision: str) -> str:
    """The full hash of `revision`, or a RevisionError naming it."""
    try:
        return _git(checkout, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}").strip()
    except RevisionError:
        raise RevisionError(f"{checkout}: no commit '{revision}'") from None


def uncommitted(checkout: Path) -> list[str]:
    """Paths with changes not committed (untracked files included)."""
    return [
        line[3:]
        for line in _git(checkout, "status", "--porcelain", "--untracked-files=normal").splitlines()
        if line.strip()
    ]


def commits(checkout: Path, until: str = "HEAD", since: str | None = None) -> list[Commit]:
    """First-parent commits up to `until`, oldest first; after `since` when
    given (`since` itself excluded)."""
    span = f"{since}..{until}" if since else until
    output = _git(checkout, "log", "--first-parent", "--reverse", "--format=%H%x00%aI%x00%an%x00%B%x1e", span)
    found = []
    for record in output.split("\x1e"):
        record = record.lstrip("\n")
        if not record:
            continue
        commit, date, author, message = record.split("\x00", 3)
        upstream = TRAILER.search(message)
        found.append(Commit(commit, upstream.group(1) if upstream else commit, date, author, message.strip()))
    return found


def changed_paths(checkout: Path, old: str, new: str) -> list[str]:
    """Files added, removed, modified or renamed between two commits."""
    output = _git(checkout, "diff", "--name-only", "--no-renames", "-z", old, new)
    return [path for path in output.split("\0") if path]


class Tree:
    """A directory holding the files of one commit of the checkout at a
    time. `show(commit)` updates it in place: git writes only the files that
    differ from the commit shown before."""

    def __init__(self, checkout: Path, directory: Path):
        self.checkout = Path(checkout)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.index = self.directory.parent / f".{self.directory.name}.index"
        self.current: str | None = None

    def _env(self) -> dict:
        return {**os.environ, "GIT_INDEX_FILE": str(self.index)}

    def show(self, commit: str) -> Path:
        work_tree = f"--work-tree={self.directory}"
        if self.current is None:
            _git(self.checkout, work_tree, "read-tree", "--reset", "-u", commit, env=self._env())
        else:
            _git(self.checkout, work_tree, "read-tree", "-m", "-u", self.current, commit, env=self._env())
        self.current = commit
        return self.directory

"""Read stage: how a build knows the commit its files are from.

From the strongest answer to the weakest: the files were compared with a
commit read from git (the wiki directory's own checkout; a repository or
bundle named with --verify-against; or files the caller wrote from the
commit, as `etl history` and `etl diff` do); a commit was only declared for
the build (--upstream-commit, the pin of data/sources.yml) and nothing was
compared; or no commit is known. Comparing goes through a private index
file, so a checkout's own index and work tree are never written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .revisions import TRAILER, RevisionError, _git

# The length a commit is shortened to in snapshots.commit_statement (and on the home page).
SHORT_COMMIT = 12


@dataclass(frozen=True)
class Provenance:
    commit_source: str | None = None  # "git", "declared", or None when no commit is known
    git_commit: str | None = None  # the git commit the files were compared with
    upstream_commit: str | None = None  # declared, or the compared commit's Upstream-commit trailer
    modified: int | None = None  # files whose content differs from the commit's
    added: int | None = None  # files the commit does not have (git-ignored ones included)
    missing: int | None = None  # files of the commit absent from the directory

    def columns(self) -> dict:
        """The snapshots table's provenance columns (commit_statement apart)."""
        compared = self.commit_source == "git"
        return {
            "git_commit": self.git_commit,
            "upstream_commit": self.upstream_commit,
            "commit_source": self.commit_source,
            "worktree_clean": (self.modified + self.added + self.missing == 0) if compared else None,
            "files_modified": self.modified if compared else None,
            "files_added": self.added if compared else None,
            "files_missing": self.missing if compared else None,
        }


def _same_commit(one: str, other: str) -> bool:
    """Whether two hashes, either perhaps abbreviated (7 digits at least), name one commit."""
    one, other = one.lower(), other.lower()
    return min(len(one), len(other)) >= 7 and (one.startswith(other) or other.startswith(one))


def provenance(
    wiki_dir: Path,
    declared: str | None = None,
    written_from: str | None = None,
    verify_against: Path | None = None,
) -> Provenance:
    """How the files of `wiki_dir` relate to a commit. `declared` is the
    upstream commit named for the build; `written_from` the commit the
    caller wrote the files from (clean by construction); `verify_against` a
    git repository or bundle holding the declared commit, to compare a
    directory that is not a checkout with."""
    wiki_dir = Path(wiki_dir)
    if written_from:
        return Provenance("git", written_from, declared, 0, 0, 0)
    if (wiki_dir / ".git").exists():
        found = _checkout(wiki_dir, declared)
        if found is not None:
            return found
    if verify_against is not None:
        if not declared:
            raise RevisionError("--verify-against needs the commit to compare with: pass --upstream-commit")
        return _verified(wiki_dir, declared, Path(verify_against))
    return Provenance("declared" if declared else None, None, declared)


def _checkout(wiki_dir: Path, declared: str | None) -> Provenance | None:
    """The checkout's HEAD and how its work tree differs from it; None when
    git cannot read it (no git, or not a repository after all)."""
    try:
        head, message = _git(wiki_dir, "log", "-1", "--format=%H%x00%B", "HEAD").split("\0", 1)
    except (RevisionError, ValueError):
        return None
    trailer = TRAILER.search(message)
    upstream = trailer.group(1) if trailer else None
    if declared and not any(_same_commit(declared, c) for c in (head, upstream) if c):
        raise RevisionError(
            f"{wiki_dir} is a checkout of {head[:SHORT_COMMIT]}, not of the declared upstream commit "
            f"{declared[:SHORT_COMMIT]}: check that commit out (`make wiki`), or build without --upstream-commit"
        )
    modified, added, missing = _differences(wiki_dir, [], head)
    return Provenance("git", head, declared or upstream, modified, added, missing)


def _verified(wiki_dir: Path, declared: str, repository: Path) -> Provenance:
    """The directory compared with the declared commit as `repository`
    holds it: the commit itself, or the newest commit whose Upstream-commit
    trailer names it (a history bundle's commits carry one)."""
    with _git_dir(repository) as git_dir:
        try:
            commit = _git(git_dir, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{declared}^{{commit}}")
            commit = commit.strip()
        except RevisionError:
            commit = _carrying_trailer(git_dir, declared)
        where = [f"--git-dir={git_dir}", f"--work-tree={Path(wiki_dir).resolve()}"]
        modified, added, missing = _differences(wiki_dir, where, commit)
    return Provenance("git", commit, declared, modified, added, missing)


def _carrying_trailer(git_dir: Path, declared: str) -> str:
    log = _git(git_dir, "log", "--all", "--format=%H%x00%B%x1e")
    for record in log.split("\x1e"):
        commit, _, message = record.strip("\n").partition("\0")
        trailer = TRAILER.search(message)
        if trailer and _same_commit(trailer.group(1), declared):
            return commit
    raise RevisionError(f"{git_dir}: no commit {declared}, and no commit with the trailer Upstream-commit: {declared}")


@contextmanager
def _git_dir(repository: Path):
    """The git directory of a repository, or of a bundle file fetched into a scratch one."""
    if repository.is_file():
        with tempfile.TemporaryDirectory(prefix="agingkb-verify-") as scratch:
            _git(Path(scratch), "init", "--quiet", "--bare")
            _git(Path(scratch), "fetch", "--quiet", str(repository.resolve()), "+refs/*:refs/*")
            yield Path(scratch)
        return
    if not repository.is_dir():
        raise RevisionError(f"{repository}: no such repository or bundle")
    yield Path(_git(repository, "rev-parse", "--absolute-git-dir").strip())


def _differences(wiki_dir: Path, where: list[str], commit: str) -> tuple[int, int, int]:
    """(modified, added, missing) files of the directory against `commit`,
    read through a private index holding the commit's tree. A checkout's
    own index (`where` empty) is copied into it first, so the file stats it
    keeps spare hashing unchanged files, and is never written. Untracked
    files count as added whether or not a .gitignore names them: the build
    reads ignored Markdown files too."""
    with tempfile.TemporaryDirectory(prefix="agingkb-provenance-") as scratch:
        index = Path(scratch) / "index"
        env = {**os.environ, "GIT_INDEX_FILE": str(index), "GIT_OPTIONAL_LOCKS": "0"}
        own = None if where else Path(wiki_dir, _git(wiki_dir, "rev-parse", "--git-path", "index").strip())
        if own is not None and own.is_file():
            shutil.copyfile(own, index)
            _git(wiki_dir, "read-tree", "-m", commit, env=env)  # -m: the stats of unchanged files are kept
        else:
            _git(wiki_dir, *where, "read-tree", commit, env=env)
        status = _git(wiki_dir, *where, "diff", "--no-renames", "--no-ext-diff", "--name-status", "-z", commit, env=env)
        others = _git(wiki_dir, *where, "ls-files", "--others", "-z", env=env)
    letters = status.split("\0")[0::2]  # --name-status -z: letter, path, letter, path, ...
    modified = sum(letter in ("M", "T") for letter in letters)
    added = letters.count("A") + sum(1 for path in others.split("\0") if path)
    return modified, added, letters.count("D")


def commit_statement(snapshot: dict, digits: int = SHORT_COMMIT) -> str | None:
    """How the snapshot knows its commit, in the words the home page,
    CITATION.cff and the release notes use; None when no commit is known."""
    commit = snapshot.get("upstream_commit") or snapshot.get("git_commit")
    if not commit:
        return None
    commit = commit[:digits]
    if snapshot.get("commit_source") != "git":
        return f"declared commit {commit}, not verified"
    counts = {kind: snapshot.get(f"files_{kind}") or 0 for kind in ("modified", "added", "missing")}
    changed = sum(counts.values())
    if not changed:
        return f"commit {commit}"
    parts = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
    return f"commit {commit} with {changed} file{'' if changed == 1 else 's'} changed ({parts})"

"""Where `etl check` puts things for the tools that run it: the pre-commit
hook's page cache in the repository's git directory, and a diagnostic's path
as a workflow's annotations and SARIF want it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..options import DEFAULT_MAX_PAGE_BYTES, BuildOptions
from .cache import code_version


def hook_cache_dir() -> Path | None:
    """GIT_DIR/agingkb-check-cache holding this checker version's entries
    alone (each version of the code starts an empty cache), or None
    outside a git checkout."""
    try:
        git_dir = subprocess.run(
            ["git", "rev-parse", "--git-common-dir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    root = Path(git_dir) / "agingkb-check-cache"
    current = code_version(BuildOptions().data_dir, DEFAULT_MAX_PAGE_BYTES)
    for stale in (p for p in root.glob("*") if p.is_dir() and p.name != current):
        shutil.rmtree(stale, ignore_errors=True)
    root.mkdir(exist_ok=True)
    return root


def check_location(wiki_dir: Path):
    """A diagnostic's path as GitHub and SARIF readers want it: relative to
    the directory etl runs in (a workflow's checkout) when the wiki is in it."""
    try:
        prefix = wiki_dir.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        prefix = "."
    return (lambda d: d.path) if prefix == "." else (lambda d: f"{prefix}/{d.path}")

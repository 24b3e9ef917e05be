"""The output directory: one build writing at a time, each build staged
under .builds/<id>/ and made current in one atomic step, and the remains of
earlier or killed builds removed.

out_dir/package, out_dir/agingkb.db, ... are symlinks through
out_dir/.current, itself a symlink to .builds/<id>. Replacing .current with
os.replace is atomic, so a reader (or a build killed at any moment) sees
either the whole previous build or the whole new one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..output.archive import ZIP_NAME
from .cache import atomic_file

OUTPUTS = ("package", ZIP_NAME, "agingkb.db", "diagnostics.txt", "summary.json")
BUILDS_DIR = ".builds"
CURRENT = ".current"


class BuildError(Exception):
    """The build cannot produce a valid package; the previous output stays."""


@contextmanager
def exclusive(out_dir: Path):
    """One build at a time per output directory. The lock dies with its
    process, so a killed build never leaves it held."""
    with open(out_dir / ".build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"another build is writing to {out_dir}; try again when it has finished") from None
        yield


@contextmanager
def staging_directory(out_dir: Path):
    """A fresh directory under .builds/ for one build; removed unless the
    build published it."""
    remove_stale_builds(out_dir)
    staging = Path(tempfile.mkdtemp(prefix="build-", dir=out_dir / BUILDS_DIR))
    os.chmod(staging, 0o755)
    try:
        yield staging
    finally:
        if not is_current(out_dir, staging):
            shutil.rmtree(staging, ignore_errors=True)


def current_build(out_dir: Path) -> Path | None:
    """The published build directory, if any."""
    pointer = out_dir / CURRENT
    return (out_dir / os.readlink(pointer)).resolve() if pointer.is_symlink() else None


def is_current(out_dir: Path, build_dir: Path) -> bool:
    return current_build(out_dir) == build_dir.resolve()


def publish(build_dir: Path, out_dir: Path) -> None:
    """Make build_dir the current build in one atomic step."""
    pointer = out_dir / CURRENT
    fresh = out_dir / ".current.new"
    if fresh.is_symlink() or fresh.exists():
        fresh.unlink()
    os.symlink(os.path.relpath(build_dir, out_dir), fresh)
    os.replace(fresh, pointer)
    for name in OUTPUTS:
        link = out_dir / name
        target = os.path.join(CURRENT, name)
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)  # output of an older layout
        staged = out_dir / f".{name}.link"
        if staged.is_symlink() or staged.exists():
            staged.unlink()
        os.symlink(target, staged)
        os.replace(staged, link)


def remove_stale_builds(out_dir: Path) -> None:
    """Delete build directories that are not current: earlier builds and
    the remains of builds that were killed."""
    builds = out_dir / BUILDS_DIR
    if not builds.is_dir():
        return
    current = current_build(out_dir)
    for entry in builds.iterdir():
        if entry.resolve() != current:
            shutil.rmtree(entry, ignore_errors=True)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json_atomically(path: Path, value) -> None:
    with atomic_file(path, ".validated-") as stream:
        stream.write(json.dumps(value, indent=1, sort_keys=True).encode("utf-8"))

"""The output directory: one build writing at a time, each build staged
under .builds/<id>/ and made current in one atomic step, and the remains of
earlier or killed builds removed.

out_dir/package, out_dir/agingkb.db, ... are symlinks through
out_dir/.current, itself a symlink to .builds/<id>. Replacing .current with
os.replace is atomic, so a reader (or a build killed at any moment) sees
either the whole previous build or the whole new one.

The build that was current before is kept too, as out_dir/previous (a
symlink through out_dir/.previous), so `etl diff` can compare the last two
builds; it is moved there only once the new build is current, and the one
before it is then deleted. A build that fails changes neither.
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
PREVIOUS = ".previous"
PREVIOUS_LINK = "previous"  # out_dir/previous: the build that was current before


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


def _pointed_at(out_dir: Path, name: str) -> Path | None:
    pointer = out_dir / name
    if not pointer.is_symlink():
        return None
    target = (out_dir / os.readlink(pointer)).resolve()
    return target if target.is_dir() else None


def current_build(out_dir: Path) -> Path | None:
    """The published build directory, if any."""
    return _pointed_at(out_dir, CURRENT)


def previous_build(out_dir: Path) -> Path | None:
    """The build that was current before the current one, if any is kept."""
    return _pointed_at(out_dir, PREVIOUS)


def is_current(out_dir: Path, build_dir: Path) -> bool:
    return current_build(out_dir) == build_dir.resolve()


def _point(out_dir: Path, name: str, target: str) -> None:
    """out_dir/name made a symlink to target in one atomic step."""
    link = out_dir / name
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)  # output of an older layout
    staged = out_dir / f".{name.lstrip('.')}.link"
    if staged.is_symlink() or staged.exists():
        staged.unlink()
    os.symlink(target, staged)
    os.replace(staged, link)


def publish(build_dir: Path, out_dir: Path) -> None:
    """Make build_dir the current build in one atomic step, then the build
    it replaces the previous one."""
    replaced = current_build(out_dir)
    _point(out_dir, CURRENT, os.path.relpath(build_dir, out_dir))
    for name in OUTPUTS:
        _point(out_dir, name, os.path.join(CURRENT, name))
    if replaced is not None and replaced != build_dir.resolve():
        _point(out_dir, PREVIOUS, os.path.relpath(replaced, out_dir))
        _point(out_dir, PREVIOUS_LINK, PREVIOUS)


def remove_stale_builds(out_dir: Path) -> None:
    """Delete build directories that are neither current nor previous:
    older builds and the remains of builds that were killed."""
    builds = out_dir / BUILDS_DIR
    if not builds.is_dir():
        return
    kept = {current_build(out_dir), previous_build(out_dir)}
    for entry in builds.iterdir():
        if entry.resolve() not in kept:
            shutil.rmtree(entry, ignore_errors=True)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json_atomically(path: Path, value) -> None:
    with atomic_file(path, ".validated-") as stream:
        stream.write(json.dumps(value, indent=1, sort_keys=True).encode("utf-8"))

"""Snapshots to compare: the data package of a build directory, a release
directory or a package directory."""

from __future__ import annotations

import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

from ..output.archive import ZIP_NAME
from ..release.versioning import descriptor_version, newest_release
from .diff import change_rows, diff_packages


class SnapshotError(Exception):
    pass


@contextmanager
def package_directory(location: Path):
    """The directory holding datapackage.json for a package directory, a
    build directory (its package/) or a release directory (its zip,
    unpacked into a scratch directory for the duration)."""
    location = Path(location)
    if (location / "datapackage.json").is_file():
        yield location
    elif (location / "package" / "datapackage.json").is_file():
        yield (location / "package").resolve()
    elif (location / ZIP_NAME).is_file():
        with tempfile.TemporaryDirectory(prefix="agingkb-release-") as scratch:
            with zipfile.ZipFile(location / ZIP_NAME) as archive:
                archive.extractall(scratch)
            yield Path(scratch)
    else:
        raise SnapshotError(
            f"{location}: no data package here (looked for datapackage.json, package/datapackage.json and {ZIP_NAME})"
        )


def previous_release(location: Path, excluding: str | None = None) -> Path | None:
    """What a release is compared with: `location` itself when it holds a
    package (a release, build or package directory), else the newest
    release in it (a dist/ directory), other than the version `excluding`;
    None when there is none yet (a first release)."""
    location = Path(location)
    if (
        (location / "datapackage.json").is_file()
        or (location / "package" / "datapackage.json").is_file()
        or (location / ZIP_NAME).is_file()
    ):
        return location
    return newest_release(location, excluding)


def changes_since(previous: Path, package_dir: Path, schema) -> tuple[list[dict], str]:
    """The `changes` rows of a package compared with a previous release (no
    commit), and that release's version."""
    with package_directory(previous) as old:
        _, version = descriptor_version(old)
        rows = change_rows(diff_packages(old, package_dir, schema), schema)
    return [{"change": number, "commit_hash": None, **row} for number, row in enumerate(rows, start=1)], version

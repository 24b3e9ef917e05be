"""Snapshots to compare: the data package of a build directory, a release
directory or a package directory."""

from __future__ import annotations

import json
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

from ..output.archive import ZIP_NAME


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


def descriptor_version(package_dir: Path) -> tuple[dict, str]:
    descriptor = json.loads((Path(package_dir) / "datapackage.json").read_text(encoding="utf-8"))
    return descriptor, descriptor.get("version", "")


def changes_since(previous: Path, package_dir: Path, schema) -> tuple[dict[str, list[dict]], str]:
    """The `changes` and `gap_events` rows of a package compared with a
    previous release (no commit), and that release's version."""
    # Here: csv-diff imports numpy (0.1 s), which a build compared with nothing
    # (every build that names SnapshotError) does not need.
    from .diff import change_rows, diff_packages
    from .gap_events import gap_event_row, gap_events

    with package_directory(previous) as old:
        _, version = descriptor_version(old)
        diffs = diff_packages(old, package_dir, schema)
    rows = change_rows(diffs, schema)
    return {
        "changes": [{"change": number, "commit_hash": None, **row} for number, row in enumerate(rows, start=1)],
        "gap_events": [gap_event_row(seq, None, None, e) for seq, e in enumerate(gap_events(diffs), start=1)],
    }, version

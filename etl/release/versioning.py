"""How far a release's version must move from the previous release's,
read from the difference between their data packages' schemas.

- major: a table or column removed (a rename is a removal and an addition),
  or a column's type narrowed (any change but a widening below);
- minor: a table or column added, or a type widened;
- patch: the data only.

Versions are `MAJOR.MINOR.PATCH+snapshot` (etl/version.py); the snapshot
part is build metadata and does not order releases.
"""

from __future__ import annotations

from pathlib import Path

from ..output.archive import ZIP_NAME

LEVELS = ("patch", "minor", "major")
# Every value of the first type is a valid value of the second.
WIDENINGS = {
    ("integer", "number"),
    ("integer", "string"),
    ("number", "string"),
    ("boolean", "string"),
    ("date", "string"),
    ("year", "integer"),
    ("year", "string"),
    ("array", "string"),
    ("object", "string"),
}


class VersionError(Exception):
    """A version that disagrees with the schema change."""


def base(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of 'M.m.p+build'."""
    core = version.split("+", 1)[0]
    try:
        major, minor, patch = (int(part) for part in core.split("."))
    except ValueError:
        raise VersionError(f"{version!r} is not a MAJOR.MINOR.PATCH version") from None
    return major, minor, patch


def schema_changes(old: dict, new: dict) -> list[tuple[str, str]]:
    """(level, what) for every difference between two package descriptors'
    tables and columns, in declaration order."""

    def fields(descriptor):
        return {
            r["name"]: {f["name"]: f.get("type", "any") for f in r.get("schema", {}).get("fields", [])}
            for r in descriptor["resources"]
        }

    before, after = fields(old), fields(new)
    changes = []
    for table, columns in before.items():
        if table not in after:
            changes.append(("major", f"table {table} removed"))
            continue
        for column, kind in columns.items():
            if column not in after[table]:
                changes.append(("major", f"column {table}.{column} removed"))
            elif after[table][column] != kind:
                widened = (kind, after[table][column]) in WIDENINGS
                changes.append(
                    (
                        "minor" if widened else "major",
                        f"column {table}.{column} {'widened' if widened else 'narrowed'} "
                        f"from {kind} to {after[table][column]}",
                    )
                )
        changes += [("minor", f"column {table}.{column} added") for column in after[table] if column not in columns]
    changes += [("minor", f"table {table} added") for table in after if table not in before]
    return changes


def change_level(changes: list[tuple[str, str]]) -> str:
    return max((level for level, _ in changes), key=LEVELS.index, default="patch")


def expected_versions(previous: str, level: str) -> list[tuple[int, int, int]]:
    """The versions a release may have after `previous`: the next major or
    minor version, or for data alone the same version or the next patch."""
    major, minor, patch = base(previous)
    if level == "major":
        return [(major + 1, 0, 0)]
    if level == "minor":
        return [(major, minor + 1, 0)]
    return [(major, minor, patch), (major, minor, patch + 1)]


def check_version(previous: str, current: str, changes: list[tuple[str, str]]) -> str:
    """The change level; a VersionError when `current` is not a version the
    schema change allows after `previous`."""
    level = change_level(changes)
    allowed = expected_versions(previous, level)
    if base(current) not in allowed:
        shown = " or ".join(".".join(map(str, v)) for v in allowed)
        reasons = "; ".join(what for lvl, what in changes if lvl == level) or "the data changed, the schema did not"
        raise VersionError(
            f"version {current.split('+')[0]} disagrees with the schema change since {previous.split('+')[0]}: "
            f"a {level} change ({reasons}), so the version must be {shown}; set it in pyproject.toml and rebuild"
        )
    return level


def newest_release(dist_dir: Path, excluding: str | None = None) -> Path | None:
    """The release directory in dist_dir with the highest version (the most
    recently written among equal versions), other than `excluding`."""
    found = []
    for directory in Path(dist_dir).iterdir() if Path(dist_dir).is_dir() else []:
        if (
            directory.name.startswith(".")
            or directory.name == excluding
            or not (directory / "datapackage.zip").is_file()
        ):
            continue
        try:
            found.append((base(directory.name), directory.stat().st_mtime, directory))
        except VersionError:
            continue
    return max(found)[2] if found else None


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

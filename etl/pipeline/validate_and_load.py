"""The package stage of a build: the descriptor written, the resources
that changed since the last valid build validated by frictionless on worker
processes, while this process loads (or patches) the SQLite database and a
thread zips the package."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..options import BuildOptions
from ..output.archive import ZIP_NAME, deflate_members, package_files, zip_package
from ..output.croissant import CroissantError, write_croissant
from ..output.csv_text import CsvSink
from ..output.descriptor import write_descriptor
from ..output.fingerprints import changed_resources, resource_fingerprints, resources_to_validate
from ..output.validation import PackageValidation
from .cache import CACHE_DIR, PageCache
from .outputs import BuildError, current_build, read_json

VALIDATED_FILE = "validated.json"  # in CACHE_DIR: what frictionless found valid in the last published build


@dataclass
class Loaded:
    counts: dict[str, int]  # rows per table in the database
    fingerprints: dict  # to record once published: what this build's resources were
    validated: list[str]  # the resources frictionless validated (the rest were unchanged)
    zip_segments: dict  # each page table's zip member's segments (etl/output/segments.py)


def validate_and_load(
    staging: Path,
    out_dir: Path,
    schema,
    package: dict,
    sink: CsvSink,
    cache: PageCache,
    options: BuildOptions,
    workers,
    segment_ends: dict,
) -> Loaded:
    """Validate, load and zip at once; a BuildError when the package is not valid."""
    from ..output.database import build_database, update_database  # here: `etl check` needs no sqlite-utils

    descriptor_path = write_descriptor(staging / "package", package)
    key_digests = {name: d.hexdigest() for name, d in sink.key_digests.items()}
    fingerprints = resource_fingerprints(package, staging / "package", key_digests)
    fingerprints.update(code=cache.directory.name, build=staging.name)
    # Beside the CSVs and before the zip, with the SHA-256 the fingerprints just took.
    digests = {name: entry["bytes"] for name, entry in fingerprints["resources"].items()}
    try:
        write_croissant(staging / "package", schema, package, digests)
    except CroissantError as error:
        raise BuildError(f"{error}; previous build kept") from None
    last_valid = read_json(out_dir / CACHE_DIR / VALIDATED_FILE)
    to_validate = resources_to_validate(package, fingerprints, last_valid)
    previous_database = _reusable_database(out_dir, last_valid, fingerprints)
    validation = PackageValidation(descriptor_path, options.processes, only=to_validate, workers=workers)
    # The zip is written meanwhile too (zlib works outside the GIL); it is
    # published only with a valid package.
    with ThreadPoolExecutor(1) as zipper:
        zipped = zipper.submit(_zip, staging, segment_ends)
        try:
            if previous_database is None:
                counts = build_database(staging / "package", staging / "agingkb.db", schema)
            else:
                changed = changed_resources(last_valid, fingerprints)
                counts = update_database(
                    previous_database, staging / "package", staging / "agingkb.db", schema, changed
                )
        except BaseException:
            validation.cancel()
            raise
        problems = validation.result()
        zip_segments = zipped.result()
    if problems:
        shown = "\n".join(problems[:50])
        raise BuildError(f"the data package is not valid ({len(problems)} problems); previous build kept\n{shown}")
    return Loaded(counts, fingerprints, to_validate, zip_segments)


def _zip(staging: Path, segment_ends: dict) -> dict:
    """The package's zip, its CSVs deflated first (page tables in segments);
    the segments of each member that has them."""
    package = staging / "package"
    deflated = deflate_members(package_files(package), staging, segment_ends)
    zip_package(package, staging / ZIP_NAME, deflated=deflated)
    shutil.rmtree(staging / ".deflated", ignore_errors=True)
    return {name: member.segments for name, member in deflated.items() if member.segments}


def _reusable_database(out_dir: Path, previous: dict | None, current: dict) -> Path | None:
    """The published database, when the fingerprints of the last valid build
    describe it (a build killed after publishing leaves older ones) and the
    same code made it; None means load a fresh one."""
    if not previous or previous.get("code") != current["code"]:
        return None
    current = current_build(out_dir)
    if current is None or current.name != previous.get("build"):
        return None
    database = out_dir / "agingkb.db"
    return database if database.exists() else None

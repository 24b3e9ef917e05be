"""The data package as one zip archive, the same bytes for the same package."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

ZIP_NAME = "datapackage.zip"  # beside the package directory, in a build and in a release

# Deflate level of the zip: level 4 compresses the package in half the
# time of the default 6 (0.9 against 1.8 s of CPU) for an archive 5% larger
# (20.8 against 19.9 MB); levels 1-3 are faster still but 11-20% larger.
ZIP_LEVEL = 4


NDJSON_ZIP = "ndjson.zip"  # a release's NDJSON files, which the app unpacks beside the package
# Descriptions of the package's files that travel with them: croissant.json
# names the same CSVs (etl/output/croissant.py); frictionless does not read it.
DESCRIPTIONS = ("croissant.json",)


def package_files(package_dir: Path) -> list[Path]:
    """datapackage.json, the files its resources name (each table's CSV
    and Parquet file: what frictionless validates) and croissant.json. The
    NDJSON files beside them are served downloads, not part of the package."""
    descriptor = package_dir / "datapackage.json"
    resources = json.loads(descriptor.read_text(encoding="utf-8"))["resources"]
    described = [package_dir / name for name in DESCRIPTIONS if (package_dir / name).is_file()]
    return sorted([descriptor, *described, *(package_dir / resource["path"] for resource in resources)])


def ndjson_files(package_dir: Path) -> list[Path]:
    """Each table's NDJSON file, as the build wrote it beside the package."""
    return sorted(package_dir.glob("*.ndjson"))


def zip_package(package_dir: Path, target: Path) -> None:
    """The data package as one zip (see zip_files)."""
    zip_files(package_files(package_dir), target)


def zip_files(paths: list[Path], target: Path) -> None:
    """paths as a zip with fixed timestamps, permissions and order, so the
    same files give one archive, byte for byte."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            info = zipfile.ZipInfo(path.name, date_time=(1980, 1, 1, 0, 0, 0))
            # Parquet is compressed inside (zstd): deflating it again gains little and costs time.
            info.compress_type = zipfile.ZIP_STORED if path.suffix == ".parquet" else zipfile.ZIP_DEFLATED
            info._compresslevel = ZIP_LEVEL  # open(info, "w") does not take the archive's level
            info.create_system = 3  # Unix, wherever the build runs
            info.external_attr = 0o644 << 16
            with open(path, "rb") as source, archive.open(info, "w") as entry:
                shutil.copyfileobj(source, entry, 1 << 20)

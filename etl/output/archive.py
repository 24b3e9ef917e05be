"""The data package as one zip archive, the same bytes for the same package."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from contextlib import ExitStack
from pathlib import Path

from .segments import Deflated, ReusableSegments, deflate_file

ZIP_NAME = "datapackage.zip"  # beside the package directory, in a build and in a release

# Deflate level of the zip: level 4 compresses the package in half the
# time of the default 6 (0.9 against 1.8 s of CPU) for an archive 5% larger
# (20.8 against 19.9 MB); levels 1-3 are faster still but 11-20% larger.
ZIP_LEVEL = 4
COPY_PIECE = 1 << 20  # bytes read at a time from a member of an earlier zip


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


def deflate_members(
    paths: list[Path],
    scratch: Path,
    segment_ends: dict[str, list] | None = None,
    reuse: tuple[Path, Path, dict] | None = None,
) -> dict[str, Deflated]:
    """Each CSV deflated as its zip member (Parquet is stored), into a file
    under scratch, so the zip is written later without waiting for it: a
    page table's in segments (`segment_ends`, etl/output/segments.py), the
    rest as one stream. `reuse` (an earlier zip, the package it zipped, its
    members' segments) gives the compressed bytes of unchanged segments."""
    folder = scratch / ".deflated"
    folder.mkdir(exist_ok=True)
    done = {}
    for path in paths:
        if path.suffix == ".parquet":
            continue
        ends = (segment_ends or {}).get(path.stem)
        reusable = None
        if ends is not None and reuse is not None and path.name in reuse[2]:
            old_zip, old_package, segments = reuse
            reusable = ReusableSegments(old_zip, old_package / path.name, segments[path.name])
        done[path.name] = deflate_file(path, folder / path.name, ZIP_LEVEL, ends, reusable)
    return done


def zip_package(
    package_dir: Path,
    target: Path,
    reuse: tuple[Path, set[str]] | None = None,
    deflated: dict[str, Deflated] | None = None,
) -> None:
    """The data package as one zip (see zip_files)."""
    zip_files(package_files(package_dir), target, reuse, deflated)


def zip_files(
    paths: list[Path],
    target: Path,
    reuse: tuple[Path, set[str]] | None = None,
    deflated: dict[str, Deflated] | None = None,
) -> None:
    """paths as a zip with fixed timestamps, permissions and order, so the
    same files give one archive, byte for byte. `reuse` names an earlier
    such zip and the members whose files have not changed since: those are
    copied from it as they are stored, not compressed again (the same
    bytes); `deflated` holds members deflated already (deflate_members)."""
    deflated = deflated or {}
    old_zip, unchanged = reuse if reuse is not None and reuse[0].is_file() else (None, set())
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive, ExitStack() as stack:
        old = stack.enter_context(zipfile.ZipFile(old_zip)) if old_zip is not None else None
        raw = stack.enter_context(open(old_zip, "rb")) if old_zip is not None else None
        for path in paths:
            if old is not None and path.name in unchanged and path.name in old.NameToInfo:
                _copy_member(archive, old.getinfo(path.name), raw)
                continue
            info = _member_info(path)
            if path.name in deflated:
                _write_deflated(archive, info, deflated[path.name])
                continue
            with open(path, "rb") as source, archive.open(info, "w") as entry:
                shutil.copyfileobj(source, entry, 1 << 20)


def _member_info(path: Path) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path.name, date_time=(1980, 1, 1, 0, 0, 0))
    # Parquet is compressed inside (zstd): deflating it again gains little and costs time.
    info.compress_type = zipfile.ZIP_STORED if path.suffix == ".parquet" else zipfile.ZIP_DEFLATED
    info._compresslevel = ZIP_LEVEL  # open(info, "w") does not take the archive's level
    info.create_system = 3  # Unix, wherever the build runs
    info.external_attr = 0o644 << 16
    return info


def _write_deflated(archive: zipfile.ZipFile, info: zipfile.ZipInfo, member: Deflated) -> None:
    """A member deflated ahead, written as archive.open(info, "w") writes
    one: the header it leaves (sizes and CRC filled in), then the stream."""
    info.CRC, info.file_size, info.compress_size = member.crc, member.size, member.compressed
    info.flag_bits = 0
    info.header_offset = archive.fp.tell()
    archive.fp.write(info.FileHeader(False))
    with open(member.path, "rb") as source:
        shutil.copyfileobj(source, archive.fp, 1 << 20)
    _appended(archive, info)


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, raw) -> None:
    """One member of another zip appended as stored there: its local header
    and compressed bytes, and its central-directory entry. Nothing in
    either depends on where in the archive the member lies but its offset."""
    raw.seek(info.header_offset)
    header = raw.read(30)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    info.header_offset = archive.fp.tell()
    archive.fp.write(header)
    # In pieces: at 100x the wiki one member is hundreds of MB.
    remaining = name_length + extra_length + info.compress_size
    while remaining > 0:
        piece = raw.read(min(remaining, COPY_PIECE))
        if not piece:
            raise EOFError(f"{info.filename}: the earlier zip ends inside the member")
        archive.fp.write(piece)
        remaining -= len(piece)
    _appended(archive, info)


def _appended(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A member written past zipfile's own writer, entered in its directory."""
    archive.start_dir = archive.fp.tell()
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info
    archive._didModify = True

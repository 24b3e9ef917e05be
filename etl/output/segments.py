"""A page table's CSV deflated for the zip in segments, so a build patched in
place deflates again only the pages it changed.

Deflate carries each byte's context over 32 KB; a member deflated as one
stream changes wholly with any byte of it. A page table's member is
therefore deflated as a run of segments, each by a fresh compressor ended
with a full flush (the last with the stream's end): the header, then the
rows of a few pages at a time. A segment ends after a page whose ID its
hash picks (one page in SEGMENT_PAGES), so segments are cut by which
pages they hold, not by sizes, and an edit leaves every other segment's
bytes and compressed bytes as they were. Readers see one ordinary deflate
stream; the member is 3-5% larger than one stream would be.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

SEGMENT_PAGES = 4  # pages per segment, on average
READ_PIECE = 1 << 20  # bytes deflated at a time


def ends_segment(page: str | None) -> bool:
    return page is not None and zlib.crc32(page.encode("utf-8")) % SEGMENT_PAGES == 0


class SegmentEnds:
    """Where each page table's segments end, taken as its pages' rows are
    written in page order: (the page, the byte offset after its rows,
    counted from the end of the header)."""

    def __init__(self):
        self.ends: dict[str, list[tuple[str, int]]] = {}
        self._at: dict[str, int] = {}

    def add(self, table: str, page: str | None, size: int) -> None:
        if not size:
            return
        at = self._at[table] = self._at.get(table, 0) + size
        if ends_segment(page):
            self.ends.setdefault(table, []).append((page, at))


@dataclass(frozen=True)
class Deflated:
    """A file deflated ahead of the zip that stores it."""

    path: Path  # the raw deflate stream
    crc: int
    size: int
    compressed: int
    # Of a segmented member, each segment: (the page it ends after, None for
    # the last; its end in the file; its compressed size).
    segments: list[tuple[str | None, int, int]] = field(default_factory=list)


def deflate_file(
    source: Path, target: Path, level: int, ends: list[tuple[str, int]] | None = None, reuse=None
) -> Deflated:
    """source deflated into target: as one stream, or (with `ends`, body
    offsets) in segments; `reuse` (a ReusableSegments) gives the compressed
    bytes of a segment whose bytes it held."""
    with open(source, "rb") as handle:
        data_size = handle.seek(0, 2)
        handle.seek(0)
        header = len(handle.readline()) if ends is not None else 0
    cuts = [(None, header)] if ends is not None else []
    cuts += [(page, header + at) for page, at in ends or () if header + at < data_size]
    cuts.append((None, data_size))
    crc, start, segments = 0, 0, []
    with open(source, "rb") as handle, open(target, "wb") as out:
        for position, (page, end) in enumerate(cuts):
            last = position == len(cuts) - 1
            if reuse is not None and not last:  # a segment: a few pages' rows, read once
                handle.seek(start)
                pieces = [handle.read(end - start)]
                stored = reuse.get(page, pieces[0])
            else:
                pieces, stored = _pieces(handle, start, end), None
            if stored is not None:
                crc = zlib.crc32(pieces[0], crc)
                out.write(stored)
                written = len(stored)
            else:
                crc, written = _deflated(pieces, out, level, last, crc)
            segments.append((page, end, written))
            start = end
    return Deflated(target, crc, data_size, target.stat().st_size, segments if ends is not None else [])


def _pieces(handle, start: int, end: int):
    """Bytes start..end of `handle`, READ_PIECE at a time: a member written
    whole is as large as its table."""
    handle.seek(start)
    while start < end:
        piece = handle.read(min(end - start, READ_PIECE))
        if not piece:
            raise EOFError(f"{handle.name} ends at byte {start}, before {end}")
        start += len(piece)
        yield piece


def _deflated(pieces, out, level: int, last: bool, crc: int) -> tuple[int, int]:
    """The pieces deflated onto `out` as one segment; its CRC carried on,
    and the compressed size."""
    compressor, written = zlib.compressobj(level, zlib.DEFLATED, -15), 0
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
        compressed = compressor.compress(piece)
        out.write(compressed)
        written += len(compressed)
    tail = compressor.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)
    out.write(tail)
    return crc, written + len(tail)


class ReusableSegments:
    """The segments of a member of an earlier zip, by the page each ends
    after: their bytes (in the earlier file) and their compressed bytes.
    `segments` are the member's, as Deflated.segments lists them."""

    def __init__(self, old_zip: Path, old_file: Path, segments: list[tuple[str | None, int, int]]):
        self.old_zip, self.old_file = old_zip, old_file
        with zipfile.ZipFile(old_zip) as archive:
            info = archive.getinfo(old_file.name)
        self.data_start = _data_start(old_zip, info)
        self.where: dict[str, tuple[int, int, int, int]] = {}  # page -> (start, end, compressed start, size)
        start, compressed = 0, 0
        for page, end, size in segments:
            if page is not None:
                self.where[page] = (start, end, compressed, size)
            start, compressed = end, compressed + size

    def get(self, page: str | None, block: bytes) -> bytes | None:
        if page not in self.where:
            return None
        start, end, compressed, size = self.where[page]
        if end - start != len(block):
            return None
        with open(self.old_file, "rb") as handle:
            handle.seek(start)
            if handle.read(end - start) != block:
                return None
        with open(self.old_zip, "rb") as handle:
            handle.seek(self.data_start + compressed)
            return handle.read(size)


def _data_start(path: Path, info: zipfile.ZipInfo) -> int:
    import struct

    with open(path, "rb") as handle:
        handle.seek(info.header_offset + 26)
        name_length, extra_length = struct.unpack("<HH", handle.read(4))
    return info.header_offset + 30 + name_length + extra_length

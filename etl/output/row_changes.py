"""The rows an edit changed in one table (a TableChange), found without
reading the rest of the table: a page table's CSV is spliced, the pages'
rows before and after the edited ones copied byte for byte from the last
build's file; a small table written whole is compared row by row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TableChange:
    """From row `start` (0-based, in CSV order) of a table, the rows `old`
    gave way to the rows `new` (cells as the CSV holds them); every other
    row is the same, in the same order."""

    table: str
    start: int
    old: list[list[str]]
    new: list[list[str]]

    @property
    def shift(self) -> int:
        """How far the rows after the change moved."""
        return len(self.new) - len(self.old)

    @property
    def differing(self) -> list[int]:
        """The new rows (by offset) that differ from the rows they replace:
        where as many rows came as went, each row is the one in its place
        before; else every new row."""
        if self.shift:
            return list(range(len(self.new)))
        return [offset for offset, (old, new) in enumerate(zip(self.old, self.new)) if old != new]


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def narrowed(table: str, start: int, old: list, new: list) -> TableChange | None:
    """The change of old into new at `start`, without the rows both begin
    and end with; None when they are the same."""
    head = 0
    while head < len(old) and head < len(new) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < len(old) - head and tail < len(new) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    if head == len(old) == len(new):
        return None
    return TableChange(table, start + head, old[head : len(old) - tail], new[head : len(new) - tail])


def changed_rows(table: str, old: Path, new: Path) -> TableChange | None:
    """narrowed() of two CSV files' bodies (after the header), each read a
    row at a time: a digest of every row finds the rows both begin and end
    with, and only the rows between are kept. Holding both bodies whole
    (trial_mentions at 100x the wiki: 90 MB each, twice over as text and
    rows) made the largest part of a patched build's join."""
    by_digest = narrowed(table, 0, _row_digests(old), _row_digests(new))
    if by_digest is None:
        return None  # the same rows
    start = by_digest.start
    old_rows = _rows_between(old, start, start + len(by_digest.old))
    return TableChange(table, start, old_rows, _rows_between(new, start, start + len(by_digest.new)))


def _body_rows(path: Path):
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        next(rows, None)  # the header
        yield from rows


def _row_digests(path: Path) -> list[bytes]:
    return [hashlib.blake2b(repr(row).encode("utf-8"), digest_size=16).digest() for row in _body_rows(path)]


def _rows_between(path: Path, start: int, end: int) -> list[list[str]]:
    return list(itertools.islice(_body_rows(path), start, end))


def copy_range(source, target, offset: int, length: int) -> None:
    """length bytes of the file `source` from offset appended to `target`
    (both binary files), in the kernel where it can."""
    target.flush()
    while length > 0:
        try:
            copied = os.copy_file_range(source.fileno(), target.fileno(), length, offset)
        except OSError:
            copied = 0
        if copied <= 0:  # not supported here: through this process
            source.seek(offset)
            data = source.read(min(length, 1 << 24))
            target.write(data)
            target.flush()
            copied = len(data)
        offset, length = offset + copied, length - copied


def splice(old_path: Path, new_path: Path, keep_before: int, replaced: int, text: bytes) -> None:
    """new_path: old_path with the `replaced` bytes after its first
    `keep_before` bytes given way to `text`."""
    size = old_path.stat().st_size
    with open(old_path, "rb") as source, open(new_path, "wb") as target:
        copy_range(source, target, 0, keep_before)
        target.write(text)
        copy_range(source, target, keep_before + replaced, size - keep_before - replaced)


def read_range(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)

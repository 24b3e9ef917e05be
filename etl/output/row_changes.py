"""The rows an edit changed in one table (a TableChange), found without
reading the rest of the table: a page table's CSV is spliced, the pages'
rows before and after the edited ones copied byte for byte from the last
build's file; a small table written whole is compared row by row.
"""

from __future__ import annotations

import csv
import io
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


def narrowed(table: str, start: int, old: list[list[str]], new: list[list[str]]) -> TableChange | None:
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


def changed_rows(table: str, old: bytes, new: bytes) -> TableChange | None:
    """narrowed() of two CSV bodies (rows as csv_text writes them), parsing
    only the rows between the bytes both begin and end with: parsing both
    whole held every row of both at once (for trial_mentions at 10x the
    wiki, 85 MB)."""
    if old == new:
        return None
    start = _row_start_at_or_before(old, _common_prefix(old, new))  # the same in new
    tail = _common_suffix(old, new, min(len(old), len(new)) - start)
    old_end = _row_start_after(old, len(old) - tail)
    new_end = len(new) - (len(old) - old_end)  # the same rows end both
    old_rows = csv_rows(old[start:old_end].decode("utf-8"))
    return narrowed(table, _rows_in(old, start), old_rows, csv_rows(new[start:new_end].decode("utf-8")))


def _common_prefix(a: bytes, b: bytes) -> int:
    low, high = 0, min(len(a), len(b))  # a[:low] == b[:low]; a[:high + 1] != b[:high + 1]
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: bytes, b: bytes, most: int) -> int:
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]:
            low = middle
        else:
            high = middle - 1
    return low


# A row of a CSV body starts at 0 and after each newline outside quotes:
# one with an even number of quote characters before it (a quoted cell's
# quotes come in pairs, its own quotes doubled), or, as the body's quotes
# are even in all, after it.


def _row_start_at_or_before(body: bytes, position: int) -> int:
    quotes = body.count(b'"', 0, position)
    newline = body.rfind(b"\n", 0, position)
    while newline >= 0:
        if (quotes - body.count(b'"', newline, position)) % 2 == 0:
            return newline + 1
        newline = body.rfind(b"\n", 0, newline)
    return 0


def _row_start_after(body: bytes, position: int) -> int:
    """The first row start past a newline at or after `position` (so
    found from the bytes after it alone), or the body's end."""
    quotes = body.count(b'"', position)
    newline = body.find(b"\n", position)
    while newline >= 0:
        if (quotes - body.count(b'"', position, newline)) % 2 == 0:
            return newline + 1
        newline = body.find(b"\n", newline + 1)
    return len(body)


def _rows_in(body: bytes, end: int) -> int:
    """How many rows body[:end] holds (end a row's start)."""
    if body.find(b'"', 0, end) < 0:
        return body.count(b"\n", 0, end)
    rows, quotes, at = 0, 0, 0
    while (newline := body.find(b"\n", at, end)) >= 0:
        quotes += body.count(b'"', at, newline)
        rows += quotes % 2 == 0
        at = newline + 1
    return rows


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

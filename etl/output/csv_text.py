"""Rows as CSV text: one cell (serialise), a table's rows (table_text, and
back with read_table_text), and the open CSV file of every table (CsvSink)
that a build writes them into as they arrive.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ..schema import Schema, Table

csv.field_size_limit(sys.maxsize)

# Rows made into text at a time by CsvSink.write().
ROWS_PER_WRITE = 2000


def serialise(value) -> str:
    """One CSV cell. Empty string is the only missing value; booleans are
    1 and 0, as SQLite stores them and Datasette's CSV export writes them
    (the Table Schema declares them as trueValues and falseValues)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class TableText:
    """Rows of one table as its CSV holds them: their lines, how many there
    are, and their primary keys as the key digest reads them. A worker
    makes it for each page, so the build only writes text."""

    lines: str
    count: int
    keys: str


def table_slices(table: Table, rows: list[dict]):
    """The rows as a build writes them, ROWS_PER_WRITE at a time: a corpus
    table (works, authors at 10x the wiki) made into text whole would hold
    a copy of itself for a moment."""
    for start in range(0, len(rows), ROWS_PER_WRITE):
        yield table_text(table, rows[start : start + ROWS_PER_WRITE])


def table_text(table: Table, rows: list[dict]) -> TableText:
    names = table.column_names
    declared = set(names)
    key_positions = [names.index(key) for key in table.primary_key]
    cell_rows = []
    for row in rows:
        if row.keys() != declared:
            missing, extra = declared - set(row), set(row) - declared
            raise ValueError(
                f"{table.name} row does not match its declaration: missing {sorted(missing)}, extra {sorted(extra)}"
            )
        cell_rows.append(
            [value if value.__class__ is str else serialise(value) for value in map(row.__getitem__, names)]
        )
    keys = "".join("\x1f".join(cells[position] for position in key_positions) + "\x1e" for cells in cell_rows)
    return TableText(csv_lines(cell_rows), len(rows), keys)


def _quoted(cell: str) -> str:
    # As csv.writer quotes (QUOTE_MINIMAL, lineterminator "\n"): a cell holding
    # the delimiter, the quote character or the line terminator.
    return '"' + cell.replace('"', '""') + '"' if '"' in cell or "," in cell or "\n" in cell else cell


def csv_lines(cell_rows: list[list[str]]) -> str:
    """The lines csv.writer(lineterminator="\n") writes for rows of text
    cells. Its writer copies a cell character by character (70 MB/s on
    page bodies); str's own searches and joins are 3-10 times faster. A
    row of one empty cell, which the writer quotes, is left to it."""
    if cell_rows and len(cell_rows[0]) == 1:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(cell_rows)
        return buffer.getvalue()
    return "".join([",".join(map(_quoted, cells)) + "\n" for cells in cell_rows])


def read_table_text(table: Table, text: TableText) -> list[dict[str, str]]:
    """The rows of a TableText as cells by column name."""
    return [dict(zip(table.column_names, cells)) for cells in csv.reader(io.StringIO(text.lines))]


class CsvSink:
    """One open CSV file per table; rows are written as they arrive."""

    def __init__(self, directory: Path, schema: Schema):
        self.directory = directory
        self.schema = schema
        self.files = {}
        self.counts = {name: 0 for name in schema.tables}
        # A digest of each table's primary keys in order: what a foreign key
        # to the table may see (fingerprints.resources_to_validate).
        self.key_digests = {name: hashlib.sha256() for name in schema.tables}
        directory.mkdir(parents=True, exist_ok=True)
        for name, table in schema.tables.items():
            handle = open(directory / f"{name}.csv", "w", encoding="utf-8", newline="")
            csv.writer(handle, lineterminator="\n").writerow(table.column_names)
            self.files[name] = handle

    def write(self, table_name: str, rows: list[dict]) -> None:
        for text in table_slices(self.schema.tables[table_name], rows):
            self.write_text(table_name, text)

    def write_text(self, table_name: str, text: TableText) -> None:
        self.files[table_name].write(text.lines)
        self.key_digests[table_name].update(text.keys.encode())
        self.counts[table_name] += text.count

    def flush(self) -> None:
        """Put what was written so far on disk, for a reader of the files."""
        for handle in self.files.values():
            handle.flush()

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()

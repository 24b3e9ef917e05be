"""Typed copies of every table beside its CSV: one Parquet file (listed in
datapackage.json and zipped with the package) and one newline-delimited
JSON file (served as a download, kept out of the package and the zip: the
package is what frictionless validates, and it reads no typed NDJSON).

Both are made from the CSV the build wrote, read back with the Arrow type
the declaration gives each column (ARROW_TYPES), so they hold the same rows
as the CSV in the same order. A cell that does not read as its declared
type, or a declared type Parquet cannot hold, is a ParquetTypeError naming
the table and column. The files hold no timestamps: one package gives the
same bytes every time (the zip and the release stay reproducible).
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ..schema import Column, Schema, Table
from ..wiki.discover import file_sha256

# Declared column type -> Arrow type; arrays by their items (Column.items).
ARROW_TYPES = {
    "string": pa.string(),
    "text": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "object": pa.json_(),  # JSON text; Parquet's JSON logical type, DuckDB's JSON
}
ARRAY_ITEMS = {"string": pa.list_(pa.string()), "array": pa.list_(pa.list_(pa.string()))}
# An enum with more values than this is stored as plain strings.
DICTIONARY_LIMIT = 1000
COMPRESSION = "zstd"  # read by DuckDB, pandas (pyarrow), R arrow and DuckDB-WASM
# Level 3 makes the files 14% smaller than the default 1 for 20% more time (the 4 largest tables:
# 15.1 against 17.4 MB, 0.39 against 0.32 s); level 6 saves 8% more for twice the time.
COMPRESSION_LEVEL = 3
NDJSON_ROWS_PER_BATCH = 256
# CSV bytes read at a time: a row group of the Parquet file each.
CSV_BLOCK = 16 << 20
# Blocks Arrow's CSV reader may read before the one being written is done
# (it reads one past a batch to end the batch's last row).
BLOCKS_AHEAD = 2


class ParquetTypeError(ValueError):
    """A column whose declared type or cells Parquet cannot hold as declared."""


@dataclass(frozen=True)
class TypedFile:
    """One written file: its name in the package directory, size and SHA-256."""

    name: str
    bytes: int
    sha256: str


def arrow_type(table: Table, column: Column) -> pa.DataType:
    if column.type == "array":
        if column.items not in ARRAY_ITEMS:
            raise ParquetTypeError(
                f"table {table.name}, column {column.name}: arrays of {column.items!r} have no Parquet type "
                f"(items may be {', '.join(ARRAY_ITEMS)})"
            )
        return ARRAY_ITEMS[column.items]
    if column.type not in ARROW_TYPES:
        raise ParquetTypeError(f"table {table.name}, column {column.name}: type {column.type!r} has no Parquet type")
    enumerated = column.vocabulary or (column.enum and len(column.enum) <= DICTIONARY_LIMIT)
    if column.type in ("string", "text") and enumerated:
        return pa.dictionary(pa.int32(), pa.string())
    return ARROW_TYPES[column.type]


def arrow_schema(table: Table) -> pa.Schema:
    """The table's Arrow schema: declared types, required columns not nullable."""
    return pa.schema([pa.field(c.name, arrow_type(table, c), nullable=not c.required) for c in table.columns])


class _PacedCsv:
    """A CSV file that Arrow's streaming reader reads at most BLOCKS_AHEAD
    blocks ahead of the batch being written. On its own, the reader queues
    up to 32 blocks (512 MB) on an I/O thread: the whole of a 10x wiki's
    pages.csv, a third of a 100x one's. The blocks, and so the row groups,
    are the ones it reads from the path."""

    def __init__(self, path: Path):
        self._file = open(path, "rb")
        self._permits = threading.Semaphore(BLOCKS_AHEAD)
        self._stopped = False

    def read(self, size: int = -1) -> bytes:
        self._permits.acquire()  # on Arrow's I/O thread, until a batch is done
        return b"" if self._stopped else self._file.read(size)

    def batch_done(self) -> None:
        self._permits.release()

    def readable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        # A reader left before the end must not wait for a permit forever.
        self._stopped = True
        self._permits.release(BLOCKS_AHEAD + 1)
        self._file.close()


def read_typed(path: Path, table: Table) -> Iterator[pa.RecordBatch]:
    """A package CSV as record batches of the declared Arrow types, read a
    block at a time (a table is never whole in memory: a 100x wiki's
    largest CSV is 2 GB). Empty cells are nulls (the package's one missing
    value), booleans 1 and 0, arrays and objects JSON text."""
    schema = arrow_schema(table)
    as_read = {
        f.name: pa.string() if pa.types.is_list(f.type) or isinstance(f.type, pa.BaseExtensionType) else f.type
        for f in schema
    }
    options = pa_csv.ConvertOptions(
        column_types=as_read,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        true_values=["1"],
        false_values=["0"],
    )
    parse = pa_csv.ParseOptions(newlines_in_values=True)
    paced = _PacedCsv(path)
    try:
        reader = pa_csv.open_csv(paced, pa_csv.ReadOptions(block_size=CSV_BLOCK), parse, options)
        if reader.schema.names != table.column_names:
            raise ParquetTypeError(f"table {table.name}: {path.name} has columns {reader.schema.names}")
        for batch in reader:
            columns = [_typed_column(table, field, batch.column(field.name)) for field in schema]
            yield pa.RecordBatch.from_arrays(columns, schema=schema)
            paced.batch_done()
    except pa.ArrowInvalid as error:
        # pyarrow names the column by position ("In CSV column #3: ...").
        position = re.search(r"column #(\d+)", str(error))
        column = f", column {table.column_names[int(position.group(1))]}" if position else ""
        raise ParquetTypeError(f"table {table.name}{column}: a cell is not of its declared type: {error}") from None
    finally:
        paced.close()


def _typed_column(table: Table, field: pa.Field, cells: pa.Array) -> pa.Array:
    if not field.nullable and cells.null_count:
        empty = cells.null_count
        raise ParquetTypeError(f"table {table.name}, column {field.name}: {empty} empty cells in a required column")
    if isinstance(field.type, pa.BaseExtensionType):
        return pa.ExtensionArray.from_storage(field.type, cells)
    if not pa.types.is_list(field.type):
        return cells
    try:
        return pa.array([None if text is None else json.loads(text) for text in cells.to_pylist()], type=field.type)
    except (ValueError, TypeError, pa.ArrowException) as error:
        raise ParquetTypeError(f"table {table.name}, column {field.name}: not {field.type}: {error}") from None


def write_parquet(batches: Iterable[pa.RecordBatch], schema: pa.Schema, path: Path, ndjson: Path | None = None) -> None:
    """The batches as one Parquet file, a row group per CSV block, and as
    `ndjson` (see _ndjson_lines) when given, in the same pass. No creation
    time is written; the writer's version is, and pyproject pins it."""
    options = {"compression": COMPRESSION, "compression_level": COMPRESSION_LEVEL, "store_schema": True}
    with ExitStack() as files:
        writer = files.enter_context(pq.ParquetWriter(path, schema, **options))
        lines = files.enter_context(open(ndjson, "w", encoding="utf-8", newline="\n")) if ndjson else None
        for batch in batches:
            writer.write_batch(batch)
            if lines is not None:
                # Line by line: a batch joined into one string held pages.ndjson
                # several times over (150 MB more at the peak).
                lines.writelines(_ndjson_lines(schema, _slices(batch, NDJSON_ROWS_PER_BATCH)))


def _slices(batch: pa.RecordBatch, rows: int) -> Iterator[pa.RecordBatch]:
    # Views, not copies: a block's rows become Python objects a slice at a time.
    for offset in range(0, batch.num_rows, rows):
        yield batch.slice(offset, rows)


# What json.dumps(value, ensure_ascii=False) writes, a column at a time:
# the encoder's own functions, without a dictionary made for every row.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def _column_json(kind: pa.DataType, values: list) -> list[str]:
    if pa.types.is_string(kind) or pa.types.is_dictionary(kind):
        return ["null" if v is None else encode_basestring(v) for v in values]
    if pa.types.is_integer(kind):
        return ["null" if v is None else int.__repr__(v) for v in values]
    if pa.types.is_boolean(kind):
        return ["null" if v is None else ("true" if v else "false") for v in values]
    if pa.types.is_date(kind):
        return ["null" if v is None else '"' + v.isoformat() + '"' for v in values]
    if isinstance(kind, pa.JsonType):  # JSON text, written again as the encoder writes it
        return ["null" if v is None else _ENCODE(json.loads(v)) for v in values]
    return [_ENCODE(v) for v in values]  # numbers and arrays


def _ndjson_lines(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[str]:
    """One JSON object a line, as json.dumps(row, ensure_ascii=False)
    writes it, typed: booleans true/false, numbers as numbers, dates as ISO
    text, arrays and objects as JSON, nulls as null."""
    template = "{" + ", ".join(encode_basestring(f.name).replace("%", "%%") + ": %s" for f in schema) + "}\n"
    for batch in batches:
        columns = [_column_json(field.type, batch.column(i).to_pylist()) for i, field in enumerate(schema)]
        for row in zip(*columns):
            yield template % row


def _line_offset(path: Path, lines: int) -> int:
    """Where line number `lines` (0-based) of a text file starts."""
    offset, seen = 0, 0
    with open(path, "rb") as handle:
        while seen < lines:
            block = handle.read(1 << 20)
            if not block:
                raise ValueError(f"{path} has {seen} lines, not {lines}")
            count = block.count(b"\n")
            if seen + count < lines:
                seen, offset = seen + count, offset + len(block)
                continue
            position = -1
            for _ in range(lines - seen):
                position = block.index(b"\n", position + 1)
            return offset + position + 1
    return offset


def splice_ndjson(package_dir: Path, previous_dir: Path, table: Table, start: int, old: int, new_rows) -> float:
    """A table's NDJSON file made from the previous build's: its lines from
    row `start` on, `old` of them, give way to `new_rows` (CSV cells), read
    with the types read_typed gives the table's CSV and written as
    write_ndjson writes them (so it needs no Parquet file); the CPU
    seconds it took."""
    from .row_changes import splice

    begin = time.process_time()
    with tempfile.TemporaryDirectory(dir=package_dir.parent, prefix=".ndjson-") as scratch:
        rows_path = Path(scratch) / f"{table.name}.csv"
        with open(rows_path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(table.column_names)
            writer.writerows(new_rows)
        text = "".join(_ndjson_lines(arrow_schema(table), read_typed(rows_path, table))).encode("utf-8")
    old_path = previous_dir / f"{table.name}.ndjson"
    keep = _line_offset(old_path, start)
    replaced = _line_offset(old_path, start + old) - keep
    splice(old_path, package_dir / f"{table.name}.ndjson", keep, replaced, text)
    return time.process_time() - begin


def write_table_parquet(package_dir: Path, table: Table, ndjson: bool = True) -> tuple[TypedFile, float]:
    """One table's Parquet file beside its CSV (on a build worker), its
    NDJSON file too unless `ndjson` is false (an edit splices that one),
    and the CPU seconds it took. Both come from one reading of the CSV."""
    start = time.process_time()
    path = package_dir / f"{table.name}.parquet"
    lines = package_dir / f"{table.name}.ndjson" if ndjson else None
    write_parquet(read_typed(package_dir / f"{table.name}.csv", table), arrow_schema(table), path, lines)
    typed = TypedFile(path.name, path.stat().st_size, file_sha256(path))
    pa.default_memory_pool().release_unused()  # kept otherwise by the worker that validates next
    return typed, time.process_time() - start


def _largest_first(package_dir: Path, tables) -> list[Table]:
    # Each worker takes the next table as it finishes one, so they finish together.
    return sorted(tables, key=lambda t: -(package_dir / f"{t.name}.csv").stat().st_size)


class ParquetFiles:
    """Every table's Parquet and NDJSON files, written on `workers` (a
    process pool) or here. start() may be given the tables whose CSV is
    complete while the build still writes others (the pages' tables, during
    the corpus stage); result() writes the rest, and again any table whose
    row count changed since it was started."""

    def __init__(self, package_dir: Path, schema: Schema, workers=None):
        self.package_dir, self.schema, self.workers = package_dir, schema, workers
        self.started: dict[str, tuple[int, object]] = {}  # table -> (its rows then, its task)

    def start(self, names: list[str], counts: dict[str, int]) -> None:
        if self.workers is None:
            return
        for table in _largest_first(self.package_dir, [self.schema.tables[name] for name in names]):
            task = self.workers.apply_async(write_table_parquet, (self.package_dir, table))
            self.started[table.name] = (counts[table.name], task)

    def result(self, counts: dict[str, int]) -> tuple[dict[str, TypedFile], float]:
        """Table name -> its file, in declaration order, and the CPU seconds."""
        if self.workers is None:
            tables = _largest_first(self.package_dir, self.schema.tables.values())
            done = {table.name: write_table_parquet(self.package_dir, table) for table in tables}
        else:
            stale = [name for name, (rows, _) in self.started.items() if rows != counts[name]]
            for name in stale:  # finished before its file is written again
                self.started.pop(name)[1].wait()
            self.start([name for name in self.schema.tables if name not in self.started], counts)
            done = {name: self.started[name][1].get() for name in self.schema.tables}
        return {name: done[name][0] for name in self.schema.tables}, sum(seconds for _, seconds in done.values())

"""SQLite stage: load the package's CSV files into a SQLite database with
sqlite-utils, typed from the same declaration, with keys, indexes and FTS.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import sqlite_utils

from .schema import Schema, Table

csv.field_size_limit(sys.maxsize)



def _converters(table: Table):
    def convert(column_type):
        if column_type == "integer":
            return int
        if column_type == "number":
            return float
        if column_type == "boolean":
            return lambda v: 1 if v == "true" else 0
        return str

    return [(c.name, convert(c.type)) for c in table.columns]


def read_rows(path: Path, table: Table):
    """Typed rows from a package CSV, as tuples in declared column order;
    empty cells become NULL."""
    converters = [convert for _, convert in _converters(table)]
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header != table.column_names:
            raise ValueError(f"{path}: header does not match the declaration of {table.name}")
        for cells in reader:
            yield tuple(None if cell == "" else convert(cell) for convert, cell in zip(converters, cells))


def creation_order(schema: Schema) -> list[str]:
    """Tables ordered so every foreign key points at a table created earlier."""
    ordered, seen = [], set()

    def visit(name, trail=()):
        if name in seen:
            return
        if name in trail:
            raise ValueError(f"foreign-key cycle through {name}")
        for fk in schema.tables[name].foreign_keys:
            if fk.table != name:
                visit(fk.table, trail + (name,))
        seen.add(name)
        ordered.append(name)

    for name in schema.tables:
        visit(name)
    return ordered


def build_database(package_dir: Path, db_path: Path, schema: Schema) -> dict[str, int]:
    """Create db_path from the package CSVs. Returns rows per table."""
    if db_path.exists():
        db_path.unlink()
    db = sqlite_utils.Database(db_path)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    counts = {}
    for name in creation_order(schema):
        table = schema.tables[name]
        db[name].create(
            table.sqlite_columns(),
            pk=table.primary_key[0] if len(table.primary_key) == 1 else tuple(table.primary_key),
            not_null={c.name for c in table.columns if c.required},
            foreign_keys=[(fk.fields[0], fk.table, fk.reference[0]) for fk in table.foreign_keys],
        )
        # Plain executemany in one transaction: sqlite-utils makes the
        # schema, indexes and FTS, where its convenience costs little.
        columns = ", ".join(f"[{c}]" for c in table.column_names)
        with db.conn:
            db.conn.executemany(f"insert into [{name}] ({columns}) values ({', '.join('?' * len(table.column_names))})", read_rows(package_dir / f"{name}.csv", table))
        counts[name] = db[name].count
    for name in schema.tables:
        table = schema.tables[name]
        indexed = set()
        for column in table.facets + [c for fk in table.foreign_keys for c in fk.fields]:
            if column not in indexed and [column] != table.primary_key[:1]:
                db[name].create_index([column], if_not_exists=True)
                indexed.add(column)
        if table.fts:
            db[name].enable_fts(table.fts, tokenize="porter", create_triggers=False)
    db.execute("ANALYZE")
    db.conn.commit()
    db.vacuum()
    db.close()
    return counts

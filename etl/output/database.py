"""SQLite stage: load the package's CSV files into a SQLite database with
sqlite-utils, typed from the same declaration, with keys, indexes and FTS.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import sys
from pathlib import Path

from ..schema import Schema, Table

csv.field_size_limit(sys.maxsize)


def _converters(table: Table):
    def convert(column_type):
        if column_type == "integer":
            return int
        if column_type == "number":
            return float
        if column_type == "boolean":
            return lambda v: 1 if v == "1" else 0
        return str

    return [(c.name, convert(c.type)) for c in table.columns]


def converter(table: Table):
    """A function from one CSV cell row to SQLite values in declared column
    order; empty cells become NULL."""
    # Text cells need no conversion: only the other columns are visited.
    typed = [(position, convert) for position, (_, convert) in enumerate(_converters(table)) if convert is not str]

    def convert_row(cells):
        row = [cell or None for cell in cells]
        for position, convert in typed:
            if row[position] is not None:
                row[position] = convert(row[position])
        return row

    return convert_row


def typed_rows(table: Table, rows):
    """CSV cell rows as SQLite values (see converter)."""
    return map(converter(table), rows)


def read_rows(path: Path, table: Table):
    """Typed rows from a package CSV, as lists in declared column order."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header != table.column_names:
            raise ValueError(f"{path}: header does not match the declaration of {table.name}")
        yield from typed_rows(table, reader)


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
    db = _open_for_loading(db_path)
    counts = {}
    for name in creation_order(schema):
        table = schema.tables[name]
        db[name].create(
            table.sqlite_columns(),
            pk=table.primary_key[0] if len(table.primary_key) == 1 else tuple(table.primary_key),
            not_null={c.name for c in table.columns if c.required},
            foreign_keys=[(fk.fields[0], fk.table, fk.reference[0]) for fk in table.foreign_keys],
        )
        with db.conn:
            _insert_rows(db, table, package_dir)
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
    _finish(db)
    return counts


def _open_for_loading(db_path: Path):
    import sqlite_utils  # here: patching a database row by row needs only sqlite3 (and pandas loads with it)

    # A build writes into its own staging file: a crash loses only that file.
    db = sqlite_utils.Database(db_path)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    return db


def _finish(db) -> None:
    db.execute("ANALYZE")
    db.conn.commit()
    # Only deleted rows leave free pages behind: none after a fresh load, and
    # few after a patch, whose new rows reuse the pages the old ones freed
    # (395 of 28,978 after a one-page edit). VACUUM rewrites the whole file
    # (0.5 s), so it runs only when a tenth of the file is free.
    free, pages = db.execute("PRAGMA freelist_count").fetchone()[0], db.execute("PRAGMA page_count").fetchone()[0]
    if free * 10 > pages:
        db.vacuum()
    db.close()


def canonical_copy(source: Path, target: Path) -> None:
    """target: the database in source written afresh (VACUUM INTO), so its
    bytes depend on its rows alone, not on how the build got there: a build
    patched in place (update_database) keeps free pages and pages in the
    order they were reused, while VACUUM INTO writes every table and index
    page by page in rowid and key order, its full-text indexes rebuilt
    (_rebuild_full_text). Rowids need no renumbering: both
    paths load each table into an empty table in CSV order, so a row's rowid
    is its CSV line; a table whose rowids are not 1..n was loaded otherwise,
    and is refused rather than released with bytes a fresh build would not give."""
    target.unlink(missing_ok=True)
    connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        for name in _rowid_tables(connection):
            count, highest = connection.execute(f"select count(*), coalesce(max(rowid), 0) from [{name}]").fetchone()
            if count != highest:
                raise ValueError(f"{source}: table {name} has rowids other than 1..{count}; rebuild it from scratch")
        connection.execute("VACUUM INTO ?", (str(target),))
    finally:
        connection.close()
    _rebuild_full_text(target)


def _rebuild_full_text(path: Path) -> None:
    """Every full-text index rebuilt from its table, the statistics taken
    again, and the file written afresh: an index kept row by row by a build
    patched in place holds the same rows in other segments, so the copy
    gets the index a fresh build's copy gets, byte for byte."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        entries = connection.execute("select name, sql from sqlite_master where type = 'table'").fetchall()
        indexes = [
            name for name, sql in entries if sql.upper().startswith("CREATE VIRTUAL TABLE") and "FTS5" in sql.upper()
        ]
        for name in indexes:
            connection.execute(f"insert into [{name}]([{name}]) values ('rebuild')")
        # Whole: a patched build analysed its changed tables again, which
        # moved their statistics' rows to the end of sqlite_stat1.
        connection.execute("ANALYZE")
        connection.execute("VACUUM")
    finally:
        connection.close()


def _rowid_tables(connection) -> list[str]:
    """The tables whose rows are numbered by load order: not FTS tables and
    their shadow tables (numbered by FTS itself), not SQLite's own, not a
    table whose INTEGER PRIMARY KEY is its rowid (numbered by its data)."""
    entries = connection.execute("select name, sql from sqlite_master where type = 'table'").fetchall()
    virtual = [name for name, sql in entries if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    names = []
    for name, sql in entries:
        if (
            name.startswith("sqlite_")
            or "WITHOUT ROWID" in sql.upper()
            or any(name == v or name.startswith(v + "_") for v in virtual)
        ):
            continue
        keys = [row for row in connection.execute(f"pragma table_info([{name}])") if row[5]]
        if not (len(keys) == 1 and keys[0][2].upper() == "INTEGER"):
            names.append(name)
    return names


def _insert_rows(db, table: Table, package_dir: Path) -> None:
    # Plain executemany in one transaction: sqlite-utils makes the schema,
    # indexes and FTS, where its convenience costs little.
    columns = ", ".join(f"[{c}]" for c in table.column_names)
    placeholders = ", ".join("?" * len(table.column_names))
    db.conn.executemany(
        f"insert into [{table.name}] ({columns}) values ({placeholders})",
        read_rows(package_dir / f"{table.name}.csv", table),
    )


def update_database(
    previous: Path, package_dir: Path, db_path: Path, schema: Schema, changed: set[str]
) -> dict[str, int]:
    """db_path with the same tables build_database() would make, from a copy
    of the previous build's database (same code, same schema) in which only
    the `changed` tables are emptied and loaded again. Rows go in in CSV
    order into an emptied table, so each gets the rowid a fresh load gives;
    full-text indexes of reloaded tables are rebuilt from their content."""
    shutil.copyfile(previous, db_path)
    if not changed:  # the same file, byte for byte
        connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return {
                name: connection.execute(f"select count(*) from [{name}]").fetchone()[0]
                for name in creation_order(schema)
            }
        finally:
            connection.close()
    db = _open_for_loading(db_path)
    for name in creation_order(schema):
        if name not in changed:
            continue
        table = schema.tables[name]
        with db.conn:
            db.conn.execute(f"delete from [{name}]")
            _insert_rows(db, table, package_dir)
            if table.fts:
                db.conn.execute(f"insert into [{name}_fts]([{name}_fts]) values ('rebuild')")
    counts = {name: db[name].count for name in creation_order(schema)}
    _finish(db)
    return counts

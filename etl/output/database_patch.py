"""An edit's rows written into a copy of the last build's database, row by
row (etl/pipeline/patch.py): the changed rows deleted and inserted again
at the rowids a fresh load gives them (a row's rowid is its CSV line), the
rows after them moved when the edit changed how many there are, and each
table's full-text index told of every row that left or came.

Full-text indexes so kept hold the same rows with the same terms as a
fresh build's, in other segments: equal by content (FTS5 integrity-check,
the same answers in the same rank order), not by bytes. Every other table
holds what a fresh load gives.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from ..schema import Schema, Table
from .database import converter, creation_order, typed_rows
from .row_changes import TableChange


def patch_database(previous: Path, db_path: Path, schema: Schema, changes: dict[str, TableChange]) -> dict[str, int]:
    """db_path: the previous database with `changes` made. Rows per table."""
    shutil.copyfile(previous, db_path)
    connection = sqlite3.connect(db_path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("BEGIN")
        for name in creation_order(schema):
            if name in changes:
                _patch_table(connection, schema.tables[name], changes[name])
        connection.execute("COMMIT")
        for name in changes:  # statistics a fresh build's ANALYZE gives these tables and their indexes
            connection.execute(f"ANALYZE [{name}]")
            if schema.tables[name].fts:
                for part in ("data", "idx", "docsize", "config"):
                    connection.execute(f"ANALYZE [{name}_fts_{part}]")
        return {
            name: connection.execute(f"select count(*) from [{name}]").fetchone()[0] for name in creation_order(schema)
        }
    finally:
        connection.close()


def _patch_table(connection, table: Table, change: TableChange) -> None:
    if _rowid_is_key(connection, table.name):
        raise ValueError(f"table {table.name}: rows numbered by their key are not patched in place")
    if not change.shift:
        _update_in_place(connection, table, change)
        return
    columns = ", ".join(f"[{c}]" for c in table.column_names)
    first, last = change.start + 1, change.start + len(change.old)  # the old rows' rowids
    moved = connection.execute(f"select count(*) from [{table.name}] where rowid > ?", (last,)).fetchone()[0]
    if table.fts:
        # The index forgets the rows that leave and those that move.
        _index(connection, table, "delete", first, last + (moved if change.shift else 0))
    connection.execute(f"delete from [{table.name}] where rowid between ? and ?", (first, last))
    if change.shift and moved:
        # Through negative rowids, so no moved row lands on one not yet moved.
        connection.execute(f"update [{table.name}] set rowid = -rowid where rowid > ?", (last,))
        connection.execute(f"update [{table.name}] set rowid = ? - rowid where rowid < 0", (change.shift,))
    placeholders = ", ".join("?" * (len(table.column_names) + 1))
    connection.executemany(
        f"insert into [{table.name}] (rowid, {columns}) values ({placeholders})",
        ([first + offset, *row] for offset, row in enumerate(typed_rows(table, change.new))),
    )
    if table.fts:
        end = first + len(change.new) - 1
        _index(connection, table, "insert", first, end + (moved if change.shift else 0))


def _update_in_place(connection, table: Table, change: TableChange) -> None:
    """As many rows came as went: each differing one rewritten where it is."""
    convert = converter(table)
    rowids = [change.start + 1 + offset for offset in change.differing]
    assignments = ", ".join(f"[{c}] = ?" for c in table.column_names)
    for rowid in rowids if table.fts else ():
        _index(connection, table, "delete", rowid, rowid)
    connection.executemany(
        f"update [{table.name}] set {assignments} where rowid = ?",
        ([*convert(change.new[rowid - change.start - 1]), rowid] for rowid in rowids),
    )
    for rowid in rowids if table.fts else ():
        _index(connection, table, "insert", rowid, rowid)


def _index(connection, table: Table, command: str, first: int, last: int) -> None:
    """The full-text index told of the rows first..last as the table holds them now."""
    if last < first:
        return
    fts, columns = f"{table.name}_fts", ", ".join(f"[{c}]" for c in table.fts)
    if command == "delete":
        connection.execute(
            f"insert into [{fts}] ([{fts}], rowid, {columns}) "
            f"select 'delete', rowid, {columns} from [{table.name}] where rowid between ? and ?",
            (first, last),
        )
    else:
        connection.execute(
            f"insert into [{fts}] (rowid, {columns}) "
            f"select rowid, {columns} from [{table.name}] where rowid between ? and ?",
            (first, last),
        )


def _rowid_is_key(connection, name: str) -> bool:
    keys = [row for row in connection.execute(f"pragma table_info([{name}])") if row[5]]
    return len(keys) == 1 and keys[0][2].upper() == "INTEGER"

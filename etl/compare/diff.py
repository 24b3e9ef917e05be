"""Row-level differences between two snapshots of the dataset.

Rows are matched by each table's stable key (`diff` in data/tables.yml):
facts such as a footnote's label or a gap's tag and claim, never a position,
so inserting a footnote shows as one footnote added and not as every later
one changed. Rows sharing a key are matched in their order. The comparison
of matched rows is csv-diff's (`csv_diff.compare`), on the columns that hold
facts (`Table.compared_columns`); cells are compared as the package's CSV
writes them.

Pure apart from `read_table`: works on rows (dicts of CSV cells).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from csv_diff import compare

from ..schema import Schema, Table

csv.field_size_limit(sys.maxsize)

KEY_SEPARATOR = " · "
_KEY = "\0key"  # carried through csv-diff so added and removed rows keep their key


@dataclass
class TableDiff:
    table: str
    added: list[tuple[str, dict]] = field(default_factory=list)  # (key, row)
    removed: list[tuple[str, dict]] = field(default_factory=list)
    changed: list[tuple[str, dict, dict, dict[str, tuple]]] = field(
        default_factory=list
    )  # (key, old row, new row, {column: (old, new)})

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def keyed(rows, key_columns: list[str]) -> dict[str, dict]:
    """Rows by stable key: the key columns' values joined with ' · ', and
    ' #n' for the n-th row (n > 1) sharing them, in row order."""
    seen: Counter = Counter()
    by_key = {}
    for row in rows:
        key = KEY_SEPARATOR.join(row.get(column) or "" for column in key_columns)
        seen[key] += 1
        by_key[key if seen[key] == 1 else f"{key} #{seen[key]}"] = row
    return by_key


def diff_rows(table: Table, old_rows, new_rows) -> TableDiff:
    """The rows of one table added, removed and changed between two
    snapshots. Rows are dicts of CSV cells (empty string for null)."""
    old, new = keyed(old_rows, table.diff_key), keyed(new_rows, table.diff_key)
    result = TableDiff(table.name)
    if not old or not new:  # csv-diff needs a row on each side to read the columns
        result.added = list(new.items()) if not old else []
        result.removed = list(old.items()) if not new else []
        return result
    compared = table.compared_columns

    def projected(rows: dict[str, dict]) -> dict[str, dict]:
        sample = next(iter(rows.values()))
        present = [c for c in compared if c in sample]
        return {key: {_KEY: key, **{c: row[c] for c in present}} for key, row in rows.items()}

    outcome = compare(projected(old), projected(new))
    result.added = [(row[_KEY], new[row[_KEY]]) for row in outcome["added"]]
    result.removed = [(row[_KEY], old[row[_KEY]]) for row in outcome["removed"]]
    result.changed = [
        (
            change["key"],
            old[change["key"]],
            new[change["key"]],
            {column: tuple(values) for column, values in change["changes"].items()},
        )
        for change in outcome["changed"]
    ]
    return result  # columns only one side has are the schema change's business (etl/release/versioning.py)


def renames(pages: TableDiff) -> list[tuple[str, str]]:
    """A page removed and one added with the same text, or else the same
    type and title, is one page renamed."""
    removed = {row["page"]: row for _, row in pages.removed}
    found = []
    for _, row in pages.added:
        match = next(
            (
                old
                for old, was in removed.items()
                if was.get("content_hash") and was.get("content_hash") == row.get("content_hash")
            ),
            None,
        )
        if match is None:
            match = next(
                (
                    old
                    for old, was in removed.items()
                    if was.get("title") and (was["title"], was.get("type")) == (row.get("title"), row.get("type"))
                ),
                None,
            )
        if match is not None:
            found.append((match, row["page"]))
            del removed[match]
    return found


# Packages written before booleans were 1 and 0 wrote them true and false.
OLD_BOOLEANS = {"true": "1", "false": "0"}


def read_table(package_dir: Path, name: str, table: Table | None = None) -> list[dict]:
    """A package CSV's rows; with its table, boolean cells as this build
    writes them (1 and 0), so an older package's true and false are no change."""
    path = Path(package_dir) / f"{name}.csv"
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    booleans = [c.name for c in table.columns if c.type == "boolean"] if table else []
    for row in rows if booleans else ():
        for column in booleans:
            if column in row:
                row[column] = OLD_BOOLEANS.get(row[column], row[column])
    return rows


def diff_packages(old_dir: Path, new_dir: Path, schema: Schema) -> list[TableDiff]:
    """Every diffed table of two data packages (directories of the
    package's CSV files), in declaration order. A table only one side has
    shows as all its rows added or removed; a table the declaration no
    longer has is not compared (the schema change says so)."""
    diffs = []
    for name, table in schema.tables.items():
        if table.diff_key is None:
            continue
        difference = diff_rows(table, read_table(old_dir, name, table), read_table(new_dir, name, table))
        if difference:
            diffs.append(difference)
    return diffs


def row_filter(row: dict, key_columns: list[str]) -> str:
    """Datasette table filters that find the row by its stable key."""
    return urlencode(
        [(column, row[column]) if row.get(column) else (f"{column}__isnull", "1") for column in key_columns]
    )


def row_page(row: dict) -> str | None:
    """The page a row belongs to, when it belongs to one."""
    return row.get("page") or None


CHANGE_COLUMNS = [
    "table_name",
    "key",
    "kind",
    "column",
    "old_value",
    "new_value",
    "page",
    "row_filter",
    "source_path",
    "source_line",
]


def change_rows(diffs: list[TableDiff], schema: Schema) -> list[dict]:
    """One row per added or removed row, and one per changed column of a
    changed row (CHANGE_COLUMNS): the `changes` table without its commit."""
    rows = []
    for difference in diffs:
        key_columns = schema.tables[difference.table].diff_key
        for kind, entries in (
            ("added", difference.added),
            ("removed", difference.removed),
            ("changed", difference.changed),
        ):
            for entry in entries:
                key, row = entry[0], (entry[1] if kind != "changed" else entry[2])
                base = {
                    "table_name": difference.table,
                    "key": key,
                    "kind": kind,
                    "page": row_page(row),
                    "row_filter": row_filter(row, key_columns),
                    "source_path": row.get("source_path") or None,
                    "source_line": int(row["source_line"]) if row.get("source_line") else None,
                }
                if kind != "changed":
                    rows.append({**base, "column": None, "old_value": None, "new_value": None})
                    continue
                for column, (old_value, new_value) in sorted(entry[3].items()):
                    rows.append(
                        {**base, "column": column, "old_value": old_value or None, "new_value": new_value or None}
                    )
    return rows


def change_text(rows: list[dict], output_format: str) -> str:
    """Change rows as `etl diff --format csv|json` writes them."""
    if output_format == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CHANGE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()

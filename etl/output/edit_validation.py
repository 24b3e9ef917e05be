"""The verdict `frictionless validate datapackage.json` would give a
package patched by an edit (etl/pipeline/patch.py), reached from the rows
the edit changed:

- each changed table's new rows are validated by frictionless itself, as a
  resource of those rows under the table's own schema without its
  whole-table rules: types, formats, constraints, required, enums, cells
  and labels, as frictionless checks them row by row;
- the whole-table rules are asked of the database, where every other row
  is: a new key that another row already has (primary key, unique
  column), a new row's foreign key that points at nothing, and an old row
  pointing at a key the edit removed;
- a changed Parquet file is validated by frictionless whole (its bytes and
  hash), and so is the descriptor.

Error lines read as validation._problems writes them, rows numbered in the
whole file (the header is row 1), so they can be compared with a full
validation's.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path

from ..schema import Schema
from .database import converter
from .row_changes import TableChange
from .validation import _descriptor_errors, _problems


def row_problems(descriptor: dict, changes: dict[str, TableChange]) -> list[str]:
    """Frictionless's row-by-row verdict on each change's new rows."""
    from frictionless import Checklist, Resource

    problems = []
    resources = {resource["name"]: resource for resource in descriptor["resources"]}
    with tempfile.TemporaryDirectory(prefix="edit-rows-") as scratch:
        for name, change in changes.items():
            differing = change.differing
            if not differing:
                continue
            declared = json.loads(json.dumps(resources[name]))
            schema = declared["schema"]
            schema.pop("primaryKey", None)
            schema.pop("foreignKeys", None)
            for column in schema["fields"]:
                column.get("constraints", {}).pop("unique", None)
            path = Path(scratch) / f"{name}.csv"
            with open(path, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow([column["name"] for column in schema["fields"]])
                writer.writerows(change.new[offset] for offset in differing)
            declared.update(path=path.name)
            report = Resource(declared, basepath=scratch).validate(checklist=Checklist())
            # Row r of this file (the header is row 1) is the table's row start + differing[r - 2] + 2.
            numbers = [change.start + offset + 2 for offset in differing]
            problems += [_renumbered(line, numbers) for line in _problems(report)]
    return problems


def _renumbered(line: str, numbers: list[int]) -> str:
    head, _, rest = line.partition(" row ")
    if not rest:
        return line
    number, _, tail = rest.partition(" ")
    row = numbers[int(number.rstrip(":")) - 2]
    return f"{head} row {row}{':' if number.endswith(':') else ''} {tail}".rstrip()


def key_problems(db_path: Path, schema: Schema, changes: dict[str, TableChange]) -> list[str]:
    """New rows whose primary key (or unique column) another row has, asked
    of the database before the edit is written into it."""
    problems = []
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for name, change in changes.items():
            table = schema.tables[name]
            key_sets = [("primary-key", tuple(table.primary_key))] if table.primary_key else []
            key_sets += [("unique-error", (c.name,)) for c in table.columns if c.unique]
            for error, columns in key_sets:
                problems += _duplicates(connection, table, change, error, columns)
    finally:
        connection.close()
    return problems


def _duplicates(connection, table, change: TableChange, error: str, columns: tuple[str, ...]) -> list[str]:
    positions = [table.column_names.index(c) for c in columns]
    # Rows in place that did not change bring their keys back where they were.
    compared = change.differing if not change.shift else range(len(change.new))
    came = Counter(tuple(change.new[o][p] for p in positions) for o in compared)
    went = Counter(
        tuple(change.old[o][p] for p in positions) for o in (compared if not change.shift else range(len(change.old)))
    )
    # The last build was valid: its keys were unique, and the rows that
    # went held each of theirs once. The same keys coming back collide
    # with nothing; only a key new here, or one coming more often, may.
    if came - went == Counter():
        return []
    first_old, last_old = change.start + 1, change.start + len(change.old)
    where = " and ".join(f"[{c}] = ?" for c in columns)
    rows_by_key: dict[tuple, list[int]] = {}
    convert = converter(table)
    for offset, cells in enumerate(change.new):
        try:
            row = convert(cells)
        except ValueError:  # a key cell not of its type: frictionless reports the cell
            continue
        key = tuple(row[p] for p in positions)
        if any(value is None for value in key):
            continue
        numbers = rows_by_key.setdefault(key, [])
        if not numbers:  # the rows outside the change holding this key, renumbered as after it
            for (rowid,) in connection.execute(f"select rowid from [{table.name}] where {where}", key):
                if not first_old <= rowid <= last_old:
                    numbers.append((rowid if rowid < first_old else rowid + change.shift) + 1)
        numbers.append(change.start + offset + 2)
    problems = []
    field = f" field {columns[0]}" if error == "unique-error" else ""
    for numbers in rows_by_key.values():
        numbers.sort()
        problems += [
            f"{table.name} row {n}{field}: {error}: the same as in the row at position {numbers[0]}"
            for n in numbers[1:]
        ]
    return problems


def foreign_key_problems(db_path: Path, descriptor: dict, changes: dict[str, TableChange]) -> list[str]:
    """Asked of the patched database: new rows whose foreign keys point at
    nothing, and rows elsewhere pointing at a key the edit removed."""
    problems = []
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        columns = {
            r["name"]: [f["name"] for f in r.get("schema", {}).get("fields", [])] for r in descriptor["resources"]
        }
        for resource in descriptor["resources"]:
            for fk in resource.get("schema", {}).get("foreignKeys", []):
                problems += _broken_references(connection, resource["name"], fk, changes, columns)
    finally:
        connection.close()
    return problems


def _broken_references(connection, child: str, fk: dict, changes: dict[str, TableChange], columns) -> list[str]:
    (column,) = fk["fields"]
    parent, (key,) = fk["reference"]["resource"] or child, fk["reference"]["fields"]
    suspects = set()  # rowids of the child's rows to look at
    change = changes.get(child)
    if change is not None and change.new:
        # A value the replaced rows held pointed at a key then; if the edit
        # removed that key, the rows pointing at it are found below.
        position = columns[child].index(column)
        before = {cells[position] for cells in change.old}
        first = change.start + 1
        suspects.update(first + o for o, cells in enumerate(change.new) if cells[position] not in before)
    moved = changes.get(parent)
    if moved is not None:
        position = columns[parent].index(key)
        removed = {row[position] for row in moved.old} - {row[position] for row in moved.new}
        for value in removed:
            suspects.update(
                r for (r,) in connection.execute(f"select rowid from [{child}] where [{column}] = ?", (value,))
            )
    problems = []
    for rowid in sorted(suspects):
        found = connection.execute(
            f"select c.[{column}], exists(select 1 from [{parent}] p where p.[{key}] = c.[{column}]) "
            f"from [{child}] c where c.rowid = ?",
            (rowid,),
        ).fetchone()
        if found and found[0] is not None and not found[1]:
            value = found[0]
            problems.append(
                f'{child} row {rowid + 1}: foreign-key: for "{column}": values "{value}" '
                f'not found in the lookup table "{parent}" as "{key}"'
            )
    return problems


def descriptor_problems(package_dir: Path, changed: list[str], scratch: Path) -> list[str]:
    """Frictionless's verdict on the descriptor, asked of the package with
    only the resources whose descriptors changed (the others are the last
    valid build's, unchanged): the package's own properties and theirs."""
    descriptor = json.loads((package_dir / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] in set(changed)]
    path = scratch / "datapackage.json"
    path.write_text(json.dumps(descriptor), encoding="utf-8")
    return _descriptor_errors(str(path))


def edit_verdict(
    previous_db: Path, db_path: Path, schema: Schema, tables: list[dict], changes: dict[str, TableChange]
) -> tuple[dict[str, int] | None, list[str]]:
    """The edit's rows written into a copy of the previous database and the
    verdict on them (without the descriptor's and the files'): the rows
    per table, None when the database could not take them. In this
    process; a build asks the row verdict on a worker meanwhile (see
    etl/pipeline/patch_package.py), in the same order."""

    problems = key_problems(previous_db, schema, changes)
    rows = row_problems({"resources": tables}, changes)
    if problems:  # the database would refuse the rows
        return None, problems + rows
    loaded = load_for_judging(previous_db, db_path, schema, changes, bool(rows))
    if loaded is None:
        return None, rows
    return loaded, rows + foreign_key_problems(db_path, {"resources": tables}, changes)


def load_for_judging(previous_db: Path, db_path: Path, schema: Schema, changes, rows_wrong: bool):
    """The edit written into the database; None when a row it cannot take
    (a cell not of its type, an empty required cell) is one frictionless
    found wrong already: the verdict stands on the rows."""
    from .database_patch import patch_database

    try:
        return patch_database(previous_db, db_path, schema, changes)
    except (ValueError, sqlite3.IntegrityError):
        if rows_wrong:
            return None
        raise


def file_problems(package_dir: Path, files: list[str], described: list[str]) -> list[str]:
    """Frictionless's verdict on the descriptor (see descriptor_problems)
    and on each changed file resource, standing alone: its bytes and hash."""
    from frictionless import Checklist, Resource

    with tempfile.TemporaryDirectory(prefix="edit-descriptor-") as scratch:
        problems = descriptor_problems(package_dir, described, Path(scratch))
    if problems:  # as Package.validate(): a descriptor that is not valid is the whole verdict
        return problems
    resources = {r["name"]: r for r in json.loads((package_dir / "datapackage.json").read_text())["resources"]}
    for name in files:
        problems += _problems(Resource(resources[name], basepath=str(package_dir)).validate(checklist=Checklist()))
    return problems

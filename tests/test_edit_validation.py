"""The verdict on an edit patched in place (etl/output/edit_validation.py)
is frictionless's verdict on the whole package: each corruption below is
made by an edit (rows of one table replaced, as a page edit replaces its
rows), and the errors the edit's checks find (the new rows by frictionless,
the keys by the database) are the errors `frictionless validate` finds in
the package the edit leaves, line for line."""

import csv
import io
import json
import shutil

import pytest

from etl.output.edit_validation import edit_verdict
from etl.output.row_changes import TableChange
from etl.output.validation import validate_package
from etl.schema import load_schema

from .conftest import ROOT


def read(package, table):
    return list(csv.reader(io.StringIO((package / f"{table}.csv").read_text(encoding="utf-8"))))


def cell_set(column, value, row=0):
    def edit(header, rows):
        changed = list(rows[row])
        changed[header.index(column)] = value
        return TableChange("", row, [rows[row]], [changed])

    return edit


def duplicated(row=0):
    def edit(header, rows):
        return TableChange("", row + 1, [], [list(rows[row])])

    return edit


def removed(row=0):
    def edit(header, rows):
        return TableChange("", row, [rows[row]], [])

    return edit


def valid_text(row=0):
    def edit(header, rows):
        changed = list(rows[row])
        changed[header.index("text")] = changed[header.index("text")] + " More words."
        return TableChange("", row, [rows[row]], [changed])

    return edit


EDITS = {
    "type": ("footnotes", cell_set("seq", "not-a-number")),
    "required": ("pages", cell_set("title", "")),
    "enum": ("footnotes", cell_set("parse_status", "maybe")),
    "pattern": ("pages", cell_set("content_hash", "not-a-digest")),
    "date": ("pages", cell_set("verified_date", "2020-13-45")),
    "primary key": ("sections", duplicated()),
    "primary key and unique column": ("pages", duplicated()),
    "foreign key": ("footnotes", cell_set("page", "no/such/page")),
    "referenced row removed": ("pages", removed()),
    "a row nothing points at removed": ("sections", removed(row=3)),
    "nothing wrong": ("sections", valid_text()),
}
VALID = {"a row nothing points at removed", "nothing wrong"}


def apply(package, table, change):
    """The edit written into the package's CSV, as a patched build splices it."""
    rows = read(package, table)
    header, body = rows[0], rows[1:]
    body[change.start : change.start + len(change.old)] = change.new
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    (package / f"{table}.csv").write_text(out.getvalue(), encoding="utf-8")


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_an_edit_gets_the_verdict_of_a_full_validation(fixture_build, tmp_path, kind):
    out, _ = fixture_build
    schema = load_schema(ROOT / "data")
    package = tmp_path / "package"
    shutil.copytree(out / "package", package)
    table, make = EDITS[kind]
    rows = read(package, table)
    change = make(rows[0], rows[1:])
    change.table = table
    changes = {table: change}
    apply(package, table, change)
    descriptor = json.loads((package / "datapackage.json").read_text())

    tables = [r for r in descriptor["resources"] if r.get("type") == "table"]
    _, verdict = edit_verdict(out / "agingkb.db", tmp_path / "patched.db", schema, tables, changes)
    full_verdict = validate_package(package / "datapackage.json", jobs=2)
    assert sorted(verdict) == sorted(full_verdict)
    assert bool(full_verdict) == (kind not in VALID)

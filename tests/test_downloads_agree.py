"""Every CSV the site serves writes a row the same way: the package's CSV
(/-/downloads/<table>.csv) and Datasette's CSV export of the table agree on
booleans (1 and 0), numbers and nulls (empty), cell for cell; frictionless
still reads the package's 1 and 0 as booleans."""

import csv
import io
import sys

import httpx
from frictionless import Package

csv.field_size_limit(sys.maxsize)

TYPED = ("integer", "number", "boolean")


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _tables_with_typed_columns(schema):
    return [name for name, table in schema.tables.items() if any(c.type in TYPED for c in table.columns)]


def test_datasette_csv_and_the_package_csv_write_the_same_cells(datasette_url, real_build, schema):
    out, _ = real_build
    names = _tables_with_typed_columns(schema)
    assert {"trials", "pages", "works", "links"} <= set(names)
    compared = {"boolean": 0, "number": 0, "integer": 0, "empty": 0}
    for name in names:
        table = schema.tables[name]
        served = httpx.get(f"{datasette_url}/agingkb/{name}.csv", params={"_stream": "on"}, timeout=120)
        assert served.status_code == 200, name
        exported = _rows(served.text)
        package = _rows(httpx.get(f"{datasette_url}/-/downloads/{name}.csv", timeout=120).text)
        assert package == _rows((out / "package" / f"{name}.csv").read_text(encoding="utf-8")), name
        assert len(exported) == len(package), name
        by_key = {tuple(row[k] for k in table.primary_key): row for row in package}
        for row in exported:
            mine = by_key[tuple(row[k] for k in table.primary_key)]
            for column in table.columns:
                assert row[column.name] == mine[column.name], (name, column.name, row[column.name], mine[column.name])
                if column.type in TYPED and mine[column.name]:
                    compared[column.type] += 1
                compared["empty"] += mine[column.name] == ""
    # Every kind of cell was met, so the agreement says something about each.
    assert all(count > 100 for count in compared.values()), compared


def test_package_booleans_are_one_and_zero_and_frictionless_reads_them_as_booleans(real_build, schema):
    out, _ = real_build
    values = {row["verified"] for row in _rows((out / "package" / "pages.csv").read_text(encoding="utf-8"))}
    assert values <= {"1", "0", ""} and {"1", "0"} <= values
    pages = Package(str(out / "package" / "datapackage.json")).get_resource("pages")
    read = {row["verified"] for row in pages.read_rows()}
    assert read <= {True, False, None} and {True, False} <= read

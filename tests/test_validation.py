"""The build's validation (frictionless on worker processes, etl/output/validation.py)
gives the verdict of `frictionless validate datapackage.json`: the same
errors on packages made invalid in each way frictionless checks."""

import csv
import io
import json
import shutil
import subprocess

import pytest

from etl.output.validation import validate_package

from .conftest import BIN


def rewrite(path, change):
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    change(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def set_cell(table, column, value, row=1):
    def change(rows):
        rows[row][rows[0].index(column)] = value

    return table, change


def duplicate_first_row(table):
    def change(rows):
        rows.insert(2, list(rows[1]))

    return table, change


def delete_first_row(table):
    def change(rows):
        del rows[1]

    return table, change


CORRUPTIONS = {
    "type": set_cell("footnotes", "seq", "not-a-number"),
    "required": set_cell("pages", "title", ""),
    "enum": set_cell("footnotes", "parse_status", "maybe"),
    "primary key": duplicate_first_row("sections"),
    "foreign key": set_cell("footnotes", "page", "no/such/page"),
    # a page many tables point to: the validation workers read each source's
    # keys once and share them between resources (etl/output/frictionless_patch.py)
    "referenced row removed": delete_first_row("pages"),
}


def cli_verdict(descriptor):
    completed = subprocess.run(
        [str(BIN / "frictionless"), "validate", "--json", str(descriptor)], capture_output=True, text=True
    )
    report = json.loads(completed.stdout)
    errors = sorted(
        (task["name"], error["type"], error.get("rowNumber")) for task in report["tasks"] for error in task["errors"]
    )
    return report["valid"], errors


def our_verdict(problems):
    return sorted(problems)


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_parallel_validation_reports_what_frictionless_reports(fixture_build, tmp_path, kind):
    out, _ = fixture_build
    package = tmp_path / "package"
    shutil.copytree(out / "package", package)
    table, change = CORRUPTIONS[kind]
    rewrite(package / f"{table}.csv", change)
    valid, cli_errors = cli_verdict(package / "datapackage.json")
    sequential = validate_package(package / "datapackage.json", jobs=1)
    parallel = validate_package(package / "datapackage.json", jobs=2)
    assert not valid and cli_errors
    assert sorted(parallel) == sorted(sequential) and parallel
    # Each error frictionless reports appears, with its table and row, among ours.
    for table_name, error_type, row in cli_errors:
        assert any(
            p.startswith(f"{table_name}" + (f" row {row}" if row else "")) and error_type in p for p in parallel
        ), (table_name, error_type, row, parallel)


def test_a_valid_package_is_valid_both_ways(fixture_build):
    out, _ = fixture_build
    assert validate_package(out / "package" / "datapackage.json", jobs=2) == []
    assert cli_verdict(out / "package" / "datapackage.json") == (True, [])


@pytest.fixture
def fresh_patch_check():
    from etl.output import frictionless_patch

    frictionless_patch.patches_fit.cache_clear()
    yield frictionless_patch
    frictionless_patch.patches_fit.cache_clear()


def test_the_lookup_patch_is_used_only_with_the_frictionless_it_was_written_for(fresh_patch_check, monkeypatch):
    from frictionless.resources.table import TableResource

    patch = fresh_patch_check
    original = TableResource._TableResource__open_lookup
    with patch.foreign_key_lookups_shared({}):
        assert TableResource._TableResource__open_lookup is not original
    assert TableResource._TableResource__open_lookup is original

    patch.patches_fit.cache_clear()
    monkeypatch.setattr(patch, "version", lambda name: "9.9.9")
    with pytest.warns(RuntimeWarning, match=r"frictionless 9\.9\.9 is installed.*written for frictionless 5\.21\.0"):
        with patch.foreign_key_lookups_shared({}):
            assert TableResource._TableResource__open_lookup is original


def test_a_declared_csv_dialect_is_not_sniffed_and_an_undeclared_one_still_is(fresh_patch_check, tmp_path, monkeypatch):
    import csv

    from frictionless import Resource
    from frictionless.formats.csv.parser import CsvParser

    from etl.output.descriptor import CSV_DIALECT

    patch = fresh_patch_check
    sniffed = []
    sniff = csv.Sniffer.sniff
    monkeypatch.setattr(csv.Sniffer, "sniff", lambda self, *args: sniffed.append(args) or sniff(self, *args))
    (tmp_path / "semi.csv").write_text('id;name\n1;"a; b"\n2; c\n', encoding="utf-8")
    declared = {"name": "semi", "path": "semi.csv", "dialect": dict(CSV_DIALECT, delimiter=";")}
    original = CsvParser.read_cell_stream_create
    with patch.declared_csv_dialect_not_sniffed():
        assert CsvParser.read_cell_stream_create is not original
        as_declared = [row.to_dict() for row in Resource(declared, basepath=str(tmp_path)).read_rows()]
        assert sniffed == []
        as_sniffed = [row.to_dict() for row in Resource("semi.csv", basepath=str(tmp_path)).read_rows()]
        assert len(sniffed) == 1
    assert CsvParser.read_cell_stream_create is original
    # The declared dialect keeps the space after the delimiter; the sniffed one, on these lines, agrees.
    assert as_declared == as_sniffed == [{"id": 1, "name": "a; b"}, {"id": 2, "name": " c"}]

    patch.patches_fit.cache_clear()
    monkeypatch.setattr(patch, "version", lambda name: "9.9.9")
    with pytest.warns(RuntimeWarning, match=r"frictionless 9\.9\.9"):
        with patch.declared_csv_dialect_not_sniffed():
            assert CsvParser.read_cell_stream_create is original


def test_every_csv_resource_declares_the_dialect_its_file_is_written_in(fixture_build):
    out, _ = fixture_build
    descriptor = json.loads((out / "package" / "datapackage.json").read_text(encoding="utf-8"))
    tables = [r for r in descriptor["resources"] if r.get("format") == "csv"]
    assert tables
    for resource in tables:
        assert resource["dialect"]["delimiter"] == "," and resource["dialect"]["lineTerminator"] == "\n"
        text = (out / "package" / resource["path"]).read_bytes()
        assert b"\r\n" not in text.split(b"\n", 1)[0] + b"\n", resource["name"]

"""Build the fixture wiki end to end: CSV + datapackage.json + SQLite."""

import csv
import json
import os
import shutil
import sqlite3
import subprocess

import pytest

from etl.options import BuildOptions
from etl.pipeline.build import BuildError, build
from etl.schema import DATA_DIR

from .conftest import BIN, FIXTURE_WIKI


def test_fixture_package_is_valid_by_the_frictionless_cli(fixture_build):
    out, _ = fixture_build
    completed = subprocess.run(
        [str(BIN / "frictionless"), "validate", str(out / "package" / "datapackage.json")],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]


def test_skip_rules_and_snapshot(fixture_build):
    _, result = fixture_build
    assert result.skipped == [("log/2026-01-01.md", "maintenance log, not knowledge-base content")]
    assert result.snapshot["pages"] == 4 and result.snapshot["markdown_files"] == 5
    assert result.snapshot["snapshot"].startswith("tree-")


def test_descriptor_has_licence_sources_keys_and_enums(fixture_build):
    out, result = fixture_build
    package = json.loads((out / "package" / "datapackage.json").read_text())
    assert package["licenses"][0]["name"] == "CC-BY-4.0" and "Joey Adams" in package["licenses"][0]["title"]
    assert package["sources"][0]["path"] == "https://github.com/jadams5/aging_wiki"
    gaps = next(r for r in package["resources"] if r["name"] == "gaps")["schema"]
    tag = next(f for f in gaps["fields"] if f["name"] == "tag")
    assert "gap/needs-replication" in tag["constraints"]["enum"]
    assert {"fields": ["page"], "reference": {"resource": "pages", "fields": ["page"]}} in gaps["foreignKeys"]
    assert gaps["primaryKey"] == ["page", "seq"]


def test_database_matches_the_package(fixture_build):
    out, result = fixture_build
    db = sqlite3.connect(out / "agingkb.db")
    for table, count in result.rows.items():
        with open(out / "package" / f"{table}.csv", encoding="utf-8", newline="") as handle:
            csv_rows = sum(1 for _ in csv.reader(handle)) - 1
        assert db.execute(f"select count(*) from [{table}]").fetchone()[0] == count == csv_rows, table
    assert db.execute("select verified, is_stub from pages where page = 'pathways/demo-pathway'").fetchone() == (0, 1)
    assert db.execute("select typeof(n), n from footnotes where label = 'alpha2020'").fetchone() == ("integer", 40)
    hits = db.execute(
        "select page from pages_fts join pages on pages.rowid = pages_fts.rowid where pages_fts match 'phosphorylates'"
    ).fetchall()
    assert hits == [("molecules/proteins/demo-kinase",)]
    fks = db.execute("select [table], [from], [to] from pragma_foreign_key_list('footnotes')").fetchall()
    assert ("works", "work", "work") in fks and ("pages", "page", "page") in fks


def test_works_merge_study_page_and_footnote(fixture_build):
    out, _ = fixture_build
    db = sqlite3.connect(out / "agingkb.db")
    row = db.execute(
        "select title, first_author, year, study_page, cited_by_footnotes, origin from works "
        "where work = 'doi:10.5555/demo.beta'"
    ).fetchone()
    assert row == ("A demonstration study of kinase decline", "Gamma G", 2021, "studies/demo-study", 1, "footnote")
    assert db.execute("select count(*) from bibliography").fetchone()[0] == 1
    assert (
        db.execute("select count(*) from bibliography_pages").fetchone()[0] == 0
    )  # its IL-1 pages are not in the fixture


def test_invalid_package_fails_and_keeps_the_previous_build(tmp_path, fixture_build, monkeypatch):
    out = tmp_path / "out"
    build(FIXTURE_WIKI, out, options=BuildOptions(jobs=1))
    before = {p.name: p.read_bytes() for p in (out / "package").iterdir()}
    db_before = (out / "agingkb.db").read_bytes()
    current = os.readlink(out / ".current")  # .builds/<id> of the published build
    entries = sorted(p.name for p in out.iterdir())

    # A declaration no page can meet makes frictionless reject the package.
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    tables = (data / "tables.yml").read_text()
    (data / "tables.yml").write_text(
        tables.replace(
            "{name: slug, type: string, required: true,",
            '{name: slug, type: string, required: true, pattern: "^never$",',
            1,
        )
    )
    with pytest.raises(BuildError, match="not valid"):
        build(FIXTURE_WIKI, out, options=BuildOptions(data_dir=data, jobs=2))
    assert {p.name: p.read_bytes() for p in (out / "package").iterdir()} == before
    assert (out / "agingkb.db").read_bytes() == db_before
    # The failed build's directory under .builds/ is gone, and .current still
    # names the published build: out/ holds what it held before.
    assert os.readlink(out / ".current") == current
    assert [p.name for p in (out / ".builds").iterdir()] == [os.path.basename(current)]
    assert sorted(p.name for p in out.iterdir()) == entries


def test_cli_build_reports_summary_and_bad_wiki_dir(tmp_path):
    completed = subprocess.run(
        [str(BIN / "etl"), "build", "--wiki", str(FIXTURE_WIKI), "--out", str(tmp_path / "b"), "--jobs", "2"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    assert (
        "pages per type:" in completed.stdout
        and "time per stage" in completed.stdout
        and "footnotes parsed" in completed.stdout
    )
    missing = subprocess.run(
        [str(BIN / "etl"), "build", "--wiki", str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr

"""Nothing lost: an independent scan of the source files (tests/independent_count.py,
no code shared with etl/) against the rows in the package and the database."""

import csv
import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

from etl.options import BuildOptions
from etl.pipeline.build import build
from etl.schema import load_yaml

from .conftest import FIXTURE_WIKI, REAL_WIKI, ROOT
from .independent_count import count_wiki, read_files

BAD_WIKI = ROOT / "tests" / "fixtures" / "bad_wiki"
BLOCKING_FIXTURES = {
    "not-utf8.md",
    "page-too-large.md",
    "yaml-syntax.md",
    "yaml-duplicate-key.md",
    "yaml-unclosed.md",
    "yaml-not-mapping.md",
}


def keys_by_type(field_type: str) -> dict[str, set[str]]:
    """Per page type, the keys declared with `field_type` (read from the YAML, not the schema code)."""
    spec = load_yaml(ROOT / "data" / "page_types.yml")
    keys = {}
    for name, page_type in spec["types"].items():
        fields = [f for group in page_type.get("include", []) for f in spec["field_groups"][group]] + (
            page_type.get("fields") or []
        )
        keys[name] = {f["name"] for f in fields if f["type"] == field_type}
    return keys


def page_files(root: Path, out: Path) -> list[str]:
    """The pages the build published (skip rules are the build's to apply)."""
    with open(out / "package" / "pages.csv", encoding="utf-8", newline="") as handle:
        return [row["source_path"] for row in csv.DictReader(handle)]


def database_counts(db_path: Path) -> dict[str, Counter]:
    db = sqlite3.connect(db_path)

    def per_page(sql):
        return Counter({page + ".md": n for page, n in db.execute(sql)})

    return {
        "frontmatter keys": per_page("select page, count(*) from page_fields group by page"),
        "frontmatter identifiers": per_page(
            "select page, count(*) from identifiers where field not like 'footnote:%' and field != 'body' group by page"
        ),
        "footnote identifiers": per_page(
            "select page, count(*) from identifiers "
            "where field like 'footnote:%' and scheme in ('doi', 'pmid', 'pmc') group by page"
        ),
        "frontmatter links": per_page("select page, count(*) from relations group by page")
        + per_page("select page, count(*) from links where location = 'frontmatter' group by page"),
        "footnote definitions": per_page("select page, count(*) from footnotes group by page"),
        "footnote references": per_page("select page, count(*) from footnote_refs group by page"),
        "gap tags": per_page("select page, count(*) from gaps group by page"),
        "body wikilinks": per_page(
            "select page, count(*) from links where kind = 'wikilink' and location = 'body' group by page"
        ),
        "table rows": per_page("select page, count(*) from status_assessments group by page")
        + per_page("select page, sum(row_count) from page_tables group by page"),
        "registered trials": per_page(
            "select m.page, count(distinct t.registry_id) from trial_mentions m join trials t on t.trial = m.trial "
            "where m.registry_id is not null group by m.page"
        ),
    }


def package_totals(package: Path) -> dict[str, int]:
    def rows(table, keep=lambda row: True):
        with open(package / f"{table}.csv", encoding="utf-8", newline="") as handle:
            return [row for row in csv.DictReader(handle) if keep(row)]

    return {
        "frontmatter keys": len(rows("page_fields")),
        "frontmatter identifiers": len(
            rows("identifiers", lambda r: not r["field"].startswith("footnote:") and r["field"] != "body")
        ),
        "footnote identifiers": len(
            rows("identifiers", lambda r: r["field"].startswith("footnote:") and r["scheme"] in ("doi", "pmid", "pmc"))
        ),
        "frontmatter links": len(rows("relations")) + len(rows("links", lambda r: r["location"] == "frontmatter")),
        "footnote definitions": len(rows("footnotes")),
        "footnote references": len(rows("footnote_refs")),
        "gap tags": len(rows("gaps")),
        "body wikilinks": len(rows("links", lambda r: r["kind"] == "wikilink" and r["location"] == "body")),
        "table rows": len(rows("status_assessments")) + sum(len(json.loads(r["rows"])) for r in rows("page_tables")),
        "registered trials": len({(r["page"], r["registry_id"]) for r in rows("trial_mentions") if r["registry_id"]}),
    }


def assert_nothing_lost(root: Path, out: Path):
    source = count_wiki(read_files(root, page_files(root, out)), keys_by_type("identifier"), keys_by_type("page-slug"))
    in_db = database_counts(out / "agingkb.db")
    in_package = package_totals(out / "package")
    problems = []
    for kind, per_page in in_db.items():
        for path, counts in source.items():
            if counts[kind] != per_page.get(path, 0):
                problems.append(
                    f"{path}: {kind}: {counts[kind]} in the source, {per_page.get(path, 0)} in the database"
                )
        total = sum(c[kind] for c in source.values())
        if total != in_package[kind]:
            problems.append(f"{kind}: {total} in the source, {in_package[kind]} in the package")
    assert problems == []
    return {kind: sum(c[kind] for c in source.values()) for kind in in_db}


def test_nothing_lost_from_the_real_wiki(real_build):
    out, _ = real_build
    totals = assert_nothing_lost(REAL_WIKI, out)
    assert totals["footnote definitions"] > 6000 and totals["gap tags"] > 10000
    assert totals["registered trials"] > 300  # every NCT id named on a page is a trial row


def test_nothing_lost_from_the_fixture_wiki(fixture_build):
    out, _ = fixture_build
    totals = assert_nothing_lost(FIXTURE_WIKI, out)
    assert totals == {
        "frontmatter keys": 53,
        "frontmatter identifiers": 10,
        "frontmatter links": 5,
        "footnote definitions": 2,
        "footnote references": 3,
        "gap tags": 5,
        "body wikilinks": 3,
        "table rows": 7,
        "footnote identifiers": 1,
        "registered trials": 4,
    }


def test_nothing_lost_from_the_bad_wiki(tmp_path):
    wiki = tmp_path / "wiki"
    shutil.copytree(BAD_WIKI, wiki, ignore=lambda folder, names: [n for n in names if n in BLOCKING_FIXTURES])
    build(wiki, tmp_path / "out", options=BuildOptions(jobs=1))
    totals = assert_nothing_lost(wiki, tmp_path / "out")
    # the unquoted [[twin]] and page-slug-missing.md's bare parent-system slug
    assert totals["footnote definitions"] == 21 and totals["table rows"] == 6 and totals["frontmatter links"] == 2
    db = sqlite3.connect(tmp_path / "out" / "agingkb.db")
    # An unquoted [[link]] (a nested list to YAML) is still an edge, and a
    # table row with an unescaped | in [[link|alias]] keeps its cell whole.
    assert db.execute("select target, target_page from relations where page = 'unquoted-links'").fetchall() == [
        ("twin", "a/twin")
    ]
    assert db.execute("select rows from page_tables where page = 'table-ragged'").fetchone() == (
        '[["[[twin|alias]]", "2"], ["plain", "3"]]',
    )

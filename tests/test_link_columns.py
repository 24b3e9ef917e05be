"""Typed columns of link fields (wikilinks, page-slug) hold the page ID each
value names, one spelling per page; a value naming no page stays as written
and is reported; the column and the relations table give the same pages."""

import json
import sqlite3
from urllib.parse import quote

import httpx
import pytest

from benchmarks.compare_builds import differences
from etl.checks.page import check_page
from etl.options import BuildOptions
from etl.pipeline.build import build
from etl.rows.corpus_index import CorpusIndex
from etl.rows.page_rows import page_rows
from etl.wiki.frontmatter import to_json
from etl.wiki.parse import parse_page

# A small wiki of my own: a gene named three ways after one hallmark, a
# pathway named with an anchor, links to pages that do not exist, and a
# tissue whose organ system is given by its bare slug.
GENE = """---
type: protein
aliases: [GLX1]
uniprot: P12345
ncbi-gene: 4321
hgnc: 9876
pathways: ["[[glyoxal-route#entry]]", "[[nowhere-route]]"]
hallmarks:
  - "[[hallmarks/slow-repair]]"
  - "[[slow-repair]]"
  - "[[Slow-Repair|repair that slows]]"
  - "[[unwritten-hallmark]]"
known-interactors: ["[[molecules/proteins/glyoxalase-two]]", "a partner without a page"]
verified: false
---

# Glyoxalase one
"""
PARTNER = """---
type: protein
aliases: []
uniprot: P54321
ncbi-gene: 1234
hgnc: 6789
pathways: ["[[pathways/glyoxal-route]]"]
hallmarks: ["[[hallmarks/slow-repair]]"]
verified: false
---

# Glyoxalase two
"""
ROUTE = """---
type: pathway
aliases: []
kegg: hsa00620
reactome: R-HSA-70268
hallmarks: ["[[slow-repair]]"]
verified: false
---

# Glyoxal route
"""
HALLMARK = """---
type: hallmark
aliases: []
verified: false
---

# Slow repair
"""
TISSUE = """---
type: tissue
aliases: []
parent-system: {parent}
verified: false
---

# Gut lining
"""
SYSTEM = """---
type: organ-system
aliases: []
---

# Gut system
"""
PAGES = {
    "molecules/proteins/glyoxalase-one.md": GENE,
    "molecules/proteins/glyoxalase-two.md": PARTNER,
    "pathways/glyoxal-route.md": ROUTE,
    "hallmarks/slow-repair.md": HALLMARK,
    "tissues/gut-lining.md": TISSUE.format(parent="gut-system"),
    "organ-systems/gut-system.md": SYSTEM,
}


def rows_of(path, text, page_ids, schema):
    parsed = parse_page(path, text.encode(), schema)
    index = CorpusIndex(page_ids)
    return parsed, index, page_rows(parsed, index, schema)[0]


def ids(pages):
    return [path.removesuffix(".md") for path in pages]


def test_every_spelling_of_a_page_becomes_its_page_id(schema):
    path = "molecules/proteins/glyoxalase-one.md"
    _, _, rows = rows_of(path, GENE, ids(PAGES), schema)
    protein = rows["proteins"][0]
    assert protein["hallmarks"] == ["hallmarks/slow-repair"] * 3 + ["unwritten-hallmark"]
    assert protein["pathways"] == ["pathways/glyoxal-route", "nowhere-route"]
    # free text in a link list is not guessed at: left out of the column, as before
    assert protein["known_interactors"] == ["molecules/proteins/glyoxalase-two"]
    fields = {row["key"]: row for row in rows["page_fields"]}
    assert "[[Slow-Repair|repair that slows]]" in fields["hallmarks"]["value_json"]
    assert "[[glyoxal-route#entry]]" in fields["pathways"]["raw"]


def test_a_value_naming_no_page_is_kept_as_written_and_reported(schema):
    path = "molecules/proteins/glyoxalase-one.md"
    parsed, index, rows = rows_of(path, GENE, ids(PAGES), schema)
    assert "unwritten-hallmark" in rows["proteins"][0]["hallmarks"]
    reported = [(d.code, d.line, d.message) for d in check_page(parsed, index, schema)]
    assert ("wikilink-missing", 7, "pathways: [[nowhere-route]] names no page in this snapshot") in reported
    assert ("wikilink-missing", 8, "hallmarks: [[unwritten-hallmark]] names no page in this snapshot") in reported
    assert [d.code for d in parsed.diagnostics] == ["field-type"]  # the free-text interactor


@pytest.mark.parametrize("parent", ["gut-system", "organ-systems/gut-system", '"[[gut-system]]"'])
def test_a_page_slug_field_holds_the_page_id(schema, parent):
    path = "tissues/gut-lining.md"
    parsed, index, rows = rows_of(path, TISSUE.format(parent=parent), ids(PAGES), schema)
    assert rows["tissues"][0]["parent_system"] == "organ-systems/gut-system"
    assert [(r["field"], r["target_page"]) for r in rows["relations"]] == [
        ("parent-system", "organ-systems/gut-system")
    ]
    assert parsed.diagnostics == [] and check_page(parsed, index, schema) == []


def test_a_page_slug_naming_no_page_is_kept_as_written_and_reported(schema):
    path = "tissues/gut-lining.md"
    parsed, index, rows = rows_of(path, TISSUE.format(parent="lost-system"), ids(PAGES), schema)
    assert rows["tissues"][0]["parent_system"] == "lost-system"
    assert [(r["target"], r["target_page"], r["target_exists"]) for r in rows["relations"]] == [
        ("lost-system", None, False)
    ]
    assert [(d.code, d.line) for d in check_page(parsed, index, schema)] == [("wikilink-missing", 4)]


def _column_pairs(row, declared):
    value = row[declared.column_name]
    values = value if isinstance(value, list) else [] if value is None else [value]
    return {(row["page"], v) for v in values}


def test_each_link_column_gives_the_pages_relations_gives(schema):
    """Driven by the declaration: every field whose type names pages, on every page written above."""
    checked = 0
    for path, text in PAGES.items():
        parsed, _, rows = rows_of(path, text, ids(PAGES), schema)
        page_type = schema.page_types[parsed.page_type]
        for declared in page_type.fields.values():
            if not declared.names_pages or not page_type.table:
                continue
            relations = {
                (r["page"], r["target_page"] or r["target"])
                for r in rows.get("relations", [])
                if r["field"] == declared.name
            }
            assert _column_pairs(rows[page_type.table][0], declared) == relations, (path, declared.name)
            checked += bool(relations)
    assert checked >= 6


def test_a_page_added_or_removed_changes_the_columns_that_name_it(schema, tmp_path, monkeypatch):
    """The page cache reuses a page only while every link it resolved still
    resolves alike: adding the hallmark recomputes the pages that name it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    wiki = tmp_path / "wiki"
    for path, text in PAGES.items():
        if path != "hallmarks/slow-repair.md":
            (wiki / path).parent.mkdir(parents=True, exist_ok=True)
            (wiki / path).write_text(text)

    def hallmark_columns(out):
        with sqlite3.connect(out / "agingkb.db") as db:
            return dict(
                db.execute("select page, hallmarks from proteins union all select page, hallmarks from pathways")
            )

    build(wiki, tmp_path / "out", options=BuildOptions(jobs=1))
    before = hallmark_columns(tmp_path / "out")
    assert before["pathways/glyoxal-route"] == to_json(["slow-repair"])
    assert before["molecules/proteins/glyoxalase-two"] == to_json(["hallmarks/slow-repair"])

    (wiki / "hallmarks").mkdir()
    (wiki / "hallmarks" / "slow-repair.md").write_text(HALLMARK)
    again = build(wiki, tmp_path / "out", options=BuildOptions(jobs=1))
    fresh = build(wiki, tmp_path / "fresh", options=BuildOptions(jobs=1))
    assert differences(tmp_path / "out", tmp_path / "fresh") == []
    after = hallmark_columns(tmp_path / "out")
    assert after["pathways/glyoxal-route"] == to_json(["hallmarks/slow-repair"])
    assert after["molecules/proteins/glyoxalase-one"] == to_json(["hallmarks/slow-repair"] * 3 + ["unwritten-hallmark"])
    # the pages whose answers changed were made again; the tissue and its system were not
    assert fresh.pages_from_cache == 0 and again.pages_from_cache == 2

    (wiki / "hallmarks" / "slow-repair.md").unlink()
    build(wiki, tmp_path / "out", options=BuildOptions(jobs=1))
    assert hallmark_columns(tmp_path / "out") == before


# --- the real wiki ------------------------------------------------------------


def _typed_link_columns(schema):
    for page_type in schema.page_types.values():
        for declared in page_type.fields.values():
            if page_type.table and declared.names_pages:
                yield page_type.table, declared


def test_every_typed_link_column_of_the_wiki_agrees_with_relations(real_db, schema):
    checked = 0
    for table, declared in _typed_link_columns(schema):
        column = f'{table}."{declared.column_name}"'
        typed = set(
            real_db.execute(f"select page, j.value from {table}, json_each({column}) j")
            if declared.type == "wikilinks"
            else real_db.execute(f"select page, {column} from {table} where {column} is not null")
        )
        relations = set(
            real_db.execute(
                f"select r.page, coalesce(r.target_page, r.target) from relations r join {table} using (page) "
                "where r.field = ?",
                (declared.name,),
            )
        )
        assert typed == relations, (table, declared.name, sorted(typed ^ relations)[:4])
        checked += bool(typed)
    assert checked > 40


def _most_spelled(real_db, field, folder):
    """The page of `folder` that protein pages name in `field` under the most
    spellings (then the most often): the case the typed column used to split."""
    return real_db.execute(
        "select target_page, count(distinct target) from relations "
        "where field = ? and target_page like ? and page in (select page from proteins) "
        "group by target_page order by count(distinct target) desc, count(*) desc limit 1",
        (field, folder + "/%"),
    ).fetchone()


@pytest.mark.parametrize("field,folder", [("hallmarks", "hallmarks"), ("pathways", "pathways")])
def test_the_arraycontains_filter_finds_the_pages_relations_finds(datasette_url, real_db, field, folder):
    target, spellings = _most_spelled(real_db, field, folder)
    assert spellings > 1  # written more than one way in the wiki
    related = real_db.execute(
        "select count(distinct page) from relations where field = ? and target_page = ? "
        "and page in (select page from proteins)",
        (field, target),
    ).fetchone()[0]
    answer = httpx.get(
        f"{datasette_url}/agingkb/proteins.json?{field}__arraycontains={quote(target)}&_size=max&_shape=objects"
    )
    assert answer.status_code == 200
    data = answer.json()
    assert data["filtered_table_rows_count"] == related > 0
    assert all(target in json.loads(row[field]) for row in data["rows"])

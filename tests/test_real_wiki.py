"""The real wiki snapshot: a valid package, and seed 000 (molecules/proteins/il-1ra.md)
reproduced field by field."""

import re
import subprocess

import pytest

from .conftest import BIN, REAL_WIKI

IL1RA = "molecules/proteins/il-1ra"


@pytest.fixture(scope="module")
def db(real_db):
    return real_db


def test_real_package_is_valid_by_the_frictionless_cli(real_build):
    out, stdout = real_build
    completed = subprocess.run(
        [str(BIN / "frictionless"), "validate", str(out / "package" / "datapackage.json")],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "rows per table:" in stdout and "(valid)" in stdout


def test_every_footnote_definition_in_the_pages_is_a_row(db, real_build):
    # An independent count: definition lines in the page files, read as plain text.
    skipped = {"log", "sops", "sources"}
    expected = 0
    for path in REAL_WIKI.rglob("*.md"):
        rel = path.relative_to(REAL_WIKI).as_posix()
        if rel.split("/")[0] in skipped or path.name in ("README.md", "log.md", "index.md", "schema-history.md"):
            continue
        labels = re.findall(r"^\[\^([^\]\s]+)\]:", path.read_text(encoding="utf-8", errors="replace"), re.M)
        expected += len(labels)
    assert db.execute("select count(*) from footnotes").fetchone()[0] == expected


def test_il1ra_verification_block(db):
    row = db.execute(
        "select type, title, verified, verified_date, verified_by, verified_scope, is_stub from pages where page = ?",
        (IL1RA,),
    ).fetchone()
    assert row[:5] == ("protein", "IL-1Ra (IL1RN)", 1, "2026-05-06", "claude")
    assert row[5].startswith("Larsen 2007 (NEJM) and Horai 2000 (J Exp Med) verified against full PDFs")
    assert row[6] == 0


def test_il1ra_identifiers_including_the_null_genage_id(db):
    rows = db.execute(
        "select scheme, value, declared_null from identifiers "
        "where page = ? and field not like 'footnote:%' order by source_line",
        (IL1RA,),
    ).fetchall()
    assert rows == [
        ("uniprot", "P18510", 0),
        ("ncbi-gene", "3557", 0),
        ("hgnc", "HGNC:6000", 0),
        ("ensembl", "ENSG00000136689", 0),
        ("genage", None, 1),
    ]


def test_il1ra_seven_footnotes_with_parsed_fields(db):
    rows = db.execute(
        "select label, doi, first_author, venue, year, design, n, citation_count, parse_status "
        "from footnotes where page = ? order by seq",
        (IL1RA,),
    ).fetchall()
    assert rows == [
        ("eisenberg1990", "10.1038/343341a0", "Eisenberg SP", "Nature", 1990, "in-vitro", None, 824, "parsed"),
        ("hannum1990", "10.1038/343336a0", "Hannum CH", "Nature", 1990, "in-vitro", None, 840, "parsed"),
        (
            "arend1998",
            "10.1146/annurev.immunol.16.1.27",
            "Arend WP",
            "Annu Rev Immunol",
            1998,
            "review",
            None,
            828,
            "parsed",
        ),
        ("horai2000", "10.1084/jem.191.2.313", "Horai R", "J Exp Med", 2000, "in-vivo", None, None, "parsed"),
        (
            "bresnihan1998",
            "10.1002/1529-0131(199812)41:12<2196::AID-ART15>3.0.CO;2-2",
            "Bresnihan B",
            "Arthritis Rheum",
            1998,
            "rct",
            472,
            None,
            "parsed",
        ),
        ("larsen2007", "10.1056/NEJMoa065213", "Larsen CM", "NEJM", 2007, "rct", 70, None, "parsed"),
        (
            "vantassell2014",
            "10.1016/j.amjcard.2013.08.047",
            "Van Tassell BW",
            "Am J Cardiol",
            2014,
            "rct",
            12,
            None,
            "parsed",
        ),
    ]
    designs = dict(
        db.execute("select design, count(*) from footnotes where page = ? group by design", (IL1RA,)).fetchall()
    )
    assert designs == {"review": 1, "in-vitro": 2, "in-vivo": 1, "rct": 3}
    p_values = dict(
        db.execute("select label, p_value_text from footnotes where page = ? and design = 'rct'", (IL1RA,)).fetchall()
    )
    assert p_values == {"larsen2007": "P=0.03", "vantassell2014": "p=0.009", "bresnihan1998": "p<0.001"}
    authors = db.execute(
        "select author from work_authors where work = 'doi:10.1146/annurev.immunol.16.1.27' order by position"
    ).fetchall()
    assert [a for (a,) in authors] == ["Arend WP", "Malyak M", "Guthridge CJ", "Gabay C"]


def test_il1ra_four_status_tables_with_every_row(db):
    rows = db.execute(
        "select table_seq, row, dimension, status, qualifier from status_assessments "
        "where page = ? order by table_seq, row",
        (IL1RA,),
    ).fetchall()
    tables = sorted({r[0] for r in rows})
    assert len(tables) == 4
    by_table = [[(r[2], r[3]) for r in rows if r[0] == t] for t in tables]
    assert by_table == [
        [("pathway-conserved", "yes"), ("phenotype-conserved", "partial"), ("replicated-in-humans", "partial")],
        [("pathway-conserved", "yes"), ("phenotype-conserved", "partial"), ("replicated-in-humans", "yes")],
        [("pathway-conserved", "yes"), ("phenotype-conserved", "yes"), ("replicated-in-humans", "limited")],
        [("pathway-conserved", "yes"), ("phenotype-conserved", "yes"), ("replicated-in-humans", "in-progress")],
    ]
    qualifiers = [r[4] for r in rows]
    assert qualifiers[0] == "IL1RN, IL1R1 fully conserved"
    assert qualifiers[8] == "one trial, n=70, 13 weeks; larger replication needed"
    assert qualifiers[11] == "D-HART2 and larger trials pending"


def test_il1ra_fourteen_gap_tags_one_on_a_frontmatter_field(db):
    rows = db.execute(
        "select tag, location, field, source_line from gaps where page = ? order by seq", (IL1RA,)
    ).fetchall()
    assert len(rows) == 14
    assert rows[0] == ("gap/not-queried", "frontmatter", "gtex-aging-correlation", 17)
    counts = dict(db.execute("select tag, count(*) from gaps where page = ? group by tag", (IL1RA,)).fetchall())
    assert counts == {
        "gap/needs-replication": 4,
        "gap/no-mechanism": 4,
        "gap/not-queried": 2,
        "gap/needs-canonical-id": 1,
        "gap/unsourced": 1,
        "gap/no-fulltext-access": 2,
    }
    assert [line for (_, _, _, line) in rows[1:]] == [51, 81, 82, 121, 131, 159, 160, 161, 162, 163, 164, 166, 167]
    qualifier = db.execute("select qualifier from gaps where page = ? and source_line = 166", (IL1RA,)).fetchone()[0]
    assert qualifier == "Van Tassell 2014 only"


def test_il1ra_cross_references(db):
    relations = db.execute(
        "select field, target, target_exists from relations where page = ? order by source_line, position", (IL1RA,)
    ).fetchall()
    assert [(f, t) for f, t, _ in relations] == [
        ("pathways", "il-1-signaling"),
        ("hallmarks", "chronic-inflammation"),
        ("known-interactors", "il-1r1"),
        ("known-interactors", "il-1b"),
        ("known-interactors", "il-1a"),
        ("caused-by", "il-1b"),
        ("caused-by", "il-1a"),
        ("caused-by", "nf-kb"),
        ("causes", "il-1-signaling"),
    ]
    listed = db.execute(
        "select distinct target from links where page = ? "
        "and section = 'Pathway membership and cross-references' and kind = 'wikilink' order by source_line",
        (IL1RA,),
    ).fetchall()
    assert [t for (t,) in listed] == [
        "il-1-signaling",
        "nlrp3-inflammasome",
        "nf-kb",
        "chronic-inflammation",
        "il-1b",
        "il-1a",
        "il-1r1",
        "anakinra",
        "canakinumab",
    ]
    # Every wikilink of the page names a page of the snapshot, and says so.
    present = {p for (p,) in db.execute("select page from pages")}
    links = db.execute("select target_page, target_exists from links where page = ? and kind = 'wikilink'", (IL1RA,))
    links = links.fetchall()
    assert len(links) == 25 and all(target in present and exists == 1 for target, exists in links), links


def test_book_chapter_record_linked_to_il1_pages(db):
    row = db.execute(
        "select isbn_print, publisher, page_count, publication_date, peer_reviewed, host_subtitle from bibliography"
    ).fetchone()
    assert row == (
        "9781608055203",
        "Bentham Science Publishers Ltd.",
        24,
        "2012-12-01",
        1,
        "Cytokines and Chemokines that Affect Tumor Growth and Metastasis",
    )
    pages = {p for (p,) in db.execute("select page from bibliography_pages")}
    assert IL1RA in pages and "molecules/compounds/anakinra" in pages

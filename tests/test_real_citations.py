"""Citations on the real wiki: one journal per venue_id however it is
spelled, empty records reported, warnings that name what a record lacks,
and gap tags in quoted frontmatter values."""

import pytest

from etl.venues import venue_key

from .conftest import REAL_WIKI


@pytest.fixture(scope="module")
def db(real_db):
    return real_db


@pytest.fixture(scope="module")
def diagnostics(real_build):
    out, _ = real_build
    return (out / "diagnostics.txt").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    "venue, spellings",
    [
        ("nature-communications", ["Nature Communications", "Nat Commun"]),
        ("nature-medicine", ["Nature Medicine", "Nat Med"]),
        ("cell-metabolism", ["Cell Metabolism", "Cell Metab"]),
        ("new-england-journal-of-medicine", ["NEJM", "N Engl J Med", "New England Journal of Medicine"]),
    ],
)
def test_a_journal_is_one_venue_however_it_is_spelled(db, venue, spellings):
    keys = {venue_key(s) for s in spellings}
    written = [v for (v,) in db.execute("select venue from footnotes where venue is not null")]
    spelled = sum(1 for v in written if venue_key(v) in keys)
    counted = db.execute("select count(*) from footnotes where venue_id = ?", [venue]).fetchone()[0]
    assert spelled > 0 and counted == spelled
    assert db.execute("select footnotes from venues where venue = ?", [venue]).fetchone()[0] == counted
    seen = set(db.execute("select count(distinct venue) from footnotes where venue_id = ?", [venue]).fetchone())
    assert seen != {1}  # several spellings fold into the one journal


def test_every_venue_row_is_a_distinct_journal(db):
    names = [n for (n,) in db.execute("select name from venues")]
    assert len(names) == len(set(names)) > 1000
    assert db.execute("select count(*) from works w join venues v on v.venue = w.venue_id").fetchone()[0] > 3000


def test_empty_records_are_reported_not_silent(diagnostics):
    for line in (96, 106, 172):
        assert any(
            d.startswith(f"interventions/pharmacological/glp1-agonists.md:{line}: warning:") and "[footnote-empty]" in d
            for d in diagnostics
        ), line


def test_every_incomplete_record_has_a_warning_naming_what_it_lacks(db, diagnostics):
    flagged = {
        tuple(d.split(":")[:2])
        for d in diagnostics
        if any(
            code in d
            for code in (
                "[citation-no-identifier]",
                "[citation-no-authors]",
                "[citation-no-year]",
                "[citation-shape]",
                "[footnote-empty]",
            )
        )
    }
    incomplete = {
        (path, str(line))
        for path, line in db.execute("select source_path, source_line from footnotes where parse_status != 'parsed'")
    }
    assert incomplete and incomplete <= flagged


def test_a_gap_tag_opening_a_quoted_frontmatter_value_is_a_gap(db):
    assert (
        (REAL_WIKI / "molecules/proteins/cxcl12.md")
        .read_text()
        .split("\n")[18]
        .startswith('gtex-aging-correlation: "#gap/not-populated')
    )
    row = db.execute(
        "select tag, field, claim from gaps where page = 'molecules/proteins/cxcl12' and source_line = 19"
    ).fetchone()
    assert row[0] == "gap/not-populated" and row[1] == "gtex-aging-correlation" and "GTEx" in row[2]

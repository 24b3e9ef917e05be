"""A footnote takes the year, venue, authors and design its record leaves
out from the work it cites (its study page, another record, a DOI prefix
data/venues.yml declares), says where each came from, and never replaces
what the record states. Built from a copy of the fixture wiki with one page
of records added (10.5555 is Crossref's test prefix; the acel DOI is made
up to try the declared prefix)."""

import shutil
import sqlite3

import pytest

from etl.options import BuildOptions
from etl.pipeline.build import build
from etl.schema import load_schema

from .conftest import FIXTURE_WIKI

CITING_PAGE = """---
type: protein
aliases: []
---

# Demo inheritor

Cites the fixture's works again with less said [^bare] [^study] [^prefixed] [^loose] [^other].

[^bare]: doi:10.5555/demo.alpha
[^other]: doi:10.5555/demo.alpha · Alpha A · Other Journal 2018 · rct
[^study]: [[studies/demo-study]] · n=12
[^prefixed]: doi:10.1111/acel.demo1
[^loose]: Zeta Z · Demo Journal 2019
"""
COLUMNS = (
    "label, year, year_origin, venue, venue_id, venue_origin, authors, author_surnames, first_author, "
    "authors_origin, design, design_origin, work"
)


@pytest.fixture
def wiki(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    copy = tmp_path / "wiki"
    shutil.copytree(FIXTURE_WIKI, copy)
    (copy / "molecules" / "proteins" / "demo-inheritor.md").write_text(CITING_PAGE, encoding="utf-8")
    return copy


def footnotes(out) -> dict[str, sqlite3.Row]:
    db = sqlite3.connect(out / "agingkb.db")
    db.row_factory = sqlite3.Row
    rows = {
        r["page"].rsplit("/", 1)[-1] + "#" + r["label"]: r for r in db.execute(f"select page, {COLUMNS} from footnotes")
    }
    works = {r["work"]: r for r in db.execute("select * from works")}
    return rows, works


def test_a_footnote_takes_what_its_record_leaves_out_and_says_from_where(wiki, tmp_path):
    out = tmp_path / "out"
    result = build(wiki, out, options=BuildOptions(jobs=1))
    rows, works = footnotes(out)
    # Only a DOI: the rest from the other records citing the work. The
    # records disagree on the year (2018 on this page, 2020 on demo-kinase):
    # the work keeps the first in page order, and so does this footnote.
    bare, alpha = rows["demo-inheritor#bare"], works["doi:10.5555/demo.alpha"]
    assert any(d.code == "work-conflict" and "doi:10.5555/demo.alpha" in d.message for d in result.diagnostics)
    assert (bare["year"], bare["year_origin"]) == (alpha["year"], "other-footnote") == (2018, "other-footnote")
    assert (bare["venue"], bare["venue_origin"]) == ("Other Journal", "other-footnote")
    assert (bare["authors"], bare["first_author"], bare["authors_origin"]) == (
        "Alpha A, Beta B",
        "Alpha A",
        "other-footnote",
    )
    assert bare["author_surnames"] == '["Alpha", "Beta"]'
    assert (bare["design"], bare["design_origin"]) == ("rct", "other-footnote")
    # What a record states stays, even where another record says otherwise.
    kinase = rows["demo-kinase#alpha2020"]
    assert (kinase["year"], kinase["venue"], kinase["year_origin"], kinase["venue_origin"]) == (
        2020,
        "Demo Journal",
        "stated",
        "stated",
    )
    # A bare link to a study page: its frontmatter, whatever other records say.
    study = rows["demo-inheritor#study"]
    assert (study["year"], study["venue"], study["first_author"], study["design"]) == (
        2021,
        "Demo Letters",
        "Gamma G",
        "in-vivo",
    )
    assert {study[f"{name}_origin"] for name in ("year", "venue", "authors", "design")} == {"study-page"}
    # A DOI under a prefix data/venues.yml declares names that journal, and nothing else.
    prefixed = rows["demo-inheritor#prefixed"]
    assert (prefixed["venue"], prefixed["venue_id"], prefixed["venue_origin"]) == (
        "Aging Cell",
        "aging-cell",
        "doi-prefix",
    )
    assert works[prefixed["work"]]["venue_origin"] == "doi-prefix"
    assert (prefixed["year"], prefixed["year_origin"], prefixed["authors"], prefixed["authors_origin"]) == (None,) * 4
    # A record citing no work keeps what it states and takes nothing.
    loose = rows["demo-inheritor#loose"]
    assert loose["work"] is None and (loose["year"], loose["year_origin"]) == (2019, "stated")
    assert (loose["design"], loose["design_origin"]) == (None, None)


def test_a_cached_page_takes_what_the_study_page_says_now(wiki, tmp_path):
    """The rows of a page come from the cache, but what it takes from a work
    is taken again in every build."""
    out = tmp_path / "out"
    build(wiki, out, options=BuildOptions(jobs=1))
    study = wiki / "studies" / "demo-study.md"
    study.write_text(study.read_text(encoding="utf-8").replace("year: 2021", "year: 2022"), encoding="utf-8")
    again = build(wiki, out, options=BuildOptions(jobs=1))
    assert again.pages_from_cache >= 2  # demo-kinase and demo-inheritor were not parsed again
    rows, _ = footnotes(out)
    for key in ("demo-kinase#beta2021", "demo-inheritor#study"):
        assert (rows[key]["year"], rows[key]["year_origin"]) == (2022, "study-page"), key


def test_a_doi_names_a_journal_only_by_a_declared_prefix():
    venues = load_schema().venues
    assert venues.lookup_doi("10.1111/ACEL.13000").venue == "aging-cell"  # DOIs are case-blind
    assert venues.lookup_doi("10.1016/S0092-8674(00)80001-1").venue == "cell"
    assert venues.lookup_doi("10.1016/j.cellsig.2020.1") is None  # 'j.cell.' is Cell's, not Cellular Signalling's
    assert venues.lookup_doi("10.1038/nature01322") is None  # not declared: a record names Science for it
    assert venues.lookup_doi("10.5555/demo.alpha") is None and venues.lookup_doi(None) is None

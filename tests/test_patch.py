"""A build patched in place (etl/pipeline/patch.py) gives what a build from
scratch gives: every package file and the zip byte for byte, every table
of the database, the full-text indexes by content (integrity-check and
the fixed queries of benchmarks/fts_queries.py, in rank order), the
diagnostics and the record of what was validated."""

import json
import shutil
import sqlite3

import pytest

from benchmarks.compare_builds import differences
from etl.options import BuildOptions
from etl.pipeline.build import BuildError, build
from etl.pipeline.layout import load_layout

from .conftest import FIXTURE_WIKI

PAGE = "molecules/proteins/demo-kinase.md"


@pytest.fixture
def wiki(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    copy = tmp_path / "wiki"
    shutil.copytree(FIXTURE_WIKI, copy)
    assert build(copy, tmp_path / "out", options=BuildOptions(jobs=2)).patched is None
    return copy


def same_as_fresh(wiki, tmp_path, name, jobs=2):
    """Rebuild in place, build from scratch, compare everything a reader sees."""
    patched = build(wiki, tmp_path / "out", options=BuildOptions(jobs=jobs))
    fresh_dir = tmp_path / f"fresh-{name}"
    fresh = build(wiki, fresh_dir, options=BuildOptions(jobs=jobs))
    out = tmp_path / "out"
    assert differences(out, fresh_dir) == []
    for name in ("datapackage.zip", "diagnostics.txt"):
        assert (out / name).read_bytes() == (fresh_dir / name).read_bytes(), name
    for name in ("package/datapackage.json", "package/croissant.json"):  # the build's time is fixed here
        assert (out / name).read_bytes() == (fresh_dir / name).read_bytes(), name
    records = [json.loads((d / ".cache" / "validated.json").read_text()) for d in (out, fresh_dir)]
    assert records[0]["resources"] == records[1]["resources"]
    summaries = [json.loads((d / "summary.json").read_text()) for d in (out, fresh_dir)]
    for summary in summaries:
        for how in ("pages_from_cache", "resources_validated"):
            summary.pop(how)
    assert summaries[0] == summaries[1]
    assert patched.rows == fresh.rows
    assert recorded(out) == recorded(fresh_dir)
    return patched


def recorded(out_dir) -> dict:
    """The record a build leaves for the next to patch, but for the build's name."""
    layout = load_layout(out_dir)
    assert layout is not None
    return {**vars(layout), "build": None, "chunks": (layout.chunks.pages, layout.chunks.columns)}


def edit(wiki, change, page=PAGE):
    path = wiki / page
    path.write_text(change(path.read_text()))


def test_a_sentence_added_is_patched_in_place(wiki, tmp_path):
    edit(wiki, lambda text: text + "\nOne more sentence about the demo kinase.\n")
    result = same_as_fresh(wiki, tmp_path, "sentence")
    assert result.patched and {"pages", "sections", "source_files", "snapshots"} >= set(result.patched)
    assert 0 < result.resources_validated < result.resources


def test_a_section_added_moves_the_rows_after_it(wiki, tmp_path):
    # A new heading early in the page: every later section of it and of the
    # pages after it moves one row down, in the table and its index.
    edit(wiki, lambda text: text.replace("\n## ", "\n## An inserted heading\n\nWords under it.\n\n## ", 1))
    result = same_as_fresh(wiki, tmp_path, "section")
    assert "sections" in result.patched
    edit(wiki, lambda text: text.replace("## An inserted heading\n\nWords under it.\n\n", "", 1))
    assert "sections" in same_as_fresh(wiki, tmp_path, "section-gone").patched


def test_a_gap_tag_added_and_removed(wiki, tmp_path):
    edit(wiki, lambda text: text + "\nThis needs a second lab. #gap/needs-replication\n")
    result = same_as_fresh(wiki, tmp_path, "gap")
    if result.patched is not None:  # a tag the corpus had not seen is a corpus change
        assert "gaps" in result.patched
    edit(wiki, lambda text: text.replace("\nThis needs a second lab. #gap/needs-replication\n", ""))
    same_as_fresh(wiki, tmp_path, "gap-gone")


def test_a_changed_citation_joins_the_corpus_again(wiki, tmp_path):
    edit(
        wiki,
        lambda text: text.replace(
            "[^alpha2020]: ",
            "[^gamma2022]: doi:10.5555/demo.gamma · Gamma G · Demo Journal 2022 · review\n[^alpha2020]: ",
            1,
        ),
    )
    result = same_as_fresh(wiki, tmp_path, "citation")
    assert {"works", "authors", "footnotes"} <= set(result.patched)


def test_a_fact_another_page_takes_changes_its_footnotes_too(wiki, tmp_path):
    # The pathway page cites the kinase page's work without a year or
    # authors, so its footnote takes them from the kinase page's record;
    # when that record's year changes, the pathway's footnote row must too,
    # though the pathway page itself is not edited.
    edit(
        wiki,
        lambda text: (
            text + "\nIts scaffold was described once [^alpha].\n\n[^alpha]: doi:10.5555/demo.alpha · review\n"
        ),
        page="pathways/demo-pathway.md",
    )
    build(wiki, tmp_path / "out", options=BuildOptions(jobs=2))
    edit(wiki, lambda text: text.replace("Demo Journal 2020", "Demo Journal 2019", 1))
    result = same_as_fresh(wiki, tmp_path, "year")
    assert "footnotes" in result.patched
    with sqlite3.connect(tmp_path / "out" / "agingkb.db") as connection:
        taken = connection.execute(
            "select year, year_origin from footnotes where source_path = 'pathways/demo-pathway.md'"
        ).fetchall()
    assert taken == [(2019, "other-footnote")]


def test_a_gap_tag_the_vocabulary_lacks_is_a_full_build(wiki, tmp_path):
    # The gap_tags vocabulary is an enum of the gaps table's schema: every row
    # is validated under the new one.
    edit(wiki, lambda text: text + "\nStill open. #gap/an-undeclared-demo-tag\n")
    assert same_as_fresh(wiki, tmp_path, "new-tag").patched is None


def test_one_process_patches_alike(wiki, tmp_path):
    edit(wiki, lambda text: text + "\nA sentence written on one process.\n")
    assert same_as_fresh(wiki, tmp_path, "one-process", jobs=1).patched


def test_edits_in_a_row_and_back(wiki, tmp_path):
    original = (wiki / PAGE).read_text()
    for step in range(3):
        edit(wiki, lambda text, step=step: text + f"\nSentence number {step}.\n")
        assert same_as_fresh(wiki, tmp_path, f"step-{step}").patched
    (wiki / PAGE).write_text(original)
    assert same_as_fresh(wiki, tmp_path, "back").patched


def test_an_edit_after_a_blocked_build(wiki, tmp_path):
    before = (tmp_path / "out" / "package" / "pages.csv").read_bytes()
    original = (wiki / PAGE).read_text()
    edit(wiki, lambda text: text.replace("type: protein", "type: [broken", 1))
    with pytest.raises(BuildError, match="yaml-syntax"):
        build(wiki, tmp_path / "out", options=BuildOptions(jobs=2))
    assert (tmp_path / "out" / "package" / "pages.csv").read_bytes() == before
    (wiki / PAGE).write_text(original + "\nFixed again.\n")
    assert same_as_fresh(wiki, tmp_path, "fixed").patched


def test_the_full_text_index_after_a_patch_answers_like_a_fresh_one(wiki, tmp_path):
    edit(wiki, lambda text: text + "\nZymurgy is a rare word for this index.\n")
    same_as_fresh(wiki, tmp_path, "rare-word")
    connection = sqlite3.connect(tmp_path / "out" / "agingkb.db")
    try:
        connection.execute("insert into sections_fts (sections_fts, rank) values ('integrity-check', 1)")
        found = connection.execute("select rowid from pages_fts where pages_fts match 'zymurgy'").fetchall()
        assert len(found) == 1
        page = connection.execute("select page from pages where rowid = ?", found[0]).fetchone()[0]
        assert page == PAGE.removesuffix(".md")
    finally:
        connection.close()


def test_whole_makes_every_table_from_the_pages(wiki, tmp_path):
    from etl.options import BuildOptions as Options

    edit(wiki, lambda text: text + "\nA sentence for a whole build.\n")
    result = build(wiki, tmp_path / "out", options=Options(jobs=2, patch=False))
    assert result.patched is None and result.resources_validated < result.resources
    assert differences(tmp_path / "out", build_fresh(wiki, tmp_path / "fresh")) == []


def build_fresh(wiki, out):
    build(wiki, out, options=BuildOptions(jobs=2))
    return out

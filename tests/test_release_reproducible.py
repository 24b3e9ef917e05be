"""A release's bytes depend on its inputs alone: the released database is the
same file whether the build was made from scratch or patched in place by an
edit and its revert, and the same inputs give the same SHA256SUMS."""

import shutil
import sqlite3

import pytest

from etl.options import BuildOptions
from etl.output.database import canonical_copy
from etl.pipeline.build import build
from etl.release.dist import make_release
from etl.wiki.discover import file_sha256 as sha256

from .conftest import FIXTURE_WIKI


@pytest.fixture
def inputs(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    monkeypatch.delenv("FLY_APP", raising=False)


def test_an_edit_and_its_revert_release_the_bytes_of_a_fresh_build(inputs, tmp_path):
    wiki = tmp_path / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    build(wiki, tmp_path / "patched", options=BuildOptions(jobs=1))
    page = wiki / "molecules" / "proteins" / "demo-kinase.md"
    original = page.read_text()
    page.write_text(original.replace("- A claim with no source at all #gap/unsourced\n", "") + "\nA new sentence.\n")
    edited = build(wiki, tmp_path / "patched", options=BuildOptions(jobs=1))
    page.write_text(original)
    reverted = build(wiki, tmp_path / "patched", options=BuildOptions(jobs=1))
    # Both rebuilds patched the database of the one before (the pages cache hit).
    assert edited.pages_from_cache > 0 and reverted.pages_from_cache > 0
    build(wiki, tmp_path / "fresh", options=BuildOptions(jobs=1))
    patched = make_release(tmp_path / "patched", tmp_path / "dist-patched")
    fresh = make_release(tmp_path / "fresh", tmp_path / "dist-fresh")
    assert patched.version == fresh.version
    assert sha256(patched.directory / "agingkb.db") == sha256(fresh.directory / "agingkb.db")
    assert (patched.directory / "SHA256SUMS").read_text() == (fresh.directory / "SHA256SUMS").read_text()


def test_the_same_inputs_give_the_same_release(inputs, tmp_path):
    build(FIXTURE_WIKI, tmp_path / "build", options=BuildOptions(jobs=1))
    first = make_release(tmp_path / "build", tmp_path / "one")
    second = make_release(tmp_path / "build", tmp_path / "two")
    assert (first.directory / "SHA256SUMS").read_text() == (second.directory / "SHA256SUMS").read_text()
    # The app too: every file, byte for byte.
    files = sorted(p.relative_to(first.directory) for p in first.directory.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second.directory) for p in second.directory.rglob("*") if p.is_file())
    for name in files:
        assert (first.directory / name).read_bytes() == (second.directory / name).read_bytes(), name


def test_a_database_not_loaded_as_a_fresh_build_loads_it_is_refused(tmp_path):
    """Rowids are the CSV order of a load into an empty table; a table whose
    rows were deleted and appended has others, which VACUUM INTO would keep."""
    source = tmp_path / "patched.db"
    db = sqlite3.connect(source)
    db.execute("create table pages (page text primary key, title text)")
    db.executemany("insert into pages values (?, ?)", [("a", "A"), ("b", "B")])
    db.execute("create table changes (id integer primary key, what text)")  # rowid = its key: not checked
    db.execute("insert into changes values (7, 'x')")
    db.commit()
    canonical_copy(source, tmp_path / "ok.db")
    assert sqlite3.connect(tmp_path / "ok.db").execute("select * from pages order by rowid").fetchall() == [
        ("a", "A"),
        ("b", "B"),
    ]
    db.execute("delete from pages where page = 'a'")
    db.execute("insert into pages values ('a', 'A')")
    db.commit()
    db.close()
    with pytest.raises(ValueError, match="table pages has rowids other than 1..2"):
        canonical_copy(source, tmp_path / "refused.db")

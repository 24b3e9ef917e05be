"""A build into an output directory that already holds one reuses the pages
that did not change (etl/pipeline/cache.py) and gives the same bytes as a build from
scratch: every CSV, datapackage.json apart from `created`, every table."""

import shutil

import pytest

from benchmarks.compare_builds import differences
from etl.options import BuildOptions
from etl.pipeline.build import BuildError, build

from .conftest import FIXTURE_WIKI

NEW_HALLMARK = """---
type: hallmark
aliases: []
---

# Missing hallmark

Now written; two pages already link here.
"""


@pytest.fixture
def wiki(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    copy = tmp_path / "wiki"
    shutil.copytree(FIXTURE_WIKI, copy)
    first = build(copy, tmp_path / "out", options=BuildOptions(jobs=1))
    assert first.pages_from_cache == 0
    return copy


def rebuild_and_compare(wiki, tmp_path, name):
    """Rebuild in place, build the same pages from scratch, compare."""
    again = build(wiki, tmp_path / "out", options=BuildOptions(jobs=1))
    fresh = build(wiki, tmp_path / f"fresh-{name}", options=BuildOptions(jobs=1))
    assert differences(tmp_path / "out", tmp_path / f"fresh-{name}") == []
    assert fresh.pages_from_cache == 0
    return again


def pages(wiki):
    return len(list(wiki.rglob("*.md"))) - 1  # log/ is skipped


def test_an_added_footnote_reparses_only_its_page(wiki, tmp_path):
    page = wiki / "molecules" / "proteins" / "demo-kinase.md"
    page.write_text(
        page.read_text().replace(
            "[^alpha2020]: ",
            "[^gamma2022]: doi:10.5555/demo.gamma · Gamma G · Demo Journal 2022 · review\n[^alpha2020]: ",
            1,
        )
    )
    result = rebuild_and_compare(wiki, tmp_path, "footnote")
    assert result.pages_from_cache == pages(wiki) - 1
    original = build(FIXTURE_WIKI, tmp_path / "orig", options=BuildOptions(jobs=1))
    assert result.rows["footnotes"] == original.rows["footnotes"] + 1


def test_an_added_page_updates_the_links_that_name_it(wiki, tmp_path):
    (wiki / "hallmarks").mkdir()
    (wiki / "hallmarks" / "missing-hallmark.md").write_text(NEW_HALLMARK)
    result = rebuild_and_compare(wiki, tmp_path, "added")
    # The two pages linking to it change their target_exists flags; the third page is reused.
    assert result.pages_from_cache == pages(wiki) - 3
    assert not [d for d in result.diagnostics if d.code == "wikilink-missing"]


def test_a_removed_page(wiki, tmp_path):
    (wiki / "studies" / "demo-study.md").unlink()
    result = rebuild_and_compare(wiki, tmp_path, "removed")
    # Only the page that links to it is parsed again, and its link now names no page.
    assert result.pages_from_cache == pages(wiki) - 1
    assert not [d for d in result.diagnostics if d.path == "studies/demo-study.md"]
    assert [d.path for d in result.diagnostics if d.code == "wikilink-missing" and "demo-study" in d.message] == [
        "molecules/proteins/demo-kinase.md"
    ]


def test_a_renamed_page_others_link_to(wiki, tmp_path):
    (wiki / "molecules" / "proteins" / "demo-kinase.md").rename(
        wiki / "molecules" / "proteins" / "demo-kinase-renamed.md"
    )
    result = rebuild_and_compare(wiki, tmp_path, "renamed")
    assert any(d.code == "wikilink-missing" and "[[demo-kinase]]" in d.message for d in result.diagnostics)


def test_a_bad_edit_blocks_the_build_and_never_leaves_a_stale_row(wiki, tmp_path):
    page = wiki / "pathways" / "demo-pathway.md"
    original = page.read_text()
    before = (tmp_path / "out" / "package" / "pages.csv").read_bytes()
    page.write_text(original.replace("type: pathway", "type: [broken", 1))
    with pytest.raises(BuildError, match="yaml-syntax"):
        build(wiki, tmp_path / "out", options=BuildOptions(jobs=1))
    assert (tmp_path / "out" / "package" / "pages.csv").read_bytes() == before
    page.write_text(original.replace("# Demo pathway", "# Demo pathway, retitled", 1))
    result = rebuild_and_compare(wiki, tmp_path, "fixed")
    assert result.pages_from_cache == pages(wiki) - 1
    assert "Demo pathway, retitled" in (tmp_path / "out" / "package" / "pages.csv").read_text()


def test_an_edit_revalidates_and_reloads_only_what_changed(wiki, tmp_path):
    page = wiki / "molecules" / "proteins" / "demo-kinase.md"
    page.write_text(page.read_text() + "\nOne more sentence.\n")
    result = rebuild_and_compare(wiki, tmp_path, "sentence")
    assert 0 < result.resources_validated < result.resources  # pages, sections, source files, the snapshot...
    assert build(wiki, tmp_path / "out", options=BuildOptions(jobs=1)).resources_validated == 0  # nothing changed since


def test_a_build_killed_after_publishing_loads_a_fresh_database(wiki, tmp_path):
    """A build killed after publishing but before recording what it validated
    leaves the record of the build before. The next build must not patch the
    published database by that older record: here the edit it undoes would
    stay in the database."""
    record = tmp_path / "out" / ".cache" / "validated.json"
    older = record.read_bytes()
    page = wiki / "molecules" / "proteins" / "demo-kinase.md"
    original = page.read_text()
    page.write_text(original + "\nA sentence the next build takes back.\n")
    build(wiki, tmp_path / "out", options=BuildOptions(jobs=1))
    record.write_bytes(older)  # as if killed before the record was written
    page.write_text(original)
    rebuild_and_compare(wiki, tmp_path, "killed")


def test_which_resources_need_validating():
    from etl.output.fingerprints import changed_resources, resources_to_validate

    descriptor = {
        "resources": [
            {"name": "pages", "schema": {}},
            {
                "name": "links",
                "schema": {
                    "foreignKeys": [{"fields": ["page"], "reference": {"resource": "pages", "fields": ["page"]}}]
                },
            },
            {"name": "terms", "schema": {}},
        ]
    }

    def fingerprints(**changes):
        resources = {name: {"bytes": "b", "descriptor": "d", "keys": "k"} for name in ("pages", "links", "terms")}
        for name, (part, value) in changes.items():
            resources[name][part] = value
        return {"frictionless": "5.21.0", "resources": resources}

    before = fingerprints()
    assert resources_to_validate(descriptor, fingerprints(), None) == ["pages", "links", "terms"]
    assert resources_to_validate(descriptor, fingerprints(), before) == []
    assert resources_to_validate(descriptor, fingerprints(pages=("bytes", "new body")), before) == [
        "pages"
    ]  # same keys: links stand
    assert resources_to_validate(descriptor, fingerprints(pages=("keys", "a page removed")), before) == ["links"]
    assert resources_to_validate(descriptor, fingerprints(terms=("descriptor", "a new column")), before) == ["terms"]
    assert resources_to_validate(descriptor, {**fingerprints(), "frictionless": "6.0"}, before) == [
        "pages",
        "links",
        "terms",
    ]
    assert changed_resources(before, fingerprints(links=("bytes", "x"), terms=("descriptor", "y"))) == {
        "links",
        "terms",
    }


def test_check_of_one_page_with_the_cache_says_what_a_full_check_says(wiki, tmp_path, monkeypatch):
    """`etl check --cache-dir` of one edited page: before the next build (the
    pages are joined again), after it (the join is read back), and after
    another page changed (joined again), the page's diagnostics are a full
    check's, a work conflict found only by joining pages included."""
    import etl.pipeline.build
    from etl.pipeline.check import check_wiki

    cache = tmp_path / "out" / ".cache"
    path = "molecules/proteins/demo-kinase.md"
    page = wiki / path
    # The same DOI as [^alpha2020] with another year: a conflict only the join of all footnotes finds.
    page.write_text(
        page.read_text().replace(
            "[^alpha2020]: ",
            "[^alpha-again]: doi:10.5555/demo.alpha · Alpha A · Demo Journal 2019 · rct\n[^alpha2020]: ",
            1,
        )
        + "\nSee also [[another-missing-page]].\n"
    )

    def full_check():
        return check_wiki(wiki, {path}, options=BuildOptions(jobs=1))

    expected = full_check()
    assert {"work-conflict", "wikilink-missing"} <= {d.code for d in expected}
    assert check_wiki(wiki, {path}, cache_dir=cache, options=BuildOptions(jobs=1)) == expected

    build(wiki, tmp_path / "out", options=BuildOptions(jobs=1))

    def no_join(*args):
        raise AssertionError("the pages were joined again")

    with monkeypatch.context() as patched:
        patched.setattr(etl.pipeline.build.Corpus, "add_page", no_join)
        assert check_wiki(wiki, {path}, cache_dir=cache, options=BuildOptions(jobs=1)) == expected

    other = wiki / "studies" / "demo-study.md"
    other.write_text(other.read_text() + "\nAlso [[yet-another-missing-page]].\n")
    assert check_wiki(wiki, {path}, cache_dir=cache, options=BuildOptions(jobs=1)) == full_check() == expected


def test_check_with_a_build_cache_gives_every_page_what_a_full_check_gives(real_build):
    """On the real wiki, after a build: every page checked through the build's
    cache (page entries and the join read back) against a check from scratch."""
    from etl.pipeline.check import check_wiki

    from .conftest import REAL_WIKI

    out, _ = real_build
    full = check_wiki(REAL_WIKI)
    paths = {str(p.relative_to(REAL_WIKI)) for p in REAL_WIKI.rglob("*.md")}
    assert check_wiki(REAL_WIKI, paths, cache_dir=out / ".cache") == [d for d in full if d.path in paths]
    assert len(full) > 5000


def test_a_worker_sends_the_page_cache_s_own_pickles_and_they_load_as_the_result(tmp_path, schema):
    """A parse worker pickles each page once, for its cache entry, and sends
    those bytes; what the build loads from them is the result the worker
    made, and the entry holds the same."""
    from etl.pipeline.cache import PageCache, code_version
    from etl.pipeline.index import corpus_index
    from etl.pipeline.workers import PageProcessor, StoredResult
    from etl.wiki.discover import discover

    options = BuildOptions()
    discovery = discover(FIXTURE_WIKI, None, options.data_dir, None, None)
    cache = PageCache(tmp_path / "cache", code_version(options.data_dir, options.max_page_bytes))
    index = corpus_index(discovery, schema, cache)
    processor = PageProcessor(index, schema, options, cache)
    checked = 0
    for page in discovery.pages:
        key = PageCache.key(page.path, page.sha256)
        job = (page.path, str(page.absolute), key)
        made = processor(job)
        sent = processor.stored(job)
        assert isinstance(sent, StoredResult)
        loaded = sent.loaded()
        assert loaded == made and loaded.tables and loaded.journal == made.journal
        assert cache.valid(key, index)
        assert cache.load(key, True, True) == made
        checked += 1
    assert checked == len(discovery.pages) >= 3
    assert not isinstance(PageProcessor(index, schema, options, None).stored(job), StoredResult)

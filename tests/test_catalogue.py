"""Every catalogue code, demonstrated on a fixture page: code, file and line."""

import json
import subprocess

import pytest

from etl.diagnostics import catalogue
from etl.options import BuildOptions
from etl.pipeline.build import BuildError, build
from etl.pipeline.check import check_wiki
from etl.release.docs import errors_markdown
from etl.schema import load_schema
from etl.wiki.parse import parse_page

from .conftest import BIN, FIXTURE_WIKI, ROOT

BAD_WIKI = ROOT / "tests" / "fixtures" / "bad_wiki"
SIZE_LIMIT = 4000  # page-too-large.md is just over it; every other fixture is under

EXPECTED = [
    ("not-utf8", "not-utf8.md", 7),
    ("empty-file", "empty-file.md", 1),
    ("page-too-large", "page-too-large.md", 1),
    ("slug-mismatch", "Bad_Slug.md", 1),
    ("slug-mismatch", "slug-mismatch.md", 3),
    ("slug-duplicate", "b/twin.md", 1),
    ("yaml-syntax", "yaml-syntax.md", 3),  # the unclosed '[' (parsing stops at 4)
    ("yaml-duplicate-key", "yaml-duplicate-key.md", 4),
    ("yaml-unclosed", "yaml-unclosed.md", 1),
    ("yaml-not-mapping", "yaml-not-mapping.md", 1),
    ("no-frontmatter", "no-frontmatter.md", 1),
    ("missing-type", "missing-type.md", 1),
    ("unknown-page-type", "unknown-page-type.md", 2),
    ("missing-field", "missing-field.md", 2),
    ("field-type", "field-type.md", 4),
    ("field-type", "field-type.md", 5),
    ("field-type", "unquoted-links.md", 6),
    ("field-vocabulary", "field-vocabulary.md", 4),
    ("study-design-unknown", "study-design-unknown.md", 8),
    ("identifier-format", "identifier-format.md", 4),
    ("identifier-format", "identifier-format.md", 16),
    ("identifier-format", "identifier-format.md", 18),
    ("year-range", "year-range.md", 9),
    ("verified-no-date", "verified-no-date.md", 4),
    ("footnote-undefined", "footnote-undefined.md", 7),
    ("footnote-unreferenced", "footnote-unreferenced.md", 9),
    ("footnote-duplicate", "footnote-duplicate.md", 10),
    ("citation-shape", "citation-shape.md", 9),
    ("footnote-empty", "footnote-empty.md", 9),
    ("citation-no-identifier", "citation-no-identifier.md", 9),
    ("citation-no-authors", "citation-no-authors.md", 9),
    ("citation-no-year", "citation-no-year.md", 9),
    ("venue-unmatched", "venue-unmatched.md", 9),
    ("citation-no-identifier", "identifier-format.md", 16),  # its only DOI is malformed
    ("citation-no-identifier", "trial-duplicate-b.md", 9),
    ("work-conflict", "work-conflict-b.md", 9),
    ("work-conflict", "work-conflict-c.md", 9),
    ("gap-tag-unknown", "gap-tag-unknown.md", 7),
    ("table-ragged", "table-ragged.md", 9),
    ("table-no-header", "table-no-header.md", 11),
    ("status-unknown", "status-unknown.md", 10),
    ("wikilink-missing", "wikilink-missing.md", 7),
    ("wikilink-missing", "page-slug-missing.md", 4),
    ("bibliography-page", "data/bibliography.yml", 4),
    ("trial-number-unparsed", "trial-number-unparsed.md", 9),
    ("trial-term-unmapped", "trial-number-unparsed.md", 9),
    ("trial-number-unparsed", "trial-number-unparsed.md", 13),
    ("trial-effect-outside-ci", "trial-number-unparsed.md", 18),
    ("trial-block-invalid", "trial-block-invalid.md", 12),
    ("trial-duplicate-suspect", "trial-duplicate-b.md", 9),
    ("trial-facts-conflict", "trial-facts-conflict.md", 11),
    ("trial-intervention-page-missing", "trial-intervention-page-missing.md", 11),
    ("trial-term-unmapped", "trial-intervention-page-missing.md", 11),
]


@pytest.fixture(scope="module")
def diagnostics():
    return check_wiki(BAD_WIKI, options=BuildOptions(jobs=1, max_page_bytes=SIZE_LIMIT))


@pytest.mark.parametrize("code,path,line", EXPECTED, ids=[f"{c}@{p}:{n}" for c, p, n in EXPECTED])
def test_code_is_reported_at_file_and_line(diagnostics, code, path, line):
    found = [(d.code, d.path, d.line) for d in diagnostics]
    assert (code, path, line) in found, [d.format() for d in diagnostics if d.path == path]


def test_every_catalogue_code_has_a_fixture():
    assert set(catalogue()) == {code for code, _, _ in EXPECTED}


def test_no_other_problems_in_the_bad_wiki(diagnostics):
    expected = {(c, p, n) for c, p, n in EXPECTED}
    assert [d.format() for d in diagnostics if (d.code, d.path, d.line) not in expected] == []


def test_did_you_mean_and_messages_name_the_problem(diagnostics):
    messages = {d.code: d.message for d in diagnostics}
    assert messages["gap-tag-unknown"] == "unknown gap tag #gap/needs-replicaton; did you mean #gap/needs-replication?"
    assert "[[no-such-page]]" in messages["wikilink-missing"]
    assert (
        "parent-system: 'no-such-system' names no page"
        in [d.message for d in diagnostics if d.path == "page-slug-missing.md"][0]
    )
    conflicts = sorted(d.message for d in diagnostics if d.code == "work-conflict")
    assert conflicts == [
        "doi:10.5555/conflict.1: journal 'Science' here but 'Nature' at work-conflict-a.md:9",
        "doi:10.5555/conflict.1: year 2002 here but 2001 at work-conflict-a.md:9",
    ]
    assert (
        "YAML 1.2 reads yes/no as text" in [d.message for d in diagnostics if d.code == "field-type" and d.line == 5][0]
    )


def test_errors_md_lists_every_code():
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == errors_markdown(catalogue()), "run `make docs`"


def test_blocking_problems_stop_the_build_and_keep_the_previous_one(tmp_path):
    out = tmp_path / "out"
    build(FIXTURE_WIKI, out, options=BuildOptions(jobs=1))
    before = {p.relative_to(out / "package").as_posix(): p.read_bytes() for p in (out / "package").rglob("*")}
    db_before = (out / "agingkb.db").read_bytes()
    with pytest.raises(BuildError) as caught:
        build(BAD_WIKI, out, options=BuildOptions(jobs=1, max_page_bytes=SIZE_LIMIT))
    message = str(caught.value)
    for line in ("not-utf8.md:7: error:", "yaml-syntax.md:3: error:", "page-too-large.md:1: error:"):
        assert line in message
    assert {p.relative_to(out / "package").as_posix(): p.read_bytes() for p in (out / "package").rglob("*")} == before
    assert (out / "agingkb.db").read_bytes() == db_before
    assert len(list((out / ".builds").iterdir())) == 1


def run_check(*args):
    return subprocess.run([str(BIN / "etl"), "check", *args], capture_output=True, text=True)


def test_check_cli_exit_codes_and_formats():
    bad = run_check("--wiki", str(BAD_WIKI), "--max-page-bytes", str(SIZE_LIMIT))
    assert bad.returncode == 1
    assert "not-utf8.md:7: error: file is not valid UTF-8" in bad.stdout
    assert "errors," in bad.stderr and "wikilink-missing" in bad.stderr

    clean = run_check("--wiki", str(FIXTURE_WIKI))
    assert clean.returncode == 0, clean.stdout
    strict = run_check("--wiki", str(FIXTURE_WIKI), "--strict")
    assert strict.returncode == 1 and "[[missing-hallmark]] names no page" in strict.stdout
    assert all(": error: " in line for line in strict.stdout.splitlines())

    one = run_check("--wiki", str(BAD_WIKI), "--format", "json", "gap-tag-unknown.md")
    assert one.returncode == 0
    assert [(d["path"], d["line"], d["code"]) for d in json.loads(one.stdout)] == [
        ("gap-tag-unknown.md", 7, "gap-tag-unknown")
    ]

    usage = run_check("--wiki", str(BAD_WIKI), "no/such/page.md")
    assert usage.returncode == 2 and "not a file" in usage.stderr
    assert run_check("--wiki", str(BAD_WIKI), "--format", "xml").returncode == 2


# --- the year rule --------------------------------------------------------


def test_year_bounds_come_from_the_catalogue():
    first, last = load_schema().year_bounds
    assert (first, last) == (1500, 2027)
    assert f"{first} to {last}" in catalogue()["year-range"]["means"]  # the docs state the bounds in force


def test_year_rule_at_both_bounds(tmp_path):
    """The same bounds for a typed year field and a cited work's year: each
    bound is in range, the year beyond it is not."""
    first, last = load_schema().year_bounds
    wiki = tmp_path / "wiki"
    wiki.mkdir()
    for year in (first - 1, first, last, last + 1):
        (wiki / f"h{year}.md").write_text(
            f"---\ntype: hypothesis\nproposed-year: {year}\n---\n\n# H\n\nA claim [^a].\n\n"
            f"[^a]: doi:10.5555/y.{year} · Eta E · Cell {year} · review\n",
            encoding="utf-8",
        )
    found = {(d.path, d.line) for d in check_wiki(wiki, options=BuildOptions(jobs=1)) if d.code == "year-range"}
    fields = {path for path, line in found if line == 3}
    footnotes = {path for path, line in found if line == 10}
    assert fields == {f"h{first - 1}.md", f"h{last + 1}.md"}
    # A record's year is read only from 1800 on, so the first bound is never met there.
    assert footnotes == {f"h{last + 1}.md"}
    for year, valid in ((first - 1, False), (first, True), (last, True), (last + 1, False)):
        typed = parse_page("h.md", f"---\ntype: hypothesis\nproposed-year: {year}\n---\n".encode(), load_schema())
        assert typed.typed_fields["proposed-year"].valid is valid
        assert typed.typed_fields["proposed-year"].typed == (year if valid else None)

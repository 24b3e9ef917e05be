"""`etl diff`: rows matched by their stable keys, so an edit shows as
exactly the rows it added, removed or changed; the summary in the wiki's
terms; the command on build directories and on git revisions."""

import json
import os
import shutil
import subprocess

import pytest

from etl.compare.changelog import summarise
from etl.compare.diff import change_rows, diff_packages
from etl.options import BuildOptions
from etl.pipeline.build import build

from .conftest import BIN, FIXTURE_WIKI, git

KINASE = "molecules/proteins/demo-kinase.md"
PAGE = "molecules/proteins/demo-kinase"


@pytest.fixture
def before(tmp_path_factory, schema):
    """The fixture wiki built once; each test edits a copy of it."""
    out = tmp_path_factory.mktemp("diff-before")
    build(FIXTURE_WIKI, out, options=BuildOptions(jobs=1))
    return out / "package"


def diff_after(edit, before, tmp_path, schema):
    wiki = tmp_path / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    edit(wiki)
    build(wiki, tmp_path / "out", options=BuildOptions(jobs=1))
    diffs = {d.table: d for d in diff_packages(before, tmp_path / "out" / "package", schema)}
    return diffs, change_rows(list(diffs.values()), schema)


def replace_in(wiki, path, old, new):
    page = wiki / path
    text = page.read_text()
    assert old in text
    page.write_text(text.replace(old, new, 1))


def keys(difference, kind):
    return sorted(key for key, *_ in getattr(difference, kind))


def test_a_footnote_inserted_in_the_middle_is_one_footnote_added(before, tmp_path, schema):
    def edit(wiki):
        replace_in(wiki, KINASE, "used to test the parser.", "used to test the parser [^gamma2022].")
        replace_in(
            wiki,
            KINASE,
            "[^beta2021]: ",
            "[^gamma2022]: doi:10.5555/demo.gamma · Gamma G · Demo Journal 2022 · review\n[^beta2021]: ",
        )

    diffs, _ = diff_after(edit, before, tmp_path, schema)
    footnotes = diffs["footnotes"]
    assert keys(footnotes, "added") == [f"{PAGE} · gamma2022"]
    assert footnotes.removed == [] and footnotes.changed == []  # beta2021 moved down a line and a seq: not a change
    assert keys(diffs["footnote_refs"], "added") == [f"{PAGE} · gamma2022"]
    assert diffs["footnote_refs"].removed == [] and diffs["footnote_refs"].changed == []
    assert keys(diffs["works"], "added") == ["doi:10.5555/demo.gamma"]
    summary = summarise(list(diffs.values()))
    assert summary.footnotes_added == [(PAGE, "gamma2022")] and summary.works_added == ["doi:10.5555/demo.gamma"]
    assert "gaps" not in diffs  # the gap after the new reference keeps its claim


def test_a_deleted_line_removes_exactly_its_gap(before, tmp_path, schema):
    diffs, rows = diff_after(
        lambda wiki: replace_in(wiki, KINASE, "- A claim with no source at all #gap/unsourced\n", ""),
        before,
        tmp_path,
        schema,
    )
    assert keys(diffs["gaps"], "removed") == [f"{PAGE} · gap/unsourced · A claim with no source at all #gap/unsourced"]
    assert diffs["gaps"].added == [] and diffs["gaps"].changed == []
    summary = summarise(list(diffs.values()))
    assert summary.gaps_closed == [(PAGE, "gap/unsourced", "A claim with no source at all #gap/unsourced")]
    assert summary.gaps_opened == []
    assert {
        "table_name": "gaps",
        "key": f"{PAGE} · gap/unsourced · A claim with no source at all #gap/unsourced",
        "kind": "removed",
        "column": None,
        "old_value": None,
        "new_value": None,
        "page": PAGE,
        "source_path": KINASE,
        "source_line": 32,
        "row_filter": "page=molecules%2Fproteins%2Fdemo-kinase&tag=gap%2Funsourced"
        "&claim=A+claim+with+no+source+at+all+%23gap%2Funsourced",
    } in rows


def test_moving_rows_within_a_page_changes_no_fact(before, tmp_path, schema):
    def edit(wiki):
        page = wiki / KINASE
        text = page.read_text()
        first = "- One small trial hinted at benefit [^alpha2020] #gap/needs-replication (single site)\n"
        second = "- A claim with no source at all #gap/unsourced\n"
        text = text.replace(first + second, second + first)
        alpha = next(line for line in text.splitlines(keepends=True) if line.startswith("[^alpha2020]:"))
        page.write_text(text.replace(alpha, "") + alpha)  # the definition moves to the end

    diffs, _ = diff_after(edit, before, tmp_path, schema)
    for table in ("gaps", "footnotes", "footnote_refs", "links", "status_assessments", "works", "trials"):
        assert table not in diffs, (table, diffs.get(table))
    assert set(diffs) <= {"sections", "pages"}  # the text of the section and the page did change


def test_an_edited_footnote_record_is_one_footnote_changed(before, tmp_path, schema):
    diffs, rows = diff_after(
        lambda wiki: replace_in(wiki, KINASE, "rct · n=40 (20 drug / 20 placebo)", "rct · n=44 (22 drug / 22 placebo)"),
        before,
        tmp_path,
        schema,
    )
    footnotes = diffs["footnotes"]
    assert footnotes.added == [] and footnotes.removed == []
    [(key, old, new, columns)] = footnotes.changed
    assert key == f"{PAGE} · alpha2020"
    assert columns["n"] == ("40", "44")
    assert "record" in columns and "n_text" in columns
    assert {r["column"] for r in rows if r["table_name"] == "footnotes"} == set(columns)


def test_a_renamed_page_is_reported_as_renamed_and_its_rows_move_with_it(before, tmp_path, schema):
    def edit(wiki):
        (wiki / "pathways" / "demo-pathway.md").rename(wiki / "pathways" / "demo-signalling.md")

    diffs, _ = diff_after(edit, before, tmp_path, schema)
    summary = summarise(list(diffs.values()))
    assert summary.pages_renamed == [("pathways/demo-pathway", "pathways/demo-signalling")]
    assert summary.pages_added == [] and summary.pages_removed == []
    assert summary.gaps_opened == [] and summary.gaps_closed == []
    # The pages linking to the old name now point at a missing page.
    changed_links = {
        (key, column): values for key, _, _, columns in diffs["links"].changed for column, values in columns.items()
    }
    assert any(column == "target_exists" and values == ("1", "0") for (_, column), values in changed_links.items())


def test_grades_verification_and_identifier_fixes_in_the_wiki_terms(before, tmp_path, schema):
    def edit(wiki):
        replace_in(
            wiki,
            KINASE,
            "| Replicated in humans? | in-progress — a second trial runs |",
            "| Replicated in humans? | yes — the second trial agreed |",
        )
        replace_in(wiki, KINASE, "verified: false\nverified-date: null", "verified: true\nverified-date: 2026-02-01")
        replace_in(wiki, KINASE, "uniprot: Q9ZZZ1", "uniprot: Q9ZZZ2")

    diffs, _ = diff_after(edit, before, tmp_path, schema)
    summary = summarise(list(diffs.values()))
    assert summary.grades_changed == [
        (PAGE, "Replicated in humans?", "in-progress — a second trial runs", "yes — the second trial agreed")
    ]
    assert summary.verified == [(PAGE, "2026-02-01")]
    assert summary.identifiers_fixed == [(PAGE, "uniprot", "Q9ZZZ1", "Q9ZZZ2")]
    assert summary.identifiers_added == []


def _etl(*args, cwd=None):
    return subprocess.run([str(BIN / "etl"), *args], capture_output=True, text=True, cwd=cwd)


def test_etl_diff_on_two_builds_and_on_two_revisions(before, tmp_path):
    wiki = tmp_path / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    git(wiki, "init", "-q", "-b", "main")
    git(wiki, "add", "-A")
    git(wiki, "commit", "-q", "-m", "first")
    replace_in(wiki, KINASE, "- A claim with no source at all #gap/unsourced\n", "")
    git(wiki, "commit", "-q", "-am", "second")

    on_revisions = _etl("diff", "--wiki", str(wiki), "HEAD~1", "HEAD", "--format", "json")
    assert on_revisions.returncode == 0, on_revisions.stderr
    rows = json.loads(on_revisions.stdout)
    assert {(r["table_name"], r["kind"]) for r in rows} >= {("gaps", "removed")}
    assert [r["key"] for r in rows if r["table_name"] == "gaps"] == [
        f"{PAGE} · gap/unsourced · A claim with no source at all #gap/unsourced"
    ]
    assert _git_status_is_clean(wiki)

    build(wiki, tmp_path / "after", options=BuildOptions(jobs=1))
    on_builds = _etl("diff", str(before.parent), str(tmp_path / "after"), "--format", "csv")
    assert on_builds.returncode == 0, on_builds.stderr
    assert (
        on_builds.stdout.splitlines()[0]
        == "table_name,key,kind,column,old_value,new_value,page,row_filter,source_path,source_line"
    )
    assert sorted(on_builds.stdout.splitlines()[1:]) == sorted(
        _etl("diff", "--wiki", str(wiki), "HEAD~1", "HEAD", "--format", "csv").stdout.splitlines()[1:]
    )
    summary = _etl("diff", str(before.parent), str(tmp_path / "after"))
    assert "- Gap tags: 0 opened, 1 closed" in summary.stdout
    assert f"closed `#gap/unsourced` on `{PAGE}`: A claim with no source at all" in summary.stdout


def _git_status_is_clean(wiki):
    return (
        subprocess.run(["git", "-C", str(wiki), "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    )


def test_etl_diff_names_what_it_cannot_read(tmp_path):
    missing = _etl("diff", str(tmp_path / "nowhere"), str(tmp_path))
    assert missing.returncode == 2 and "no data package here" in missing.stderr
    wiki = tmp_path / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    not_git = _etl("diff", "--wiki", str(wiki), "HEAD~1", "HEAD")
    assert not_git.returncode == 2 and "not a git checkout" in not_git.stderr
    git(wiki, "init", "-q", "-b", "main")
    git(wiki, "add", "-A")
    git(wiki, "commit", "-q", "-m", "first")
    unknown = _etl("diff", "--wiki", str(wiki), "v9.9", "HEAD")
    assert unknown.returncode == 2 and "no commit 'v9.9'" in unknown.stderr
    replace_in(wiki, KINASE, "type: protein\n", "type: protein\nbroken: [unclosed\n")
    git(wiki, "commit", "-q", "-am", "broken frontmatter")
    broken = _etl("diff", "--wiki", str(wiki), "HEAD~1", "HEAD")
    assert broken.returncode == 1
    assert "revision HEAD (" in broken.stderr and f"{KINASE}:" in broken.stderr


def test_etl_diff_alone_compares_the_last_two_builds(tmp_path):
    """`etl build` keeps the build it replaces as OUT/previous: `etl diff`
    with no OLD and NEW says what the last build changed; a build that
    fails leaves both builds as they were; a third build drops the first."""
    wiki, out = tmp_path / "wiki", tmp_path / "out"
    shutil.copytree(FIXTURE_WIKI, wiki)

    def etl_build():
        return _etl("build", "--wiki", str(wiki), "--out", str(out), "--jobs", "1")

    assert etl_build().returncode == 0
    first = _etl("diff", "--out", str(out))
    assert first.returncode == 2 and "no previous build kept" in first.stderr
    first_build = os.path.realpath(out / "agingkb.db")

    replace_in(wiki, KINASE, "- A claim with no source at all #gap/unsourced\n", "")
    assert etl_build().returncode == 0
    assert os.path.realpath(out / "previous" / "agingkb.db") == first_build
    summary = _etl("diff", "--out", str(out))
    assert summary.returncode == 0, summary.stderr
    assert summary.stdout.startswith(f"# Changes from {out / 'previous'} to {out}")
    assert "- Gap tags: 0 opened, 1 closed" in summary.stdout
    assert f"closed `#gap/unsourced` on `{PAGE}`: A claim with no source at all" in summary.stdout
    as_csv = _etl("diff", "--out", str(out), "--format", "csv").stdout
    assert as_csv == _etl("diff", str(out / "previous"), str(out), "--format", "csv").stdout

    # A build that fails changes neither the current build nor the previous one.
    kept = {name: os.path.realpath(out / name) for name in ("agingkb.db", "previous")}
    replace_in(wiki, KINASE, "type: protein\n", "type: protein\nbroken: [unclosed\n")
    assert etl_build().returncode == 1
    assert {name: os.path.realpath(out / name) for name in kept} == kept
    assert _etl("diff", "--out", str(out)).stdout == summary.stdout

    # The next good build makes the second one previous, and the first is deleted.
    replace_in(wiki, KINASE, "type: protein\nbroken: [unclosed\n", "type: protein\n")
    assert etl_build().returncode == 0
    assert os.path.realpath(out / "previous") == os.path.dirname(kept["agingkb.db"])
    assert not os.path.exists(os.path.dirname(first_build))
    assert len(list((out / ".builds").iterdir())) == 2
    unchanged = _etl("diff", "--out", str(out))
    assert "- Gap tags: 0 opened, 0 closed" in unchanged.stdout

"""The build's diagnostic log: pages' diagnostics wait in a file, and
reading the log gives every diagnostic once, in diagnostics.txt order."""

import shutil
from itertools import islice

import pytest

from etl.diagnostics import DiagnosticLog, catalogue, diagnose, sort_key
from etl.options import BuildOptions
from etl.pipeline.build import BuildError, build
from etl.pipeline.check import check_wiki
from etl.schema import DATA_DIR

from .conftest import FIXTURE_WIKI


def _page(path, *lines):
    return [diagnose(path, line, "wikilink-missing", f"[[target-{line}]] is missing") for line in lines]


def test_the_log_merges_pages_and_corpus_diagnostics_in_order():
    log = DiagnosticLog(catalogue())
    log.extend([diagnose("b.md", 5, "work-conflict", "year differs")])
    log.add_page(_page("a.md", 9, 2))
    log.add_page([])
    log.add_page(_page("b.md", 7, 1) + [diagnose("b.md", 3, "not-utf8", "byte 0xff")])
    log.extend([diagnose("a.md", 4, "work-conflict", "journal differs")])
    expected = [
        ("a.md", 2),
        ("a.md", 4),
        ("a.md", 9),
        ("b.md", 1),
        ("b.md", 3),
        ("b.md", 5),
        ("b.md", 7),
    ]
    assert [(d.path, d.line) for d in log] == expected
    assert [(d.path, d.line) for d in log] == expected  # read again from the start
    assert [d.code for d in log.blocking] == ["not-utf8"]


def test_a_page_out_of_path_order_still_reads_sorted():
    log = DiagnosticLog(catalogue())
    log.add_page(_page("c.md", 1))
    log.add_page(_page("a.md", 1))
    assert [d.path for d in log] == ["a.md", "c.md"]


def test_adding_after_a_partial_read_loses_nothing():
    log = DiagnosticLog(catalogue())
    log.add_page(_page("a.md", 1, 2, 3))
    assert len(list(islice(iter(log), 1))) == 1
    log.add_page(_page("b.md", 1))
    everything = list(log)
    assert [(d.path, d.line) for d in everything] == [("a.md", 1), ("a.md", 2), ("a.md", 3), ("b.md", 1)]
    assert everything == sorted(everything, key=sort_key)


def _data_dir_where(tmp_path, code: str, change: str):
    """A copy of data/ whose errors.yml gives `code` another severity or rule."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    errors = (data / "errors.yml").read_text(encoding="utf-8")
    entry = next(line for line in errors.splitlines() if line.lstrip().startswith(f"- {{code: {code},"))
    (data / "errors.yml").write_text(errors.replace(entry, entry.replace("severity: warning", change)), "utf-8")
    return data


def test_the_data_directory_in_use_decides_severity_and_what_blocks(tmp_path):
    """BuildOptions.data_dir's errors.yml is the catalogue a build and a check
    apply, not the project's own."""
    own = check_wiki(FIXTURE_WIKI, options=BuildOptions(jobs=1))
    assert any(d.code == "wikilink-missing" and d.severity == "warning" for d in own)

    data = _data_dir_where(tmp_path, "wikilink-missing", "severity: error")
    relabelled = check_wiki(FIXTURE_WIKI, options=BuildOptions(data_dir=data, jobs=1))
    assert [(d.path, d.line) for d in relabelled] == [(d.path, d.line) for d in own]
    assert {d.severity for d in relabelled if d.code == "wikilink-missing"} == {"error"}

    blocking = _data_dir_where(tmp_path / "b", "wikilink-missing", "severity: error, blocks: true")
    with pytest.raises(BuildError, match="block the build"):
        build(FIXTURE_WIKI, tmp_path / "out", BuildOptions(data_dir=blocking, jobs=1))
    build(FIXTURE_WIKI, tmp_path / "out", BuildOptions(jobs=1))  # the project's own catalogue: it builds

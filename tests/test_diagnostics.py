"""The build's diagnostic log: pages' diagnostics wait in a file, and
reading the log gives every diagnostic once, in diagnostics.txt order."""

from itertools import islice

from etl.diagnostics import DiagnosticLog, diagnose, sort_key


def _page(path, *lines):
    return [diagnose(path, line, "wikilink-missing", f"[[target-{line}]] is missing") for line in lines]


def test_the_log_merges_pages_and_corpus_diagnostics_in_order():
    log = DiagnosticLog()
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
    log = DiagnosticLog()
    log.add_page(_page("c.md", 1))
    log.add_page(_page("a.md", 1))
    assert [d.path for d in log] == ["a.md", "c.md"]


def test_adding_after_a_partial_read_loses_nothing():
    log = DiagnosticLog()
    log.add_page(_page("a.md", 1, 2, 3))
    assert len(list(islice(iter(log), 1))) == 1
    log.add_page(_page("b.md", 1))
    everything = list(log)
    assert [(d.path, d.line) for d in everything] == [("a.md", 1), ("a.md", 2), ("a.md", 3), ("b.md", 1)]
    assert everything == sorted(everything, key=sort_key)

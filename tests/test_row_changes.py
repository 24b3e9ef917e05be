"""changed_rows finds the change between two CSV files' bodies, reading
them a row at a time and keeping only the rows between what they begin
and end with, and must find what narrowed() finds from both bodies parsed
whole."""

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from etl.output.row_changes import changed_rows as changed_rows_in_files
from etl.output.row_changes import csv_rows, narrowed

# Cells that need quoting (commas, quotes, newlines) beside plain ones.
CELL = st.text(alphabet='ab,"\n x', max_size=6)
ROW = st.lists(CELL, min_size=1, max_size=3)


def body(rows: list[list[str]]) -> bytes:
    handle = io.StringIO()
    csv.writer(handle, lineterminator="\n").writerows(rows)
    return handle.getvalue().encode("utf-8")


def changed_rows(table: str, old: bytes, new: bytes):
    """changed_rows of two files holding these bodies under one header."""
    with tempfile.TemporaryDirectory() as folder:
        paths = Path(folder) / "old.csv", Path(folder) / "new.csv"
        for path, text in zip(paths, (old, new)):
            path.write_bytes(b'a,"b\nc"\n' + text)
        return changed_rows_in_files(table, *paths)


def whole(old: bytes, new: bytes):
    return narrowed("t", 0, csv_rows(old.decode("utf-8")), csv_rows(new.decode("utf-8")))


@settings(max_examples=400, deadline=None)
@given(
    rows=st.lists(ROW, max_size=12),
    at=st.integers(min_value=0, max_value=12),
    removed=st.integers(min_value=0, max_value=4),
    added=st.lists(ROW, max_size=4),
)
def test_the_change_is_the_one_whole_parsing_finds(rows, at, removed, added):
    at = min(at, len(rows))
    edited = rows[:at] + added + rows[at + removed :]
    old, new = body(rows), body(edited)
    assert changed_rows("t", old, new) == whole(old, new)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=10), row=st.integers(min_value=0), cell=CELL)
def test_a_cell_changed_inside_a_quoted_row(rows, row, cell):
    edited = [list(r) for r in rows]
    target = edited[row % len(edited)]
    target[0] = cell + target[0]
    old, new = body(rows), body(edited)
    assert changed_rows("t", old, new) == whole(old, new)


def test_rows_with_newlines_are_counted_as_rows():
    rows = [["a", "line one\nline two"], ["b", 'say "hi"'], ["c", "x"]]
    change = changed_rows("t", body(rows), body(rows[:2] + [["c", "y"]]))
    assert (change.start, change.old, change.new) == (2, [["c", "x"]], [["c", "y"]])
    assert changed_rows("t", body(rows), body(rows)) is None

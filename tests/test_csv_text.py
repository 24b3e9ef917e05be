"""Rows as CSV text (etl/output/csv_text.py): the lines are joined with str's
own methods, and must be the bytes Python's csv writer gives the same rows."""

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from etl.output.csv_text import csv_lines, read_table_text, table_text
from etl.schema import Column, Table

CELLS = st.text(alphabet=st.sampled_from(["a", " ", ",", '"', "\n", "\r", "\t", "é", "\x00", "\u2028", ";"]))


def written_by_csv(rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


@settings(max_examples=500, deadline=None)
@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda width: st.lists(st.lists(CELLS, min_size=width, max_size=width))
    )
)
def test_csv_lines_are_what_the_csv_writer_writes(rows):
    assert csv_lines(rows) == written_by_csv(rows)


def test_a_lone_empty_cell_is_quoted_as_the_writer_quotes_it():
    assert csv_lines([[""], ["x"]]) == '""\nx\n'
    assert csv_lines([["", ""]]) == ",\n"


def test_table_text_reads_back_as_the_rows_it_was_made_of():
    table = Table(
        "notes",
        "Notes",
        "A fixture table.",
        [
            Column("id", "integer", "Row.", required=True),
            Column("body", "text", "Text."),
            Column("flag", "boolean", ""),
        ],
        ["id"],
    )
    rows = [{"id": 1, "body": 'a "quoted", two-line\ntext', "flag": True}, {"id": 2, "body": None, "flag": False}]
    text = table_text(table, rows)
    assert text.count == 2 and text.keys == "1\x1e2\x1e"
    assert read_table_text(table, text) == [
        {"id": "1", "body": 'a "quoted", two-line\ntext', "flag": "1"},
        {"id": "2", "body": "", "flag": "0"},
    ]

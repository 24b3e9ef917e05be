"""Each table's Parquet and NDJSON files (etl/output/parquet.py): read with
DuckDB and pandas from a real build of the wiki, they hold the SQLite
table's rows and types; a declared type Parquet cannot hold stops the build."""

import datetime as dt
import json
import math
import shutil
import sqlite3

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.options import BuildOptions
from etl.output.parquet import ParquetTypeError, arrow_schema, write_table_parquet
from etl.pipeline.build import BuildError, build
from etl.schema import DATA_DIR, Column, Table

from .conftest import FIXTURE_WIKI

DUCKDB_TYPES = {
    "string": {"VARCHAR"},
    "text": {"VARCHAR"},
    "integer": {"BIGINT"},
    "number": {"DOUBLE"},
    "boolean": {"BOOLEAN"},
    "date": {"DATE"},
    "object": {"JSON"},
}


def _sqlite_rows(db, table):
    order = ", ".join(f"[{key}]" for key in table.primary_key)
    return db.execute(f"select * from [{table.name}] order by {order}").fetchall()


def _as_sqlite(column: Column, value):
    """A Parquet value as SQLite stores it: booleans 1/0, dates ISO text,
    arrays and objects JSON text (compared parsed)."""
    if value is None or (isinstance(value, float) and math.isnan(value) and column.type != "number"):
        return None
    if column.type == "boolean":
        return int(value)
    if column.type == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
    if column.type == "array":
        return [list(item) if not isinstance(item, str) else item for item in value]
    if column.type == "object":
        return json.loads(value) if isinstance(value, str) else value
    if column.type == "integer":
        return int(value)
    return value


def _comparable(table, row):
    return tuple(
        json.loads(cell) if column.type in ("array", "object") and cell is not None else cell
        for column, cell in zip(table.columns, row)
    )


def test_duckdb_reads_every_parquet_file_as_the_sqlite_table(real_build, real_db, schema):
    out, _ = real_build
    package = out / "package"
    connection = duckdb.connect()
    for name, table in schema.tables.items():
        path = package / f"{name}.parquet"
        described = connection.execute(f"describe select * from '{path}'").fetchall()
        assert [row[0] for row in described] == table.column_names, name
        for column, row in zip(table.columns, described):
            expected = {"VARCHAR[]"} if column.type == "array" and column.items == "string" else None
            expected = expected or ({"VARCHAR[][]"} if column.type == "array" else DUCKDB_TYPES[column.type])
            assert row[1] in expected, (name, column.name, row[1])
        order = ", ".join(f'"{key}"' for key in table.primary_key)
        parquet_rows = connection.execute(f"select * from '{path}' order by {order}").fetchall()
        expected_rows = [_comparable(table, row) for row in _sqlite_rows(real_db, table)]
        got = [tuple(_as_sqlite(c, v) for c, v in zip(table.columns, row)) for row in parquet_rows]
        assert len(got) == len(expected_rows), name
        assert got == expected_rows, name


def test_pandas_reads_every_parquet_file_as_the_sqlite_table(real_build, real_db, schema):
    out, _ = real_build
    for name, table in schema.tables.items():
        frame = pd.read_parquet(out / "package" / f"{name}.parquet")
        assert list(frame.columns) == table.column_names, name
        for column in table.columns:
            dtype = frame[column.name].dtype
            if column.type == "number" or (column.type == "integer" and frame[column.name].isna().any()):
                assert pd.api.types.is_float_dtype(dtype), (name, column.name, dtype)
            elif column.type == "integer":
                assert pd.api.types.is_integer_dtype(dtype), (name, column.name, dtype)
            elif column.type == "boolean" and not frame[column.name].isna().any():
                assert pd.api.types.is_bool_dtype(dtype), (name, column.name, dtype)
        frame = frame.sort_values(table.primary_key, kind="stable")
        rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
        got = [tuple(_as_sqlite(c, v) for c, v in zip(table.columns, row)) for row in rows]
        expected_rows = [_comparable(table, row) for row in _sqlite_rows(real_db, table)]
        assert sorted(got, key=repr) == sorted(expected_rows, key=repr), name


def test_the_parquet_schema_is_the_declaration(real_build, schema):
    out, _ = real_build
    for name, table in schema.tables.items():
        written = pq.read_schema(out / "package" / f"{name}.parquet")
        assert written.remove_metadata() == arrow_schema(table).remove_metadata(), name
        for column in table.columns:
            assert written.field(column.name).nullable == (not column.required), (name, column.name)
    trials = pq.read_schema(out / "package" / "trials.parquet")
    assert any(str(field.type).startswith("dictionary") for field in trials)  # an enumeration, dictionary-encoded


def test_ndjson_rows_are_the_sqlite_rows_typed(real_build, real_db, schema):
    out, _ = real_build
    for name in ("trials", "pages", "page_tables", "trial_mentions"):
        table = schema.tables[name]
        lines = (out / "package" / f"{name}.ndjson").read_text(encoding="utf-8").splitlines()
        objects = [json.loads(line) for line in lines]
        by_key = {tuple(o[k] for k in table.primary_key): o for o in objects}
        rows = _sqlite_rows(real_db, table)
        assert len(objects) == len(rows) == len(by_key), name
        for row in rows:
            cells = dict(zip(table.column_names, _comparable(table, row)))
            found = by_key[tuple(cells[k] for k in table.primary_key)]
            for column in table.columns:
                value = found[column.name]
                if column.type == "boolean" and value is not None:
                    assert isinstance(value, bool), (name, column.name)
                    value = int(value)
                if column.type in ("integer", "number") and value is not None:
                    assert isinstance(value, (int, float)) and not isinstance(value, bool)
                assert value == cells[column.name], (name, column.name)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.floats()), st.booleans()),
        min_size=1,
        max_size=8,
    )
)
def test_ndjson_lines_are_what_json_dumps_writes(rows):
    """The lines are written a column at a time; each must be the line
    json.dumps(row, ensure_ascii=False) writes: escapes, non-ASCII text,
    numbers (NaN and integral floats too), nulls and a key with a %."""
    import pyarrow as pa

    from etl.output.parquet import _ndjson_lines

    schema = pa.schema(
        [
            ("te%st", pa.string()),
            ("kind", pa.dictionary(pa.int32(), pa.string())),
            ("x", pa.float64()),
            ("n", pa.int64()),
            ("flag", pa.bool_()),
            ("day", pa.date32()),
            ("names", pa.list_(pa.string())),
            ("meta", pa.json_()),
        ]
    )
    as_python = [
        {
            "te%st": text,
            "kind": text,
            "x": number,
            "n": None if number is None or not math.isfinite(number) else 2**62 if flag else -7,
            "flag": flag,
            "day": None if flag else dt.date(2020, 2, 29),
            "names": None if text is None else [text, "\u2028\x00"],
            "meta": None if text is None else json.dumps({"a": [text, 1.5, None]}, separators=(",", ":")),
        }
        for text, number, flag in rows
    ]
    batch = pa.RecordBatch.from_pylist(as_python, schema=schema)
    expected = []
    for row in as_python:
        row = dict(row, day=row["day"] and row["day"].isoformat(), meta=row["meta"] and json.loads(row["meta"]))
        expected.append(json.dumps(row, ensure_ascii=False) + "\n")
    assert list(_ndjson_lines(schema, [batch])) == expected


def test_typed_files_are_the_same_bytes_each_time(fixture_build, schema, tmp_path):
    out, _ = fixture_build
    for name in ("trials", "pages", "page_tables"):
        copies = []
        for attempt in ("a", "b"):
            directory = tmp_path / attempt
            directory.mkdir(exist_ok=True)
            shutil.copyfile(out / "package" / f"{name}.csv", directory / f"{name}.csv")
            copies.append(write_table_parquet(directory, schema.tables[name])[0])
        assert copies[0] == copies[1]
        assert (tmp_path / "a" / f"{name}.parquet").read_bytes() == (out / "package" / f"{name}.parquet").read_bytes()
        assert (tmp_path / "a" / f"{name}.ndjson").read_bytes() == (tmp_path / "b" / f"{name}.ndjson").read_bytes()
        assert (tmp_path / "a" / f"{name}.ndjson").read_bytes() == (out / "package" / f"{name}.ndjson").read_bytes()


def test_a_type_parquet_cannot_hold_names_the_table_and_column():
    place = Column("place", "string", "Its id.", required=True)
    table = Table("places", "Places", "A fixture table.", [place], ["place"])
    table.columns.append(Column("spot", "geopoint", "A point."))
    with pytest.raises(ParquetTypeError, match=r"table places, column spot: type 'geopoint'"):
        arrow_schema(table)


def test_a_declared_array_parquet_cannot_hold_stops_the_build(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    tables = (data / "tables.yml").read_text()
    declared = "{name: rows, type: array, items: array,"
    assert declared in tables
    (data / "tables.yml").write_text(tables.replace(declared, "{name: rows, type: array, items: object,"))
    with pytest.raises(BuildError, match=r"table page_tables, column rows: arrays of 'object'"):
        build(FIXTURE_WIKI, tmp_path / "out", options=BuildOptions(data_dir=data, jobs=1))
    assert not (tmp_path / "out" / "package").exists()


def keyed_table(name: str, column: Column) -> Table:
    """A fixture table of an integer key and one more column."""
    return Table(
        name, name.title(), "A fixture table.", [Column("id", "integer", "Row.", required=True), column], ["id"]
    )


def test_cells_that_do_not_read_as_their_array_type_name_the_column(tmp_path):
    table = keyed_table("lists", Column("names", "array", "Names."))
    (tmp_path / "lists.csv").write_text('id,names\n1,"[""a""]"\n2,"[1, 2]"\n', encoding="utf-8")
    with pytest.raises(ParquetTypeError, match="table lists, column names"):
        write_table_parquet(tmp_path, table)
    (tmp_path / "lists.csv").write_text("id,names\n1,[]\nx,[]\n", encoding="utf-8")
    with pytest.raises(ParquetTypeError, match="table lists, column id"):
        write_table_parquet(tmp_path, table)


def test_sqlite_counts_match_the_parquet_metadata(real_build, schema):
    out, _ = real_build
    with sqlite3.connect(out / "agingkb.db") as db:
        for name in schema.tables:
            rows = db.execute(f"select count(*) from [{name}]").fetchone()[0]
            assert pq.ParquetFile(out / "package" / f"{name}.parquet").metadata.num_rows == rows, name


def test_frictionless_checks_each_parquet_file_against_its_hash(fixture_build, tmp_path):
    from etl.output.validation import validate_package

    out, _ = fixture_build
    package = tmp_path / "package"
    shutil.copytree(out / "package", package)
    assert validate_package(package / "datapackage.json") == []
    changed = bytearray((package / "trials.parquet").read_bytes())
    changed[len(changed) // 2] ^= 0xFF  # one byte inside the file, its size unchanged
    (package / "trials.parquet").write_bytes(bytes(changed))
    problems = validate_package(package / "datapackage.json")
    assert problems and all(problem.startswith("trials_parquet") for problem in problems), problems
    assert any("hash" in problem for problem in problems)


def test_a_csv_is_read_a_few_blocks_ahead_into_the_row_groups_its_blocks_make(tmp_path, monkeypatch):
    """Arrow's reader alone reads up to 32 blocks ahead; read_typed lets it
    run BLOCKS_AHEAD blocks ahead of the batch being written, and the row
    groups are still the blocks Arrow makes of the file."""
    import time

    import pyarrow.csv as pa_csv

    from etl.output import parquet

    table = keyed_table("notes", Column("body", "text", "Text over lines."))
    rows = "".join(f'{n},"line one of {n}\nline two, {"x" * (n % 50)}"\n' for n in range(3000))
    (tmp_path / "notes.csv").write_text("id,body\n" + rows, encoding="utf-8")
    monkeypatch.setattr(parquet, "CSV_BLOCK", 4096)
    reads = []

    class Counted(parquet._PacedCsv):
        def read(self, size=-1):
            data = super().read(size)
            reads.append(len(data))
            return data

    monkeypatch.setattr(parquet, "_PacedCsv", Counted)
    sizes = []
    for position, batch in enumerate(parquet.read_typed(tmp_path / "notes.csv", table)):
        time.sleep(0.01)  # time for the reader's thread to run ahead if it may
        assert len(reads) <= position + parquet.BLOCKS_AHEAD, (position, len(reads))
        sizes.append(batch.num_rows)
    unpaced = pa_csv.open_csv(
        tmp_path / "notes.csv", pa_csv.ReadOptions(block_size=4096), pa_csv.ParseOptions(newlines_in_values=True)
    )
    assert len(sizes) > 40 and sizes == [batch.num_rows for batch in unpaced]
    # A reader left after one batch lets go of the file.
    partial = parquet.read_typed(tmp_path / "notes.csv", table)
    next(partial)
    partial.close()
    write_table_parquet(tmp_path, table)
    assert [
        g.num_rows for g in map(pq.ParquetFile(tmp_path / "notes.parquet").metadata.row_group, range(len(sizes)))
    ] == sizes

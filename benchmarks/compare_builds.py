"""Whether two build directories hold the same output: every CSV byte for
byte, datapackage.json and croissant.json apart from the build's time, and every table of the
database (schema and rows). A full-text index is compared by content, as a
build patched in place keeps it row by row in other segments: FTS5's
integrity-check passes on both, and the fixed queries of
benchmarks/fts_queries.py give the same rows in the same rank order."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from benchmarks.fts_queries import FTS_QUERIES

# The descriptors that state when the build ran, and under which key.
BUILD_TIME = {"datapackage.json": "created", "croissant.json": "dateModified"}


def _database_dump(path: Path) -> dict[str, tuple]:
    # integrity-check is asked as an insert; it writes nothing.
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        tables = {
            name: sql
            for name, sql in connection.execute(
                "select name, sql from sqlite_master "
                "where type in ('table', 'index', 'view', 'trigger') and name not like 'sqlite_%'"
            )
        }
        virtual = [name for name, sql in tables.items() if sql and sql.upper().startswith("CREATE VIRTUAL TABLE")]
        # An index's segments: how it was written, not what it holds.
        segments = {f"{name}_{part}" for name in virtual for part in ("data", "idx")}
        dump = {}
        for name, sql in tables.items():
            rows = None
            if name in segments:
                rows = "by content"
            elif sql and sql.upper().startswith("CREATE TABLE"):  # virtual tables are read through their shadows
                rows = sorted(connection.execute(f"select * from [{name}]").fetchall(), key=repr)
            dump[name] = (sql, rows)
        for name in virtual:
            dump[f"{name} (answers)"] = (None, _answers(connection, name))
        return dump
    finally:
        connection.close()


def _answers(connection, fts: str) -> list:
    """The rows each fixed query finds, best first, and whether the index
    holds what its table holds (integrity-check against the content)."""
    try:
        connection.execute(f"insert into [{fts}] ([{fts}], rank) values ('integrity-check', 1)")
        whole = "integrity-check passed"
    except sqlite3.DatabaseError as error:
        whole = f"integrity-check failed: {error}"
    answers = [whole]
    for query in FTS_QUERIES:
        found = connection.execute(f"select rowid from [{fts}] where [{fts}] match ? order by rank, rowid", (query,))
        answers.append((query, [rowid for (rowid,) in found]))
    return answers


def differences(first: Path, second: Path) -> list[str]:
    """What differs between two builds' outputs; empty when they are equal."""
    found = []
    first_package, second_package = Path(first) / "package", Path(second) / "package"
    names = sorted({p.name for p in first_package.iterdir()} | {p.name for p in second_package.iterdir()})
    for name in names:
        a, b = first_package / name, second_package / name
        if not a.exists() or not b.exists():
            found.append(f"package/{name}: only in one build")
        elif name in BUILD_TIME:
            left, right = json.loads(a.read_text()), json.loads(b.read_text())
            left.pop(BUILD_TIME[name], None)
            right.pop(BUILD_TIME[name], None)
            if left != right:
                found.append(f"package/{name} differs (apart from {BUILD_TIME[name]})")
        elif a.read_bytes() != b.read_bytes():
            found.append(f"package/{name} differs")
    left, right = _database_dump(Path(first) / "agingkb.db"), _database_dump(Path(second) / "agingkb.db")
    for name in sorted(set(left) | set(right)):
        if left.get(name) != right.get(name):
            found.append(f"agingkb.db: {name} differs")
    return found

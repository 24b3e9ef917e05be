"""Whether two build directories hold the same output: every CSV byte for
byte, datapackage.json and croissant.json apart from the build's time, and every table of the
database (schema and rows)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

# The descriptors that state when the build ran, and under which key.
BUILD_TIME = {"datapackage.json": "created", "croissant.json": "dateModified"}


def _database_dump(path: Path) -> dict[str, tuple]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {
            name: sql
            for name, sql in connection.execute(
                "select name, sql from sqlite_master "
                "where type in ('table', 'index', 'view', 'trigger') and name not like 'sqlite_%'"
            )
        }
        dump = {}
        for name, sql in tables.items():
            rows = None
            if sql and sql.upper().startswith(
                "CREATE TABLE"
            ):  # FTS shadow tables included; virtual tables are read through them
                rows = sorted(connection.execute(f"select * from [{name}]").fetchall(), key=repr)
            dump[name] = (sql, rows)
        return dump
    finally:
        connection.close()


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

"""Package stage: stream rows into one CSV per table, write
datapackage.json from the schema declaration, validate with frictionless.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
from pathlib import Path

from .schema import Schema

csv.field_size_limit(sys.maxsize)


def serialise(value) -> str:
    """One CSV cell. Empty string is the only missing value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class CsvSink:
    """One open CSV writer per table; rows are written as they arrive."""

    def __init__(self, directory: Path, schema: Schema):
        self.directory = directory
        self.schema = schema
        self.files = {}
        self.writers = {}
        self.counts = {name: 0 for name in schema.tables}
        directory.mkdir(parents=True, exist_ok=True)
        for name, table in schema.tables.items():
            handle = open(directory / f"{name}.csv", "w", encoding="utf-8", newline="")
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(table.column_names)
            self.files[name] = handle
            self.writers[name] = writer

    def write(self, table_name: str, rows: list[dict]) -> None:
        table = self.schema.tables[table_name]
        names = table.column_names
        writer = self.writers[table_name]
        for row in rows:
            if set(row) != set(names):
                missing, extra = set(names) - set(row), set(row) - set(names)
                raise ValueError(f"{table_name} row does not match its declaration: missing {sorted(missing)}, extra {sorted(extra)}")
            writer.writerow([serialise(row[name]) for name in names])
        self.counts[table_name] += len(rows)

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def created_timestamp() -> str:
    """Build time, pinned by SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else dt.datetime.now(dt.timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def vocabulary_values(schema: Schema, gap_tags: list[str]) -> dict[str, list]:
    v = schema.vocabularies
    return {
        "page_types": sorted(schema.page_types),
        "gap_tags": gap_tags,
        "study_designs": [d["design"] for d in v["study_designs"]],
        "status_values": [s["status"] for s in v["status_values"]],
        "status_dimensions": [d["dimension"] for d in v["status_dimensions"]],
        "identifier_schemes": [s["scheme"] for s in v["identifier_schemes"]],
    }


def descriptor(schema: Schema, sources: dict, snapshot: dict, gap_tags: list[str]) -> dict:
    upstream = sources["upstream"]
    vocab = vocabulary_values(schema, gap_tags)
    resources = []
    for name, table in schema.tables.items():
        resources.append(
            {
                "name": name,
                "type": "table",
                "path": f"{name}.csv",
                "scheme": "file",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "title": table.title,
                "description": table.description,
                "schema": table.frictionless(vocab),
            }
        )
    return {
        "name": "agingkb",
        "title": "agingkb: the aging wiki as a dataset",
        "description": (
            "The aging wiki (a knowledge base on the biology of human aging) flattened into tables: "
            "pages, frontmatter, identifiers, relations, links, sections, knowledge gaps, footnotes and "
            "cited works, evidence-grading tables and every other table. Every wiki-derived row carries "
            "its source path, line and snapshot."
        ),
        "version": snapshot["dataset_version"],
        "created": created_timestamp(),
        "homepage": upstream["repository"],
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
                "title": f"Creative Commons Attribution 4.0 International; wiki content © {upstream['author']}",
            }
        ],
        "sources": [
            {
                "title": f"aging wiki by {upstream['author']} (CC BY 4.0), snapshot {snapshot['snapshot']}",
                "path": upstream["repository"],
                "version": snapshot["git_commit"] or snapshot["upstream_commit"] or snapshot["snapshot"],
            }
        ],
        "contributors": [
            {"title": upstream["author"], "role": "author"},
            {"title": "agingkb", "role": "publisher"},
        ],
        "keywords": ["aging", "gerontology", "knowledge base", "citations", "knowledge gaps"],
        "resources": resources,
    }


def write_descriptor(directory: Path, package: dict) -> Path:
    path = directory / "datapackage.json"
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def validate_package(path: Path) -> list[str]:
    """Validate with the frictionless library (the same check as
    `frictionless validate datapackage.json`); returns flat error lines."""
    from frictionless import validate

    report = validate(str(path))
    if report.valid:
        return []
    problems = []
    for task in report.tasks:
        for error in task.errors:
            row = getattr(error, "row_number", None)
            field = getattr(error, "field_name", None)
            where = f"{task.name}" + (f" row {row}" if row else "") + (f" field {field}" if field else "")
            problems.append(f"{where}: {error.type}: {error.note}")
    for error in report.errors:
        problems.append(f"package: {error.type}: {error.note}")
    return problems

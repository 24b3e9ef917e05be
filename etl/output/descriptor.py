"""datapackage.json: the package's descriptor, from the schema declaration
(each resource's fields, keys and enums), data/sources.yml (where the wiki
comes from) and the `package` text of data/site.yml (title, description,
licence and source lines, keywords).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from ..schema import DATA_DIR, Schema, load_yaml


def created_timestamp() -> str:
    """Build time, pinned by SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
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
        "species": [s["species"] for s in v["species"]],
        "population_groups": [g["population_group"] for g in v["population_groups"]],
    }


# How csv_text.table_text writes every table (Python's csv writer, lines
# ended with a newline), declared so no reader has to guess it.
CSV_DIALECT = {
    "header": True,
    "delimiter": ",",
    "lineTerminator": "\n",
    "quoteChar": '"',
    "doubleQuote": True,
    "skipInitialSpace": False,
}


def resource_descriptors(schema: Schema, gap_tags: list[str], parquet: dict | None = None) -> list[dict]:
    """One tabular resource per declared table, in declaration order, then
    each table's Parquet file (`parquet`: table name -> its TypedFile)."""
    vocab = vocabulary_values(schema, gap_tags)
    tables = [
        {
            "name": name,
            "type": "table",
            "path": f"{name}.csv",
            "scheme": "file",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": CSV_DIALECT,
            "title": table.title,
            "description": table.description,
            "schema": table.frictionless(vocab),
        }
        for name, table in schema.tables.items()
    ]
    return tables + [parquet_descriptor(name, written) for name, written in (parquet or {}).items()]


def parquet_descriptor(table: str, written) -> dict:
    """A table's Parquet twin as a file resource, named <table>_parquet
    (resource names are unique; the suffix keeps the table's name in front).
    Its types are the Arrow schema the file carries, made from the CSV
    resource's Table Schema; frictionless checks its bytes and SHA-256,
    since its Parquet reader (pandas rows) reads a nullable integer column
    as floats with NaN and reports every empty cell of one as a type error."""
    return {
        "name": f"{table}_parquet",
        "type": "file",
        "path": written.name,
        "scheme": "file",
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        "title": f"{table} (Parquet)",
        "description": f"The rows of {table}.csv in the same order, typed as its schema declares (Arrow types, "
        "required columns not nullable, enumerations dictionary-encoded).",
        "bytes": written.bytes,
        "hash": f"sha256:{written.sha256}",
    }


def descriptor(
    schema: Schema, sources: dict, snapshot: dict, gap_tags: list[str], data_dir: Path = DATA_DIR, parquet=None
) -> dict:
    """The package descriptor; its text is data/site.yml's `package` entry."""
    site = load_yaml(data_dir / "site.yml")
    text, upstream = site["package"], sources["upstream"]
    author = upstream["author"]
    return {
        "name": text["name"],
        "title": text["title"],
        "description": text["description"],
        "version": snapshot["dataset_version"],
        "created": created_timestamp(),
        "homepage": upstream["repository"],
        "licenses": [
            {
                "name": upstream["license"],
                "path": site["license_url"],
                "title": text["license_title"].format(author=author),
            }
        ],
        "sources": [
            {
                "title": text["source_title"].format(author=author, snapshot=snapshot["snapshot"]),
                "path": upstream["repository"],
                "version": snapshot["git_commit"] or snapshot["upstream_commit"] or snapshot["snapshot"],
            }
        ],
        "contributors": [
            {"title": author, "role": "author"},
            {"title": text["publisher"], "role": "publisher"},
        ],
        "keywords": list(text["keywords"]),
        "resources": resource_descriptors(schema, gap_tags, parquet),
    }


def write_descriptor(directory: Path, package: dict) -> Path:
    path = directory / "datapackage.json"
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path

"""croissant.json: the package described in Croissant 1.0 (MLCommons), for
the tools that load datasets for machine learning (mlcroissant, TFDS,
Hugging Face). Made from the schema declaration (data/tables.yml) and the
descriptor's text, with the SHA-256 of each CSV the build already took for
its fingerprints: one FileObject per CSV, one RecordSet per table, one
Field per column with its type. Foreign keys are left out: mlcroissant
reads a field's `references` as a join to make while loading the records
(a trial's work, then the work's venue), which fails on a key column that
is empty in every row and would not give the table's own rows. It is
written into package/, beside the CSVs its relative URLs name, so it
travels in the zip and the release; the site serves it at /croissant.json
with absolute URLs (agingkb_site/describe.py).

mlcroissant 1.1 reads a CSV with pandas' type guessing, whatever a field's
dataType: a text column whose cells look like numbers ('2', as n_raw may
be) comes back as '2.0'. A Parquet file, which keeps its types, would not.

A property with nothing to fill it is a CroissantError, never an empty value.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..schema import Schema

NAME = "croissant.json"
# Croissant's data types for the declaration's column types; arrays and
# objects are JSON text in the CSV.
DATA_TYPES = {
    "string": "sc:Text",
    "text": "sc:Text",
    "integer": "sc:Integer",
    "number": "sc:Float",
    "boolean": "sc:Boolean",
    "date": "sc:Date",
    "array": "sc:Text",
    "object": "sc:Text",
}
# The context of the Croissant 1.0 specification, as it publishes it.
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


class CroissantError(Exception):
    """A property of croissant.json has nothing to fill it."""


def filled(field: str, value):
    if value in (None, "", [], {}):
        raise CroissantError(f"croissant.json: nothing to fill {field} with")
    return value


def record_set(table, file_id: str) -> dict:
    fields = []
    for column in table.columns:
        entry = {
            "@type": "cr:Field",
            "@id": f"{table.name}/{column.name}",
            "name": column.name,
            "description": filled(f"the description of {table.name}.{column.name}", column.description),
            "dataType": DATA_TYPES[column.type],
            "source": {"fileObject": {"@id": file_id}, "extract": {"column": column.name}},
        }
        fields.append(entry)
    described = {
        "@type": "cr:RecordSet",
        "@id": table.name,
        "name": table.name,
        "description": filled(f"the description of table {table.name}", table.description),
        "field": fields,
    }
    if table.primary_key:
        described["key"] = [{"@id": f"{table.name}/{key}"} for key in table.primary_key]
    return described


def croissant(schema: Schema, package: dict, digests: dict[str, str]) -> dict:
    """The Croissant description; `digests`: resource name -> SHA-256 of its CSV."""

    def contributor(role: str) -> str:
        names = [entry["title"] for entry in package.get("contributors", []) if entry.get("role") == role]
        return filled(f"{role} (datapackage.json contributors, role {role})", names[0] if names else None)

    files = []
    for name in schema.tables:
        path = f"{name}.csv"
        files.append(
            {
                "@type": "cr:FileObject",
                "@id": path,
                "name": path,
                "contentUrl": path,
                "encodingFormat": "text/csv",
                "sha256": filled(f"the SHA-256 of {path}", digests.get(name)),
            }
        )
    licenses = package.get("licenses") or [{}]
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": filled("name (datapackage.json name)", package.get("name")),
        "description": filled("description (datapackage.json description)", package.get("description")),
        "version": filled("version (datapackage.json version)", package.get("version")),
        "license": filled("license (datapackage.json licenses[0].path)", licenses[0].get("path")),
        "url": filled("url (datapackage.json homepage)", package.get("homepage")),
        "creator": {"@type": "sc:Person", "name": contributor("author")},
        "publisher": {"@type": "sc:Organization", "name": contributor("publisher")},
        "keywords": filled("keywords (datapackage.json keywords)", package.get("keywords")),
        "dateModified": filled("dateModified (datapackage.json created)", package.get("created")),
        "distribution": files,
        "recordSet": [record_set(table, f"{name}.csv") for name, table in schema.tables.items()],
    }


def write_croissant(directory: Path, schema: Schema, package: dict, digests: dict[str, str]) -> Path:
    path = directory / NAME
    path.write_text(json.dumps(croissant(schema, package, digests), indent=1, ensure_ascii=False) + "\n", "utf-8")
    return path

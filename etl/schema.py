"""The one declaration of the dataset's shape.

Reads data/tables.yml, data/page_types.yml and data/vocabularies.yml and
derives from them everything downstream needs: the Frictionless Table
Schemas, the SQLite column types and the Datasette column descriptions.
Nothing about a column is written anywhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ruamel.yaml import YAML

from .venues import VenueIndex, venue_index
from .yaml12 import fast_document

# data/ of the checkout; an install that is not editable carries it as etl/data/ (pyproject.toml).
_INSTALLED_DATA = Path(__file__).resolve().parent / "data"
DATA_DIR = (
    _INSTALLED_DATA if (_INSTALLED_DATA / "errors.yml").is_file() else Path(__file__).resolve().parent.parent / "data"
)

# Column type -> (Frictionless type, SQLite/Python type)
COLUMN_TYPES = {
    "string": ("string", str),
    "text": ("string", str),
    "integer": ("integer", int),
    "number": ("number", float),
    "boolean": ("boolean", int),
    "date": ("date", str),
    "array": ("array", str),
    "object": ("object", str),
}

# Page-type field type -> column type of the typed per-type tables.
FIELD_COLUMN_TYPES = {
    "string": "string",
    "text": "text",
    "enum": "string",
    "identifier": "string",
    "wikilink": "string",
    "page-slug": "string",
    "integer": "integer",
    "year": "integer",
    "number": "number",
    "date": "date",
    "boolean": "boolean",
    "list": "array",
    "wikilinks": "array",
}
# Field types whose values name pages: their typed column holds page IDs
# (data/page_types.yml says what a value naming no page becomes).
LINK_FIELD_TYPES = ("wikilink", "wikilinks", "page-slug")


def load_yaml(path: Path):
    """Load a project data file with a YAML 1.2 safe loader: libyaml where
    it is sure to agree with ruamel (tests/test_schema.py compares the two on
    every file in data/), else ruamel. ruamel alone took 0.6 s for data/,
    which every build, every build worker and every `etl check` paid."""
    text = Path(path).read_text(encoding="utf-8")
    sure, data = fast_document(text)
    return data if sure else YAML(typ="safe", pure=True).load(text)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    required: bool = False
    unique: bool = False
    enum: tuple | None = None
    pattern: str | None = None
    vocabulary: str | None = None
    facet: bool = False
    example: str | None = None
    items: str = "string"  # an array's items: strings, or arrays of strings (the Parquet list type)

    def frictionless(self, vocabulary_values: dict[str, list]) -> dict:
        descriptor = {
            "name": self.name,
            "type": COLUMN_TYPES[self.type][0],
            "description": self.description,
        }
        if self.type == "date":
            descriptor["format"] = "%Y-%m-%d"
        if self.type == "boolean":
            # Written 1 and 0, as SQLite stores them and Datasette's CSV writes them.
            descriptor["trueValues"], descriptor["falseValues"] = ["1"], ["0"]
        if self.example is not None:
            descriptor["example"] = self.example
        constraints = {"required": self.required}
        if self.unique:
            constraints["unique"] = True
        enum = self.enum
        if self.vocabulary:
            enum = vocabulary_values[self.vocabulary]
        if enum is not None:
            constraints["enum"] = list(enum)
        if self.pattern:
            constraints["pattern"] = self.pattern
        descriptor["constraints"] = constraints
        return descriptor


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    table: str
    reference: tuple[str, ...]


@dataclass
class Table:
    name: str
    title: str
    description: str
    columns: list[Column]
    primary_key: list[str]
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    fts: list[str] = field(default_factory=list)
    label_column: str | None = None
    sort: str | None = None
    sort_desc: str | None = None
    kind: str = "core"  # core | typed | vocabulary | history
    default_facets: list[str] | None = None  # facets shown first; else the first six facet columns
    diff_key: list[str] | None = None  # how `etl diff` matches rows across snapshots; None: not diffed
    diff_ignore: list[str] = field(default_factory=list)  # columns that follow position, not compared

    @property
    def compared_columns(self) -> list[str]:
        """Columns whose change between two snapshots is a change of fact."""
        skipped = set(self.diff_key or []) | set(self.diff_ignore) | {"source_path", "source_line"}
        return [name for name in self.column_names if name not in skipped]

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def facets(self) -> list[str]:
        return [column.name for column in self.columns if column.facet]

    def frictionless(self, vocabulary_values: dict[str, list]) -> dict:
        schema = {
            "fields": [c.frictionless(vocabulary_values) for c in self.columns],
            "primaryKey": list(self.primary_key),
            "missingValues": [""],
        }
        if self.foreign_keys:
            schema["foreignKeys"] = [
                {
                    "fields": list(fk.fields),
                    "reference": {
                        "resource": "" if fk.table == self.name else fk.table,
                        "fields": list(fk.reference),
                    },
                }
                for fk in self.foreign_keys
            ]
        return schema

    def sqlite_columns(self) -> dict[str, type]:
        return {c.name: COLUMN_TYPES[c.type][1] for c in self.columns}


@dataclass
class PageField:
    name: str
    type: str
    description: str
    required: bool = False
    scheme: str | None = None
    values: tuple | None = None
    facet: bool = False  # offer a facet (a JSON-array facet for lists) on the typed table

    @property
    def column_name(self) -> str:
        return self.name.replace("-", "_")

    @property
    def names_pages(self) -> bool:
        return self.type in LINK_FIELD_TYPES


@dataclass
class PageType:
    name: str
    content: str
    description: str
    table: str | None
    fields: dict[str, PageField]


@dataclass
class Schema:
    tables: dict[str, Table]
    page_types: dict[str, PageType]
    vocabularies: dict
    provenance_columns: list[Column]
    venues: VenueIndex = field(default_factory=VenueIndex)
    codes: dict[str, dict] = field(default_factory=dict)  # diagnostic code -> its entry in errors.yml

    @property
    def year_bounds(self) -> tuple[int, int]:
        """(first, last): the years a typed year field or a cited work's
        year may have, from the year-range entry of errors.yml (fixed there,
        not read from the clock, so a build does not depend on its day)."""
        years = self.codes["year-range"]["years"]
        return years["first"], years["last"]

    @property
    def blocking_codes(self) -> set[str]:
        """The codes whose problems stop a build (errors.yml: blocks)."""
        return {code for code, entry in self.codes.items() if entry.get("blocks")}

    def identifier_scheme(self, scheme: str) -> dict:
        for entry in self.vocabularies["identifier_schemes"]:
            if entry["scheme"] == scheme:
                return entry
        raise KeyError(f"unknown identifier scheme {scheme}")

    @property
    def typed_tables(self) -> dict[str, str]:
        """page type -> typed table name."""
        return {t.name: t.table for t in self.page_types.values() if t.table}


def _column(spec: dict) -> Column:
    if spec["type"] not in COLUMN_TYPES:
        raise ValueError(f"column {spec['name']}: unknown type {spec['type']}")
    return Column(
        name=spec["name"],
        type=spec["type"],
        description=spec["description"],
        required=bool(spec.get("required", False)),
        unique=bool(spec.get("unique", False)),
        enum=tuple(spec["enum"]) if "enum" in spec else None,
        pattern=spec.get("pattern"),
        vocabulary=spec.get("vocabulary"),
        facet=bool(spec.get("facet", False)),
        example=spec.get("example"),
        items=spec.get("items", "string"),
    )


def _table(name: str, spec: dict, provenance: list[Column], kind: str, source_table: str | None = None) -> Table:
    columns = [_column(c) for c in spec["columns"]]
    if spec.get("provenance"):
        columns += provenance
    # Every foreign key references the target table's primary key; the
    # reference fields are filled in by load_schema once all tables exist.
    foreign_keys = [ForeignKey(tuple(fk["fields"]), fk["table"], ()) for fk in spec.get("foreign_keys", [])]
    if spec.get("provenance") and source_table:
        foreign_keys.append(ForeignKey(("source_path",), source_table, ()))
    foreign_keys += [ForeignKey((c.name,), c.vocabulary, ()) for c in columns if c.vocabulary]
    table = Table(
        name=name,
        title=spec["title"],
        description=spec["description"],
        columns=columns,
        primary_key=list(spec["primary_key"]),
        foreign_keys=foreign_keys,
        fts=list(spec.get("fts", [])),
        label_column=spec.get("label_column"),
        sort=spec.get("sort"),
        sort_desc=spec.get("sort_desc"),
        kind=kind,
        default_facets=spec.get("default_facets"),
    )
    unknown = set(table.default_facets or []) - set(table.facets)
    if unknown:
        raise ValueError(f"table {name}: default_facets {sorted(unknown)} are not facet columns")
    diff = spec.get("diff", {})
    if diff is not False:
        table.diff_key = list(diff.get("key") or table.primary_key)
        table.diff_ignore = list(diff.get("ignore", []))
        unknown = set(table.diff_key + table.diff_ignore) - set(table.column_names)
        if unknown:
            raise ValueError(f"table {name}: diff names unknown columns {sorted(unknown)}")
    return table


def _page_types(spec: dict) -> dict[str, PageType]:
    groups = spec["field_groups"]
    page_types = {}
    for type_name, type_spec in spec["types"].items():
        declared = []
        for group in type_spec.get("include", []):
            declared += groups[group]
        declared += type_spec.get("fields") or []
        fields = {}
        for f in declared:
            if f["name"] in fields:
                raise ValueError(f"page type {type_name}: field {f['name']} declared twice")
            fields[f["name"]] = PageField(
                name=f["name"],
                type=f["type"],
                description=f["description"],
                required=bool(f.get("required", False)),
                scheme=f.get("scheme"),
                values=tuple(f["values"]) if "values" in f else None,
                facet=bool(f.get("facet", False)),
            )
        page_types[type_name] = PageType(
            name=type_name,
            content=type_spec["content"],
            description=type_spec["description"],
            table=type_spec.get("table"),
            fields=fields,
        )
    return page_types


def _typed_table(
    page_type: PageType, schema_patterns: dict[str, str], provenance: list[Column], source_table: str | None = None
) -> Table:
    """The per-type table: one row per page of the type, one column per declared field."""
    columns = [Column("page", "string", f"Page ID of the {page_type.name} page.", required=True, unique=True)]
    for f in page_type.fields.values():
        if f.name == "aliases":
            continue  # kept on pages.aliases
        column_type = FIELD_COLUMN_TYPES[f.type]
        description = f.description
        if f.names_pages:
            description += (
                " JSON array of the page IDs its links name (relations.target_page);"
                if f.type == "wikilinks"
                else " The page ID it names (relations.target_page);"
            ) + " a target naming no page is kept as written (relations.target_exists is false)."
        elif f.type == "list":
            description += " (JSON array)"
        enum = None
        if f.values is not None:
            enum = tuple(str(v) for v in f.values) if column_type == "string" else tuple(f.values)
            description += " One of: " + ", ".join(str(v) for v in f.values) + "."
        if f.type in ("enum", "identifier", "integer", "year", "number", "date", "boolean"):
            description += " Empty when missing, null or not valid (see page_fields.raw)."
        columns.append(
            Column(
                name=f.column_name,
                type=column_type,
                description=description,
                enum=enum,
                pattern=schema_patterns.get(f.scheme) if f.type == "identifier" else None,
                facet=f.facet
                or f.type in ("enum", "boolean")
                or (f.type == "integer" and f.values is not None)
                or f.type == "year",
            )
        )
    columns += provenance
    return Table(
        name=page_type.table,
        title=page_type.table.replace("_", " ").capitalize(),
        description=f"Typed frontmatter of {page_type.name} pages: {page_type.description} "
        "One row per page, one column per declared field (data/page_types.yml).",
        columns=columns,
        primary_key=["page"],
        foreign_keys=[ForeignKey(("page",), "pages", ())]
        + ([ForeignKey(("source_path",), source_table, ())] if source_table else []),
        label_column=None,
        sort="page",
        kind="typed",
        diff_key=["page"],
    )


@cache
def load_schema(data_dir: Path = DATA_DIR) -> Schema:
    tables_spec = load_yaml(data_dir / "tables.yml")
    vocabularies = load_yaml(data_dir / "vocabularies.yml")
    page_types = _page_types(load_yaml(data_dir / "page_types.yml"))
    provenance = [_column(c) for c in tables_spec["provenance_columns"]]
    source_table = tables_spec.get("provenance_source_table")
    patterns = {s["scheme"]: s["pattern"] for s in vocabularies["identifier_schemes"]}

    tables: dict[str, Table] = {}
    for name, spec in tables_spec["tables"].items():
        tables[name] = _table(name, spec, provenance, "history" if spec.get("history") else "core", source_table)
    for page_type in page_types.values():
        if page_type.table:
            if page_type.table in tables:
                raise ValueError(f"typed table {page_type.table} clashes with a declared table")
            tables[page_type.table] = _typed_table(page_type, patterns, provenance, source_table)
    for name, spec in tables_spec["vocabularies"].items():
        tables[name] = _table(name, spec, provenance, "vocabulary", source_table)

    for table in tables.values():
        resolved = []
        for fk in table.foreign_keys:
            if fk.table not in tables:
                raise ValueError(f"{table.name}: foreign key to unknown table {fk.table}")
            target_pk = tuple(tables[fk.table].primary_key)
            if len(target_pk) != len(fk.fields):
                raise ValueError(f"{table.name}: foreign key {fk.fields} does not match {fk.table}'s primary key")
            resolved.append(ForeignKey(fk.fields, fk.table, target_pk))
        table.foreign_keys = resolved
        for column in table.columns:
            if column.pattern:
                re.compile(column.pattern)
    venues_path = data_dir / "venues.yml"
    venues = venue_index(load_yaml(venues_path)["venues"], venues_path.read_text(encoding="utf-8"))
    codes = {entry["code"]: entry for entry in load_yaml(data_dir / "errors.yml")["codes"]}
    return Schema(
        tables=tables,
        page_types=page_types,
        vocabularies=vocabularies,
        provenance_columns=provenance,
        venues=venues,
        codes=codes,
    )

"""Datasette metadata, generated from the schema declaration plus the
site-level text in data/site.yml. `etl metadata` writes metadata.yml.

The file keeps Datasette 1.0's split in mind: top-level `title`,
`description`, `license*`, `source*` and per-table/column descriptions are
metadata; `settings`, `plugins`, facets, sort orders and FTS wiring are
configuration, grouped so they can move to datasette.yml mechanically.
"""

from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML

from agingkb_site.names import DATABASE
from agingkb_site.serve import SETTINGS

from ..schema import DATA_DIR, Schema, load_schema, load_yaml

CELLS_PER_PAGE = 800
MIN_ROWS_PER_PAGE = 20


def datasette_metadata(schema: Schema, data_dir: Path = DATA_DIR) -> dict:
    site = load_yaml(data_dir / "site.yml")
    tables = {}
    for name, table in schema.tables.items():
        entry = {
            "title": table.title,
            "description": table.description,
            "columns": {c.name: c.description for c in table.columns},
        }
        # List columns first: a typed table has more enum columns than facets shown.
        facets = table.default_facets or sorted(table.facets, key=lambda name: table.column(name).type != "array")[:8]
        if facets:
            # JSON-array columns get Datasette's array facet (one value per element).
            entry["facets"] = [{"array": name} if table.column(name).type == "array" else name for name in facets]
        # Long text and JSON columns make no sense as sort keys.
        entry["sortable_columns"] = [c.name for c in table.columns if c.type not in ("text", "array", "object")]
        if table.label_column:
            entry["label_column"] = table.label_column
        # A page of a wide table shows about CELLS_PER_PAGE cells: rendering
        # is per cell, and a 43-column page of 50 rows took 100 ms to draw.
        rows_per_page = max(MIN_ROWS_PER_PAGE, min(SETTINGS["default_page_size"], CELLS_PER_PAGE // len(table.columns)))
        if rows_per_page < SETTINGS["default_page_size"]:
            entry["size"] = rows_per_page
        if table.sort:
            entry["sort"] = table.sort
        if table.sort_desc:
            entry["sort_desc"] = table.sort_desc
        if table.fts:
            entry["fts_table"] = f"{name}_fts"
            entry["fts_pk"] = "rowid"
        tables[name] = entry
    # sqlite-utils' FTS shadow tables stay out of the table list.
    for name, table in schema.tables.items():
        if table.fts:
            for suffix in ("_fts", "_fts_config", "_fts_data", "_fts_docsize", "_fts_idx"):
                tables[name + suffix] = {"hidden": True}
    # The statistics the build's ANALYZE leaves for SQLite's planner are no table of the dataset.
    tables["sqlite_stat1"] = {"hidden": True}
    history_tables = [name for name, table in schema.tables.items() if table.kind == "history"]
    metadata = {
        "title": site["title"],
        "description_html": site["description_html"].strip(),
        "license": site["license"],
        "license_url": site["license_url"],
        "source": site["source"],
        "source_url": site["source_url"],
        "about": site["about"],
        "about_url": site["about_url"],
        # The site hides the history tables a build left empty (agingkb_site/history.py).
        "plugins": {**site.get("plugins", {}), "history": {"tables": history_tables}},
        "databases": {
            DATABASE: {
                "title": site["title"],
                "description": site["database_description"].strip(),
                "tables": tables,
                "queries": {**site.get("queries", {}), **ranked_search_queries(schema)},
            }
        },
    }
    return metadata


# A snippet re-reads its document: 200 snippets of page bodies took 150 ms.
RANKED_SEARCH_MATCHES = 50


def ranked_search_queries(schema: Schema) -> dict:
    """One stored query per full-text table that orders matches by bm25
    rank (a table page's ?_search= lists matches in table order)."""
    queries = {}
    for name, table in schema.tables.items():
        if not table.fts:
            continue
        shown = list(dict.fromkeys([*table.primary_key, *([table.label_column] if table.label_column else [])]))
        columns = ", ".join(f"t.[{c}]" for c in shown)
        where = "".join(f", t.{c}" for c in ("source_path", "source_line") if c in table.column_names)
        queries[f"search_{name}"] = {
            "title": f"Search {table.title.lower()}, best matches first",
            "description": f"Full-text search of {', '.join(table.fts)} in {name}, ranked by relevance "
            f"(SQLite FTS5 bm25). The {RANKED_SEARCH_MATCHES} best matches, each with a snippet (a table's own "
            "search lists every match). Words are stemmed; use quotes for a phrase, OR between alternatives, a "
            "trailing * for a prefix. Text that is not a valid search expression is searched as plain words.",
            "sql": (
                f"select {columns}, snippet([{name}_fts], -1, '[', ']', '…', 16) as matched, "
                f"round([{name}_fts].rank, 3) as rank{where}\n"
                f"from [{name}_fts] join [{name}] t on t.rowid = [{name}_fts].rowid\n"
                f"where [{name}_fts] match fts_query(:q)\norder by [{name}_fts].rank\nlimit {RANKED_SEARCH_MATCHES}"
            ),
        }
    return queries


def render_metadata(schema: Schema | None = None, data_dir: Path = DATA_DIR) -> str:
    schema = schema or load_schema(data_dir)
    yaml = YAML()
    yaml.width = 4096
    yaml.default_flow_style = False
    stream = io.StringIO()
    stream.write(
        "# Generated by `etl metadata` from data/tables.yml, data/page_types.yml and\n"
        "# data/site.yml. Do not edit by hand.\n"
    )
    yaml.dump(datasette_metadata(schema, data_dir), stream)
    return stream.getvalue()

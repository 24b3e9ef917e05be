"""Serve stage: what the MCP endpoint (mcp_server.py) answers, tool by tool.

Each tool is a ToolSpec: a name, a description an assistant reads to choose
it, a JSON Schema of its arguments and the coroutine that answers. The
answers are the site's own: the tables and columns as metadata.yml describes
them (generated from data/tables.yml), the stored queries of data/site.yml,
the site-wide search (site_search.py), and row URLs as the row pages have
them (queries.RowUrls). A row keeps source_path and source_line wherever its
table has them, and carries row_url, its page on the site.

SQL an assistant writes, and the stored queries, run as on the web: after
security.read_only_refusal, with Datasette's time limit and row cap, through
the worker's admission gate (`gated`, as ?sql= and stored query pages are).
search and get_page are reader pages on the web and are not gated there.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from datasette.database import QueryInterrupted
from datasette.utils import derive_named_parameters
from datasette.utils.asgi import Request

from .admission import shared_admission
from .history import history_state
from .names import DATABASE
from .queries import RowUrls, cached_titles, fetch_rows
from .search_hints import HOW_TO_SEARCH, fts_query
from .security import read_only_refusal
from .site_search import CLOSE, OPEN, Group, search_groups, snippet_text

PAGE_ROWS = 25  # rows of one table in get_page's answer, unless asked for fewer or more
PAGE_ROWS_MAX = 200
SEARCH_HITS = 5
SEARCH_HITS_MAX = 20
TEXT_CHARS = 1500  # a longer text (a page's body) is cut in get_page's answer; row_url has it whole


class ToolFailed(Exception):
    """What a tool could not do, said to the assistant (a result with isError)."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = {"error": message, **details}


@dataclass(frozen=True)
class Call:
    """One tool call: the site, the absolute URL it is reached at, the client."""

    datasette: Any
    base_url: str
    client: str

    @property
    def urls(self) -> RowUrls:
        return RowUrls(self.base_url + self.datasette.urls.database(DATABASE))

    @property
    def database(self):
        return self.datasette.get_database(DATABASE)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    input_schema: dict
    run: Callable[[Call, dict], Awaitable[dict]]
    gated: bool = False  # enters the admission gate, as the web's SQL and stored queries do


def base_url(datasette, scope) -> str:
    """The site's absolute URL as the request reached it. Behind a declared
    proxy (the released app's), which ends TLS, the proxy's
    X-Forwarded-Proto says whether the reader used https."""
    url = datasette.absolute_url(Request(scope, None), "/").rstrip("/")
    admission = shared_admission(datasette)
    if admission and admission.proxy_header and url.startswith("http://"):
        forwarded = dict(scope.get("headers", [])).get(b"x-forwarded-proto", b"").decode("latin-1")
        if forwarded.split(",")[0].strip() == "https":
            url = "https://" + url[len("http://") :]
    return url


def arguments_schema(properties: dict, required=()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def cell(value):
    """A SQLite value as JSON: a blob as base64 (the dataset has none today)."""
    return {"base64": base64.b64encode(value).decode("ascii")} if isinstance(value, bytes) else value


def declared_tables(datasette) -> dict[str, dict]:
    """The dataset's tables as metadata.yml declares them, in the schema's
    order; the full-text indexes and SQLite's statistics are hidden there."""
    tables = (datasette.metadata(database=DATABASE) or {}).get("tables", {})
    return {name: entry for name, entry in tables.items() if not entry.get("hidden")}


def stored_queries(datasette) -> dict[str, dict]:
    """The stored queries the site offers: not those of empty history tables (history.py)."""
    withheld = history_state(datasette).hidden_queries
    queries = datasette.metadata("queries", database=DATABASE) or {}
    return {name: query for name, query in queries.items() if name not in withheld}


async def query_parameters(datasette, query: dict) -> list[str]:
    """A stored query's parameters, as Datasette finds them, each once."""
    found = query.get("params") or await derive_named_parameters(datasette.get_database(DATABASE), query["sql"])
    return [parameter for parameter in dict.fromkeys(found) if not parameter.startswith("_")]


# --- the tables ---------------------------------------------------------------


async def list_tables(call: Call, arguments: dict) -> dict:
    counts = await call.database.table_counts(limit=60 * 60 * 1000)
    tables = []
    for name, entry in declared_tables(call.datasette).items():
        tables.append(
            {
                "table": name,
                "title": entry.get("title"),
                "description": entry.get("description"),
                "rows": counts.get(name),
                "primary_key": await call.database.primary_keys(name),
                "label_column": entry.get("label_column"),
                "full_text_search": bool(entry.get("fts_table")),
                "url": call.urls.table(name),
            }
        )
    return {
        "database": DATABASE,
        "tables": tables,
        "next": "get_schema(table) gives a table's columns with what each holds; execute_sql runs a SELECT.",
    }


async def get_schema(call: Call, arguments: dict) -> dict:
    tables = declared_tables(call.datasette)
    wanted = arguments.get("table")
    if not wanted:
        return {
            "database": DATABASE,
            "tables": [
                {
                    "table": name,
                    "primary_key": await call.database.primary_keys(name),
                    "columns": {c.name: c.type for c in await call.database.table_column_details(name)},
                }
                for name in tables
            ],
            "next": "get_schema(table) adds what each column holds, foreign keys and the CREATE TABLE statement.",
        }
    entry = tables[wanted]
    described = entry.get("columns", {})
    columns = [
        {"name": c.name, "type": c.type, "not_null": bool(c.notnull), "description": described.get(c.name)}
        for c in await call.database.table_column_details(wanted)
    ]
    return {
        "table": wanted,
        "title": entry.get("title"),
        "description": entry.get("description"),
        "primary_key": await call.database.primary_keys(wanted),
        "columns": columns,
        "foreign_keys": [
            {"column": fk["column"], "other_table": fk["other_table"], "other_column": fk["other_column"]}
            for fk in await call.database.foreign_keys_for_table(wanted)
        ],
        "full_text_search": entry.get("fts_table"),
        "sql": await call.database.get_table_definition(wanted),
        "url": call.urls.table(wanted),
    }


# --- SQL ----------------------------------------------------------------------


async def run_sql(call: Call, sql: str, params: dict) -> dict:
    """Rows of a read-only query, as the web runs it: Datasette's time limit
    and row cap."""
    datasette = call.datasette
    try:
        results = await call.database.execute(sql, params, truncate=True, log_sql_errors=False)
    except QueryInterrupted:
        seconds = datasette.setting("sql_time_limit_ms") / 1000
        raise ToolFailed(
            f"The query took longer than the {seconds:g} s time limit and was stopped. Narrow it: filter on "
            "indexed columns (a table's primary key, page), add a LIMIT, or use a table's full-text search.",
            kind="time-limit",
        ) from None
    except sqlite3.Error as error:
        raise ToolFailed(f"SQL error: {error}", kind="sql") from None
    rows = [{column: cell(value) for column, value in zip(results.columns, row)} for row in results.rows]
    answer = {"columns": list(results.columns), "rows": rows, "row_count": len(rows), "truncated": results.truncated}
    if results.truncated:
        answer["note"] = (
            f"Only the first {len(rows)} rows are returned (the site's row cap): narrow the query or page "
            "through it with LIMIT and OFFSET."
        )
    return answer


async def execute_sql(call: Call, arguments: dict) -> dict:
    sql = arguments["sql"]
    refusal = read_only_refusal(sql)
    if refusal:
        raise ToolFailed(f"Refused: {refusal}. Nothing was run.", kind="refused")
    answer = await run_sql(call, sql, {})
    return {**answer, "url": f"{call.urls.base}?{urlencode({'sql': sql})}"}


def stored_query_tool(name: str, query: dict, parameters: list[str]) -> ToolSpec:
    async def run(call: Call, arguments: dict) -> dict:
        # As the web passes them: every parameter a string, an absent one empty.
        params = {parameter: str(arguments.get(parameter, "")) for parameter in parameters}
        answer = await run_sql(call, query["sql"], params)
        url = f"{call.urls.base}/{name}" + (f"?{urlencode(params)}" if any(params.values()) else "")
        return {"query": name, "parameters": params, **answer, "url": url}

    properties = {
        parameter: {"type": ["string", "number"], "description": "Leave out (or give '') for the query's default."}
        for parameter in parameters
    }
    described = f"{query.get('title', name)}. {query.get('description', '')}".strip()
    return ToolSpec(
        name, query.get("title", name), f"Stored query: {described}", arguments_schema(properties), run, True
    )


# --- search -------------------------------------------------------------------


def search_hit(group: Group, row, urls: RowUrls, titles: dict) -> dict:
    snippet = snippet_text(row["hit_best"]).replace(OPEN, "[").replace(CLOSE, "]")
    found = {
        "title": snippet_text(str(row["hit_title"] or "")).replace(OPEN, "").replace(CLOSE, ""),
        "where": row["hit_context"],
        "snippet": snippet,
        "key": {key: row[key] for key in group.keys},
        "url": urls.row(group.table, *(row[key] for key in group.keys)),
    }
    if group.has_page:
        found["page"] = row["hit_page"]
        found["page_title"] = titles.get(row["hit_page"])
    if group.has_source:
        found["source_path"], found["source_line"] = row["hit_source_path"], row["hit_source_line"]
    return found


async def search_group(call: Call, group: Group, query: str, limit: int, titles: dict) -> dict:
    found = {"table": group.table, "title": group.title}
    try:
        count = (await call.database.execute(group.count_sql(), {"query": query})).rows[0][0]
        rows = (await call.database.execute(group.hits_sql(limit), {"query": query})).rows if count else []
    except QueryInterrupted:
        return {**found, "count": None, "hits": [], "note": "this table's search passed the time limit"}
    return {**found, "count": count, "hits": [search_hit(group, row, call.urls, titles) for row in rows]}


async def search(call: Call, arguments: dict) -> dict:
    text = arguments["q"].strip()
    wanted = set(arguments.get("tables") or ())
    limit = arguments.get("limit", SEARCH_HITS)
    groups = [group for group in await search_groups(call.datasette) if not wanted or group.table in wanted]
    query = fts_query(text)
    titles = await cached_titles(call.datasette)
    found = await asyncio.gather(*(search_group(call, group, query, limit, titles) for group in groups))
    return {
        "q": text,
        "searched_as": query,
        "searched": [group.table for group in groups],
        "tables": [group for group in found if group["count"] != 0],
        "note": f"The best {limit} matches per table, by relevance (SQLite FTS5 bm25); snippets mark matches "
        "with [ ]. get_page(page) gives everything about a page that matched.",
    }


# --- everything about a page ----------------------------------------------------


async def page_tables(datasette) -> list[tuple[str, list[str]]]:
    """(table, primary key) for every table with a `page` column, pages first;
    worked out once per server."""
    cached = getattr(datasette, "_agingkb_page_tables", None)
    if cached is None:
        database = datasette.get_database(DATABASE)
        cached = [
            (name, await database.primary_keys(name) or ["rowid"])
            for name in declared_tables(datasette)
            if "page" in await database.table_columns(name)
        ]
        cached.sort(key=lambda entry: entry[0] != "pages")
        datasette._agingkb_page_tables = cached
    return cached


def shown(row: dict, urls: RowUrls, table: str, keys: list[str]) -> dict:
    """A row as get_page answers it: empty columns left out, long texts cut,
    its URL added."""
    found = {}
    for column, value in row.items():
        if value is None or column == "page":  # the page is the answer's own
            continue
        if isinstance(value, str) and len(value) > TEXT_CHARS:
            value = value[:TEXT_CHARS] + f"… [cut: {len(value):,} characters in all; row_url has the whole text]"
        found[column] = cell(value)
    found["row_url"] = urls.row(table, *(row[key] for key in keys))
    return found


def page_rows(conn, page: str, tables: list[tuple[str, list[str]]], per_table: int) -> dict[str, tuple[int, list]]:
    found = {}
    for table, keys in tables:
        total = conn.execute(f"select count(*) from [{table}] where page = ?", [page]).fetchone()[0]
        if total:
            order = ", ".join(f"[{key}]" for key in keys)
            rows = fetch_rows(
                conn, f"select * from [{table}] where page = ? order by {order} limit ?", [page, per_table]
            )
            found[table] = (total, rows)
    return found


async def get_page(call: Call, arguments: dict) -> dict:
    page = arguments["page"].strip().strip("/").removesuffix(".md")
    per_table = arguments.get("per_table", PAGE_ROWS)
    tables = await page_tables(call.datasette)
    found = await call.database.execute_fn(lambda conn: page_rows(conn, page, tables, per_table))
    if "pages" not in found:
        like = (await call.database.execute(PAGES_LIKE, {"text": page.rsplit("/", 1)[-1]})).rows
        raise ToolFailed(
            f"There is no page {page!r}. A page id is the page's path in the wiki without .md, "
            "e.g. molecules/proteins/il-1ra; search(q) finds pages by their words.",
            kind="not-found",
            similar=[row[0] for row in like],
        )
    keys = dict(tables)
    snapshot = (await call.database.execute(SNAPSHOT_SQL)).first()
    answer = {
        "page": page,
        "url": call.urls.row("pages", page),
        "snapshot": dict(snapshot) if snapshot else None,
        "note": f"Rows of every table about the page, at most {per_table} per table (total says how many there "
        "are; all_rows_url lists them), without their empty columns and the page column. source_path and "
        "source_line give the file and line of the wiki each row was read from; row_url is the row on the site.",
        "tables": {},
    }
    for table, (total, rows) in found.items():
        answer["tables"][table] = {
            "total": total,
            "shown": len(rows),
            "all_rows_url": call.urls.table(table, page=page),
            "rows": [shown(row, call.urls, table, keys[table]) for row in rows],
        }
    return answer


PAGES_LIKE = "select page from pages where page like '%' || :text || '%' order by length(page), page limit 5"
SNAPSHOT_SQL = "select snapshot, dataset_version, upstream_repository, upstream_commit, commit_statement from snapshots"


# --- the catalogue ------------------------------------------------------------


def builtin_tools(table_names: list[str], searchable: list[str]) -> list[ToolSpec]:
    table = {"type": "string", "enum": table_names, "description": "A table's name, as list_tables gives it."}
    return [
        ToolSpec(
            "list_tables",
            "List the tables",
            "Every table of the dataset with what it holds, its row count, primary key and URL. Start here.",
            arguments_schema({}),
            list_tables,
        ),
        ToolSpec(
            "get_schema",
            "A table's columns",
            "The columns of one table with what each holds, its keys and CREATE TABLE statement; without a "
            "table, every table's columns and types.",
            arguments_schema({"table": table}),
            get_schema,
        ),
        ToolSpec(
            "execute_sql",
            "Run a read-only SQL query",
            "Run one SQLite SELECT (or WITH ... SELECT) on the dataset and get its rows. Read-only: writes, "
            "ATTACH, load_extension() and PRAGMA statements are refused. Queries stop after the site's time limit "
            "and return at most the site's row cap; calls are rate-limited per client like the web's SQL.",
            arguments_schema({"sql": {"type": "string", "minLength": 1, "description": "One SQLite query."}}, ["sql"]),
            execute_sql,
            gated=True,
        ),
        ToolSpec(
            "search",
            "Search every table",
            f"Full-text search of the tables with a search index ({', '.join(searchable)}): the best matches of "
            f"each, with a snippet, the row's page, source file and line, and URL. Words are stemmed; {HOW_TO_SEARCH}.",
            arguments_schema(
                {
                    "q": {"type": "string", "minLength": 1, "description": "The words to search for."},
                    "tables": {
                        "type": "array",
                        "items": {"type": "string", "enum": searchable},
                        "description": "Search only these tables (default: all of them).",
                    },
                    "limit": {"type": "integer", "minimum": 1, "maximum": SEARCH_HITS_MAX, "default": SEARCH_HITS},
                },
                ["q"],
            ),
            search,
        ),
        ToolSpec(
            "get_page",
            "Everything about a wiki page",
            "Every row the dataset holds about one wiki page: the page, its sections, footnotes, links, gaps, "
            "evidence grades, trial mentions and more, each with source_path/source_line (the file and line it "
            "was read from) and row_url (its page on the site). Bounded: at most per_table rows of each table.",
            arguments_schema(
                {
                    "page": {
                        "type": "string",
                        "minLength": 1,
                        "description": "A page id: its path in the wiki without .md, e.g. molecules/proteins/il-1ra.",
                    },
                    "per_table": {"type": "integer", "minimum": 1, "maximum": PAGE_ROWS_MAX, "default": PAGE_ROWS},
                },
                ["page"],
            ),
            get_page,
        ),
    ]


async def tool_catalogue(datasette) -> dict[str, ToolSpec]:
    """Every tool: the built-in ones, then one per stored query."""
    tables = declared_tables(datasette)
    searchable = [group.table for group in await search_groups(datasette)]
    tools = builtin_tools(list(tables), searchable)
    for name, query in stored_queries(datasette).items():
        tools.append(stored_query_tool(name, query, await query_parameters(datasette, query)))
    catalogue = {}
    for tool in tools:
        if tool.name in catalogue:  # a stored query named like a built-in tool would hide it
            raise ValueError(f"two MCP tools are named {tool.name!r}: rename the stored query in data/site.yml")
        catalogue[tool.name] = tool
    return catalogue

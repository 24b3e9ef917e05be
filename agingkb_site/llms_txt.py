"""Serve stage: /llms.txt and /llms-full.txt, the dataset described for
language models (the llmstxt.org convention: an H1 title, a blockquote
summary, then H2 sections of links with notes).

Everything in them is read from what the site already serves: the tables,
their descriptions and columns from metadata.yml (generated from
data/tables.yml, as Datasette's own pages are), the stored queries of
data/site.yml, the row counts and keys of the database, the version and
snapshot of its snapshots table, the limits the site runs with, and the MCP
tools of mcp_tools.py. The text the declarations cannot give (a summary,
what the data does not say) is the `llms_txt` plugin setting in
data/site.yml. llms.txt names every table with its key columns;
llms-full.txt adds every column with its description.

The database never changes while the site runs, so each text is written
once per worker; its links are absolute, under the host the request named.
"""

from __future__ import annotations

from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from .admission import shared_admission
from .mcp_server import PATH as MCP_PATH
from .mcp_tools import base_url, builtin_tools, declared_tables, query_parameters, stored_queries
from .names import DATABASE
from .site_search import search_groups

PLUGIN = "llms_txt"


def one_line(text) -> str:
    return " ".join(str(text or "").split())


async def dataset_facts(datasette) -> dict:
    database = datasette.get_database(DATABASE)
    snapshot = (await database.execute("select * from snapshots")).first()
    counts = await database.table_counts(limit=60 * 60 * 1000)
    keys = {name: await database.primary_keys(name) for name in declared_tables(datasette)}
    return {"snapshot": dict(snapshot) if snapshot else {}, "counts": counts, "keys": keys}


def header(datasette, facts: dict) -> list[str]:
    metadata = datasette.metadata() or {}
    config = datasette.plugin_config(PLUGIN) or {}
    snapshot = facts["snapshot"]
    version = snapshot.get("dataset_version", "unknown")
    commit = f" ({snapshot['commit_statement']})" if snapshot.get("commit_statement") else ""
    repository = snapshot.get("upstream_repository") or metadata.get("source_url") or ""
    lines = [f"# {metadata.get('title', 'agingkb')}", "", f"> {one_line(config.get('summary'))}", ""]
    lines += [
        f"Dataset version {version}, snapshot {snapshot.get('snapshot', 'unknown')}{commit}: "
        f"{snapshot.get('pages', 0):,} pages from {snapshot.get('markdown_files', 0):,} Markdown files.",
        "",
        f"Licence: {metadata.get('license')} ({metadata.get('license_url')}); the tables are derived from the wiki "
        "and carry the same licence.",
        "",
        # The words of the home page's "How to cite".
        f"Cite as: Adams J. The aging wiki, snapshot {snapshot.get('snapshot', 'unknown')}{commit}, published as "
        f"the agingkb dataset, version {version}. {repository}. CC BY 4.0.",
        "",
        "## What the data does not say",
        "",
    ]
    lines += [f"- {one_line(caveat)}" for caveat in config.get("caveats", [])]
    return lines + [""]


def table_lines(base: str, datasette, facts: dict) -> list[str]:
    lines = ["## Tables", ""]
    for name, entry in declared_tables(datasette).items():
        keys = facts["keys"][name]
        rows = facts["counts"].get(name, 0)
        notes = [f"{rows:,} row{'' if rows == 1 else 's'}", f"key: {', '.join(keys) or 'rowid'}"]
        if entry.get("label_column"):
            notes.append(f"label: {entry['label_column']}")
        if entry.get("fts_table"):
            notes.append("full-text search")
        lines.append(f"- [{name}]({base}/{DATABASE}/{name}): {one_line(entry.get('description'))} ({'; '.join(notes)})")
    return lines + [""]


async def query_lines(base: str, datasette) -> list[str]:
    lines = ["## Stored queries", ""]
    for name, query in stored_queries(datasette).items():
        parameters = await query_parameters(datasette, query)
        given = f" Parameters: {', '.join(parameters)}." if parameters else ""
        lines.append(
            f"- [{name}]({base}/{DATABASE}/{name}): {one_line(query.get('title'))}. "
            f"{one_line(query.get('description'))}{given}"
        )
    return lines + [""]


async def how_lines(base: str, datasette) -> list[str]:
    tables = list(declared_tables(datasette))
    searchable = [group.table for group in await search_groups(datasette)]
    tools = builtin_tools(tables, searchable)
    admission = shared_admission(datasette)
    seconds = datasette.setting("sql_time_limit_ms") / 1000
    sample = urlencode({"sql": "select page, title, type from pages limit 5", "_shape": "array"})
    lines = [
        "## How to query",
        "",
        f"- [MCP endpoint]({base}{MCP_PATH}): Model Context Protocol over Streamable HTTP (POST JSON-RPC, answers "
        "in JSON, no session); each stored query above is a tool of its own name, beside these:",
        *(f"  - {tool.name}: {one_line(tool.description)}" for tool in tools),
        f"- [SQL over HTTP]({base}/{DATABASE}.json?{sample}): any read-only SELECT as ?sql=, answered as JSON "
        "(.json) or CSV (.csv).",
        f"- [A table as JSON]({base}/{DATABASE}/pages.json?_shape=array): filters as ?column=value, "
        "?_search= for full-text search, ?_size= for page size; a row at /agingkb/<table>/<key>.json.",
        f"- [Search every table]({base}/-/search?q=sirt1): the site-wide search (the MCP search tool is the same).",
        f"- [Whole tables as CSV]({base}/-/downloads/pages.csv): every table at /-/downloads/<table>.csv, the "
        "data package at /-/downloads/datapackage.json and .zip, the SQLite file at /-/downloads/agingkb.db.",
        f"- Limits, the same over MCP and HTTP: a query stops after {seconds:g} s and returns at most "
        f"{datasette.setting('max_returned_rows'):,} rows; the database is read-only.",
    ]
    if admission:
        lines.append(
            f"- Per client: {admission.client_in_flight_limit} SQL or stored query at a time and "
            f"{admission.client_rate}; past that the answer is HTTP 429 (over MCP, a tool error) saying in how many "
            "seconds to try again. Whole-table downloads are never refused."
        )
    return lines + [""]


def column_lines(datasette, facts: dict) -> list[str]:
    lines = ["## Columns", ""]
    for name, entry in declared_tables(datasette).items():
        lines += [f"### {name}", "", one_line(entry.get("description")), ""]
        lines += [f"- `{column}`: {one_line(text)}" for column, text in entry.get("columns", {}).items()]
        lines.append("")
    return lines


# The links are absolute, under whatever host the request named; the text is
# kept once per worker with this mark where the host goes, so no host a
# client invents adds to what the worker keeps.
BASE = "\x00base\x00"


async def llms_text(datasette, full: bool) -> str:
    cached = getattr(datasette, "_agingkb_llms_txt", {})
    if full not in cached:
        facts = await dataset_facts(datasette)
        lines = header(datasette, facts) + table_lines(BASE, datasette, facts) + await query_lines(BASE, datasette)
        lines += await how_lines(BASE, datasette)
        if full:
            lines += column_lines(datasette, facts)
        lines += [
            "## Optional",
            "",
            f"- [llms-full.txt]({BASE}/llms-full.txt): this text with every table's columns and what each holds",
            f"- [Data package descriptor]({BASE}/-/downloads/datapackage.json): every table's Frictionless schema",
            f"- [Source files]({BASE}/{DATABASE}/source_files): every file read, with its SHA-256 and snapshot",
        ]
        cached[full] = "\n".join(lines).rstrip() + "\n"
        datasette._agingkb_llms_txt = cached
    return cached[full]


def text_view(full: bool):
    async def view(datasette, request):
        await datasette.ensure_permissions(request.actor, ["view-instance", ("view-database", DATABASE)])
        base = base_url(datasette, request.scope)
        text = (await llms_text(datasette, full)).replace(BASE, base)
        headers = {"cache-control": f"public, max-age={datasette.setting('default_cache_ttl')}"}
        return Response(text, content_type="text/markdown; charset=utf-8", headers=headers)

    return view


@hookimpl
def register_routes():
    return [(r"^/llms\.txt$", text_view(False)), (r"^/llms-full\.txt$", text_view(True))]

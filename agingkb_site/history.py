"""Serve stage: the history tables where the build has them, and nowhere
where it has not.

`etl history` fills commits, changes, page_history and gap_events (a
release built with --previous fills changes and gap_events); a plain build
leaves them empty. Which tables they are is declared once (their `history:
true` in data/tables.yml, passed on as this plugin's `tables` setting in
metadata.yml). At startup each is asked whether it holds a row; an empty
one is then hidden (Datasette's table metadata `hidden: true`: off the
database page and out of /-/search), left off the home page's list, and the
stored queries that read only empty ones are not offered. The templates
read `agingkb_history`: the footer and the home page link "What changed"
only when there is something to show, and a page's row has its History
section only when page_history has rows.
"""

from __future__ import annotations

import re

from datasette import hookimpl

from .names import DATABASE

PLUGIN = "history"
READS = re.compile(r"\b(?:from|join)\s+\[?(\w+)\]?", re.IGNORECASE)


class HistoryState:
    """What the served database holds of its history, found once at startup."""

    def __init__(self, tables: list[str], empty: set[str], hidden_queries: set[str]):
        self.tables = tuple(tables)
        self.empty = frozenset(empty)
        self.filled = frozenset(t for t in tables if t not in self.empty)
        self.hidden_queries = frozenset(hidden_queries)

    @property
    def shown(self) -> bool:
        """Whether /-/what-changed has anything to draw."""
        return bool(self.filled)


UNKNOWN = HistoryState([], set(), set())  # before startup: nothing hidden, nothing linked


def history_state(datasette) -> HistoryState:
    return getattr(datasette, "_agingkb_history", UNKNOWN)


def tables_read(sql: str) -> set[str]:
    """The tables a stored query names after FROM or JOIN."""
    return set(READS.findall(sql))


def hidden_queries(queries: dict, history: list[str], empty: set[str]) -> set[str]:
    """Stored queries that read history tables, all of them empty."""
    hidden = set()
    for name, query in queries.items():
        sql = query.get("sql", "") if isinstance(query, dict) else str(query)
        read = tables_read(sql) & set(history)
        if read and read <= empty:
            hidden.add(name)
    return hidden


@hookimpl
def startup(datasette):
    async def find_empty_tables():
        database = datasette.databases.get(DATABASE)
        tables = list((datasette.plugin_config(PLUGIN) or {}).get("tables") or [])
        if database is None or not tables:
            return
        existing = set(await database.table_names())
        empty = set()
        for table in tables:
            if (
                table not in existing
                or not (await database.execute(f"select exists(select 1 from [{table}])")).first()[0]
            ):
                empty.add(table)
        queries = datasette.metadata("queries", database=DATABASE, fallback=False) or {}
        datasette._agingkb_history = HistoryState(tables, empty, hidden_queries(queries, tables, empty))

    return find_empty_tables


@hookimpl
def get_metadata(datasette, key, database, table):
    empty = history_state(datasette).empty
    # Only a lookup of this database (its table list) or of a hidden table
    # needs the flags: the rest, most of Datasette's calls, skip the merge.
    if not empty or database != DATABASE or (table is not None and table not in empty):
        return None
    # A fresh dict on every call: Datasette merges the site's own metadata into it.
    return {"databases": {DATABASE: {"tables": {name: {"hidden": True} for name in empty}}}}


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    if action == "view-query" and isinstance(resource, tuple) and resource[0] == DATABASE:
        if resource[1] in history_state(datasette).hidden_queries:
            return False
    return None


@hookimpl
def extra_template_vars(datasette):
    state = history_state(datasette)
    return {"agingkb_history": {"shown": state.shown, "tables": state.filled}}

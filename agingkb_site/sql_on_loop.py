"""Serve stage: a reader page's SQL runs on the worker's event loop, each
query within a small budget.

Datasette 0.65.5 sends every query to its thread pool and awaits the answer.
Each await puts the page back in the loop's queue behind every other ready
request: under the long-tail mix (50 connections, 2 workers) a page whose
queries cost 7-27 ms on their own took 183 ms (median, measured inside the
worker) to draw, and those drawings made the p95. A reader's queries on this
immutable database take a few milliseconds, so they run on the loop thread:
a page is drawn in one go, and a worker's queued requests wait for whole
pages rather than for every query of every page.

The budget keeps one slow query from holding the loop: each query run on the
loop may take BUDGET_MS; past it, SQLite interrupts it and it runs again from
the start on the thread pool, as Datasette alone would run it, under
Datasette's own time limit (whose handler is kept and checked first, so a
query that hits that limit fails exactly as before). The database never
changes, so the answer is the one the first run would have given.

On the loop: the GET and HEAD requests the admission gate lets through
untouched (table, row, facet and search pages and the site's reader pages).
On the pool, as before: arbitrary SQL, stored queries, streamed exports
(admission.py gates them, and one may run for the whole time limit) and
everything else (the MCP endpoint's tool calls). AGINGKB_SQL_ON_LOOP=0
turns this off (the benchmarks' baseline). `on_loop` is one layer of
middleware.py's ASGI stack; the change to Datasette's execute_fn is
workarounds.queries_on_loop.
"""

from __future__ import annotations

import contextvars
import os
import sqlite3
import time

from .admission import expensive_kind, stored_query_names
from .names import DATABASE

SWITCH_VARIABLE = "AGINGKB_SQL_ON_LOOP"
BUDGET_MS = 50
# SQLite virtual-machine steps between two looks at the clock (Datasette's
# own choice for its time limit: about 0.08 ms).
STEPS = 1000

# Set per request by the layer: whether this request's queries run on the loop.
_on_loop: contextvars.ContextVar[bool] = contextvars.ContextVar("agingkb_sql_on_loop", default=False)


class BudgetedConnection:
    """The loop's connection as one query sees it: any progress handler the
    query sets (Datasette's time limit) runs first, then the budget's check."""

    def __init__(self, connection: sqlite3.Connection, budget_ms: float):
        self._connection = connection
        self._deadline = time.perf_counter() + budget_ms / 1000
        self.over_budget = False
        self.set_progress_handler(None, STEPS)

    def set_progress_handler(self, handler, steps: int) -> None:
        def check():
            if handler is not None and handler():
                return 1
            if time.perf_counter() >= self._deadline:
                self.over_budget = True
                return 1
            return 0

        self._connection.set_progress_handler(check, min(steps, STEPS) if steps > 0 else STEPS)

    def __getattr__(self, name):
        return getattr(self._connection, name)


def budgeted(connection: sqlite3.Connection) -> BudgetedConnection:
    return BudgetedConnection(connection, BUDGET_MS)


def switched_on() -> bool:
    return os.environ.get(SWITCH_VARIABLE, "1") != "0"


def on_loop(datasette):
    """The ASGI layer: marks reader requests, whose queries then run on the loop."""
    # Imported here: workarounds.py imports Datasette's plugin loader, which imports this module.
    from .workarounds import queries_on_loop

    database = datasette.databases.get(DATABASE) if datasette is not None else None
    if database is None or not switched_on() or not queries_on_loop(datasette, database, _on_loop.get, budgeted):
        return lambda app: app

    def wrap(app):
        async def marked(scope, receive, send):
            if not reads_only(scope, stored_query_names(datasette)):
                return await app(scope, receive, send)
            token = _on_loop.set(True)
            try:
                return await app(scope, receive, send)
            finally:
                _on_loop.reset(token)

        return marked

    return wrap


def reads_only(scope, stored_queries: frozenset[str]) -> bool:
    """A GET or HEAD that the admission gate would not gate."""
    if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    query_string = scope.get("query_string", b"").decode("latin-1")
    return expensive_kind(scope.get("path", ""), query_string, stored_queries) is None

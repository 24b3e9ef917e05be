"""Serve stage: every change the site makes to Datasette's own code.

Each workaround was written against Datasette 0.65.5's internals and is
applied only on that version. On any other version it is not applied and a
DatasetteVersionWarning says which one and why (the site still serves, as
Datasette alone would): an upgrade then shows, in the server's log, each
workaround to check against the new version before WRITTEN_FOR is changed.
Not applying is the safe side: a patch of internals that have changed could
break pages or, for the permission cache, answer with a stale decision.
"""

from __future__ import annotations

import sqlite3
import warnings
from functools import lru_cache

import datasette as datasette_package
import datasette.handle_exception as datasette_errors
from datasette import hookimpl
from datasette.database import QueryInterrupted

WRITTEN_FOR = "0.65.5"


class DatasetteVersionWarning(UserWarning):
    """A workaround was not applied: Datasette is not the version it was written for."""


def written_for_this_datasette(workaround: str) -> bool:
    """Whether the running Datasette is WRITTEN_FOR; warns when it is not."""
    running = datasette_package.__version__
    if running == WRITTEN_FOR:
        return True
    warnings.warn(
        f"agingkb_site.workarounds: {workaround} was written for Datasette {WRITTEN_FOR}, "
        f"this is Datasette {running}; it is not applied. Check whether the new version still needs it, "
        "then update agingkb_site/workarounds.py.",
        DatasetteVersionWarning,
        stacklevel=2,
    )
    return False


def quiet_error_tracebacks() -> bool:
    """Datasette 0.65.5 prints every error it answers (a query past the time
    limit, a 404) with rich's traceback and every local variable, the whole
    metadata included, when rich is installed: seconds of CPU on the event
    loop per error, during which the worker answers no one. Unexpected
    errors (500) are still printed by Datasette with the standard traceback."""
    if not written_for_this_datasette("quiet_error_tracebacks (no rich traceback per answered error)"):
        return False
    datasette_errors.rich = None
    return True


def cache_table_permissions(instance) -> bool:
    """Datasette 0.65.5 answers "may this table be viewed?" by deep-copying
    the whole metadata (every column description) for every table on every
    request: three quarters of the home page's time. Its answer depends only
    on the database and table names and the metadata, which never changes
    while the site runs, so each table's answer is kept."""
    if not written_for_this_datasette("cache_table_permissions (Datasette._table_permission_allows kept)"):
        return False
    allows = instance._table_permission_allows
    if not hasattr(allows, "cache_info"):
        instance._table_permission_allows = lru_cache(maxsize=4096)(allows)
    return True


def inherit_metadata_once(instance) -> bool:
    """Datasette's database and table views fill their metadata with the
    instance's licence and source by updating the shared dict in place
    (update_with_inherited_metadata), so a row page showed the licence block
    only on a worker that had already drawn its table page, and the page
    cache kept whichever drawing came first. Filled once at startup, every
    worker draws the same row page from its first request."""
    if not written_for_this_datasette("inherit_metadata_once (update_with_inherited_metadata at startup)"):
        return False
    for database in (instance.metadata("databases") or {}).values():
        instance.update_with_inherited_metadata(database)
        for table in (database.get("tables") or {}).values():
            instance.update_with_inherited_metadata(table)
    return True


def queries_on_loop(instance, database, wanted, budgeted) -> bool:
    """Datasette 0.65.5 runs every query on its thread pool (Database.execute_fn).
    Changed: while `wanted()` (a reader's request, sql_on_loop.py), the query runs
    on the event loop's thread, on a connection of its own prepared as
    Datasette prepares its connections, seen through `budgeted(connection)`;
    interrupted there past the budget (its `over_budget`), it is run again,
    from the start, on the pool as before. Any other error is the query's own."""
    if not written_for_this_datasette("queries_on_loop (Database.execute_fn: a reader's queries on the event loop)"):
        return False
    if getattr(database, "_agingkb_on_loop", False):
        return True
    on_pool = database.execute_fn
    held: list = []  # the worker's one loop-thread connection, made on first use

    async def execute_fn(fn):
        if not wanted():
            return await on_pool(fn)
        if not held:
            held.append(database.connect())
            instance._prepare_connection(held[0], database.name)
        connection = budgeted(held[0])
        try:
            return fn(connection)
        except (QueryInterrupted, sqlite3.OperationalError):
            if not connection.over_budget:
                raise
        finally:
            held[0].set_progress_handler(None, 0)
        return await on_pool(fn)

    database.execute_fn = execute_fn
    database._agingkb_on_loop = True
    return True


@hookimpl
def startup(datasette):
    quiet_error_tracebacks()
    cache_table_permissions(datasette)
    inherit_metadata_once(datasette)

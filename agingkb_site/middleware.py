"""Serve stage: the site's one ASGI wrapper, every layer in a declared order.

Datasette 0.65.5 applies plugins' asgi_wrapper hooks in the order pluggy
calls them: the first result wraps Datasette's own app, the last is the
outermost. Pluggy calls `tryfirst` implementations first and otherwise the
plugin registered last first, so four separate hooks were ordered by two
`tryfirst` flags and by the order the plugins directory listed its files.
This is the only asgi_wrapper of the site (tests/test_site_package.py checks
both), and the order is the list below: nothing else decides it.

The order kept is the one those four hooks had: security outermost, then
search rewriting (the page cache keys on its rewritten query and hint), then
the page cache, then admission, then the marking of reader requests whose
SQL runs on the event loop (sql_on_loop.py) next to Datasette;
CORS for the public data came later, just inside security.
Outside them all, the MCP endpoint's session manager (mcp_server.py) is
started and stopped with the server's lifespan; requests pass it untouched.
"""

from __future__ import annotations

from datasette import hookimpl

from . import admission, cors, mcp_server, page_cache, search_hints, security, sql_on_loop

# Outermost first: a request passes down this list, its answer back up.
# Each entry is (name, layer); layer(datasette) returns a function that
# wraps an ASGI app.
LAYERS = (
    # Lifespan events only: the MCP transport runs from startup to shutdown.
    ("mcp_lifespan", mcp_server.lifespan),
    # Security headers on every answer, the answers of the layers below
    # included (a 429 from the gate, a page replayed from the cache); a path
    # a browser would read as another host ends here as a 404.
    ("security", security.guard),
    # CORS on the public data (downloads, JSON, CSV, MCP), its preflight
    # answered here; inside security, so those headers stay on every answer.
    ("cors", cors.share),
    # Searches that cannot run are rewritten before anything below reads the
    # query string, and the hint for the reader is put in the scope.
    ("search_hints", search_hints.rewrite),
    # Reader pages kept per worker and replayed, 304 for a matching ETag.
    # Outside the gate: a stored query already kept is answered without
    # entering it; a miss is drawn through it like any other request.
    ("page_cache", page_cache.keep),
    # Expensive requests wait or are refused right before Datasette would
    # run them, so a slot is held only while one runs.
    ("admission", admission.gate),
    # Innermost: the queries of the requests the gate let through untouched
    # run on the event loop, each within a budget (past it, on the pool).
    ("sql_on_loop", sql_on_loop.on_loop),
)


def compose(datasette, app, layers=LAYERS):
    """app wrapped in every layer, the first of `layers` outermost."""
    for _name, layer in reversed(layers):
        app = layer(datasette)(app)
    return app


@hookimpl
def asgi_wrapper(datasette):
    # LAYERS is read when Datasette builds its app, not at import.
    return lambda app: compose(datasette, app, LAYERS)

"""Serve stage: the public data may be read from pages on other sites (CORS).

Whole-table downloads (/-/downloads/<file>), Datasette's JSON and CSV
(`.json`, `.csv`, `?_format=json|csv`) and the MCP endpoint answer with
`Access-Control-Allow-Origin: *`, expose the headers a range reader needs
(DuckDB-WASM reads a file by ranges and checks its ETag and length), and a
preflight OPTIONS is answered here with 204. The data is public and
read-only and the site has no logins, so nothing is ever allowed with
credentials: no `Access-Control-Allow-Credentials`, and a browser refuses a
credentialed read of an answer whose origin is `*`. HTML pages and the
downloads index get no CORS headers: they are for reading on this site.

Datasette's own `--cors` was not used: it puts `*` on its HTML pages too,
never on the plugin routes (downloads, /-/mcp), allows only the
Authorization header and answers OPTIONS with a 200 that names no methods,
so this layer would have had to replace its headers anyway. The MCP endpoint
is included: it runs the same read-only queries as the JSON API, under the
same admission limits, and keeps no session.

`share` is one layer of middleware.py's ASGI stack, not a hook of its own.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from .downloads import PREFIX as DOWNLOADS
from .mcp_server import PATH as MCP

READABLE_SUFFIXES = (".json", ".csv")
READABLE_FORMATS = {"json", "csv"}
# What a reader on another origin may see of an answer: the range and
# caching headers of a file, Datasette's next-page Link, a 429's wait.
EXPOSED = b"ETag, Content-Length, Content-Range, Accept-Ranges, Link, Retry-After, Mcp-Session-Id"
READ_METHODS = b"GET, HEAD, OPTIONS"
MCP_METHODS = b"POST, OPTIONS"  # its GET is a 405: no server stream
# Range and the conditional headers are what a range reader sends;
# Content-Type: application/json and the MCP headers are what an MCP client sends.
ALLOWED_HEADERS = b"Range, If-None-Match, If-Range, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID"
MAX_AGE = b"7200"  # Chromium keeps a preflight for two hours at most


def readable(scope) -> bool:
    """Whether the request is for the public data meant for other sites:
    a download file, a JSON or CSV answer, or the MCP endpoint."""
    path = scope.get("path", "")
    if path.startswith(DOWNLOADS):
        return path != DOWNLOADS  # the index is an HTML page
    if path == MCP or path.endswith(READABLE_SUFFIXES):
        return True
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return any(value in READABLE_FORMATS for value in query.get("_format", ()))


def share(datasette):
    """The ASGI layer: CORS headers on the readable answers, preflight answered."""

    def wrap(app):
        async def shared(scope, receive, send):
            if scope["type"] != "http" or not readable(scope):
                return await app(scope, receive, send)
            if scope.get("method") == "OPTIONS":
                return await preflight(scope, send)
            await app(scope, receive, with_cors_headers(send))

        return shared

    return wrap


async def preflight(scope, send) -> None:
    methods = MCP_METHODS if scope.get("path") == MCP else READ_METHODS
    headers = [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-methods", methods),
        (b"access-control-allow-headers", ALLOWED_HEADERS),
        (b"access-control-max-age", MAX_AGE),
        (b"allow", methods),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def with_cors_headers(send):
    async def sender(message):
        if message["type"] == "http.response.start":
            # Whatever a layer below set (Datasette's own CORS, were it on)
            # is replaced, so credentials are never allowed.
            headers = [(k, v) for k, v in message.get("headers", []) if not k.lower().startswith(b"access-control-")]
            headers += [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", EXPOSED)]
            message = {**message, "headers": headers}
        await send(message)

    return sender

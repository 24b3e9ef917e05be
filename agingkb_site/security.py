"""Serve stage: safe serving.

- A length limit on every SQLite connection, and no ATTACH whatever the SQL.
- Security headers on every response (the Content-Security-Policy allows
  the site's own files and the inline scripts Datasette's pages carry).
- No redirect that leaves the site: a path that a browser would read as
  another host is a 404.

The robots policy is datasette-block-robots, configured in data/site.yml.
`guard` is one layer of middleware.py's ASGI stack, not a hook of its own.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl
from datasette.utils.asgi import Response

# Longest string or blob any SQL may build: a query such as
# length(hex(zeroblob(2e8))) fails at once instead of allocating gigabytes.
MAX_SQLITE_LENGTH = 5_000_000
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
_REPLACED = {name for name, _ in SECURITY_HEADERS}
# '/\example.com/' and '//example.com' would be redirected to a path
# browsers read as another host.
OFF_SITE_PATHS = ("//", "/\\")
OFF_SITE_RAW_PATHS = (b"//", b"/\\", b"/%5C", b"/%5c", b"/%2F", b"/%2f")


@hookimpl
def prepare_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_SQLITE_LENGTH)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)  # no ATTACH, whatever the SQL


def guard(datasette):
    """The ASGI layer: security headers on every answer, a 404 for an
    off-site path."""

    def wrap(app):
        async def guarded(scope, receive, send):
            if scope["type"] == "http":
                path = scope.get("path", "")
                raw = scope.get("raw_path", b"") or b""
                if path.startswith(OFF_SITE_PATHS) or raw.startswith(OFF_SITE_RAW_PATHS):
                    await Response.text("Not found", status=404).asgi_send(with_security_headers(send))
                    return
            await app(scope, receive, with_security_headers(send))

        return guarded

    return wrap


def with_security_headers(send):
    async def sender(message):
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED]
            message = {**message, "headers": headers + SECURITY_HEADERS}
        await send(message)

    return sender

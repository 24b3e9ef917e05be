"""Serve stage: safe serving.

- A length limit on every SQLite connection, and no ATTACH whatever the SQL.
- Arbitrary SQL that does not arrive through Datasette's own SQL page (the
  MCP endpoint's execute_sql) is checked by `read_only_refusal`: Datasette's
  rule for ?sql= (one SELECT or WITH, no PRAGMA statement), then by name what
  an assistant may be talked into trying. The database is immutable and
  opened read-only, so SQLite would refuse a write in any case; the check
  answers with a sentence instead of an SQLite message.
- Security headers on every response (the Content-Security-Policy allows
  the site's own files and the inline scripts Datasette's pages carry).
- No redirect that leaves the site: a path that a browser would read as
  another host is a 404.

The robots policy is datasette-block-robots, configured in data/site.yml
(sitemap.py adds its Sitemap line).
`guard` is one layer of middleware.py's ASGI stack, not a hook of its own.
"""

from __future__ import annotations

import re
import sqlite3

from datasette import hookimpl
from datasette.utils import InvalidSql, validate_sql_select
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


# Comments, quoted strings and quoted names are blanked before the words
# below are looked for, so a search for the word 'drop' is no DROP.
SQL_QUOTED = re.compile(r"--[^\n]*|/\*.*?(?:\*/|$)|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\[[^\]]*\]|`[^`]*`", re.S)
SQL_REFUSED = (
    (re.compile(r"\b(?:attach|detach)\b", re.I), "ATTACH and DETACH are not allowed: this dataset is one database"),
    (re.compile(r"\bload_extension\s*\(", re.I), "load_extension() is not allowed"),
    (re.compile(r"\bpragma\b", re.I), "PRAGMA statements are not allowed"),
    (
        re.compile(
            r"\b(?:insert|update|delete|replace\s+into|create|drop|alter|vacuum|reindex|analyze|begin|commit|"
            r"rollback|savepoint|release)\b(?!\s*\()",
            re.I,
        ),
        "the dataset is read-only: only SELECT (or WITH ... SELECT) queries run",
    ),
)


def read_only_refusal(sql: str) -> str | None:
    """Why `sql` may not run, in a sentence; None when it is one read-only query."""
    if not sql.strip():
        return "no SQL was given"
    bare = SQL_QUOTED.sub(" ", sql)
    if bare.strip().rstrip(";").count(";"):
        return "one statement at a time: the SQL holds more than one"
    for pattern, reason in SQL_REFUSED:
        if pattern.search(bare):
            return reason
    try:
        validate_sql_select(sql)
    except InvalidSql as invalid:
        return str(invalid)
    return None


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

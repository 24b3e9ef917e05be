"""Serve stage: the database page is drawn once per worker.

Datasette's database page inspects every table on every request (about 400
SQL round trips to its thread pool and 700 permission checks: 90 ms). The
database is immutable and the page depends only on it, the metadata and the
request's host (its Link header names the host), so a worker keeps the first
answer per host and replays it. Only the bare page is kept: a request with a
query string (`?sql=`), a cookie or credentials, or an answer that is not a
plain 200 without cookies, passes through untouched. (The footer's "Queries
took" shows the time of the worker's first drawing.)

`keep` is one layer of middleware.py's ASGI stack, not a hook of its own.
"""

from __future__ import annotations

from collections import OrderedDict

from .names import DATABASE

CACHED_PATHS = frozenset({f"/{DATABASE}"})
HOSTS_KEPT = 8  # a flood of made-up Host headers cannot grow the cache


def cacheable_request(scope) -> bool:
    if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("path") not in CACHED_PATHS:
        return False
    if scope.get("query_string"):
        return False
    return not any(name.lower() in (b"cookie", b"authorization") for name, _ in scope.get("headers", []))


def cache_key(scope) -> tuple:
    host = next((value for name, value in scope.get("headers", []) if name.lower() == b"host"), b"")
    return scope.get("scheme", "http"), host, scope["path"]


def keep(datasette):
    """The ASGI layer: the database page kept per host and replayed."""

    def wrap(app):
        kept: OrderedDict[tuple, list[dict]] = OrderedDict()

        async def cached(scope, receive, send):
            if not cacheable_request(scope):
                return await app(scope, receive, send)
            key = cache_key(scope)
            if key in kept:
                for message in kept[key]:
                    await send(message)
                return
            messages: list[dict] = []

            async def recording(message):
                messages.append(message)
                await send(message)

            await app(scope, receive, recording)
            start = messages[0] if messages else {}
            headers = {name.lower() for name, _ in start.get("headers", [])}
            if start.get("status") == 200 and b"set-cookie" not in headers:
                kept[key] = messages
                while len(kept) > HOSTS_KEPT:
                    kept.popitem(last=False)

        return cached

    return wrap

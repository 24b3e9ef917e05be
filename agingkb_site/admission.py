"""Serve stage: admission control, so that heavy requests cannot take the
site away from readers.

Arbitrary SQL (`?sql=`), stored queries and streamed exports (`_stream=`)
are *expensive*: each may hold one of a worker's SQL threads for the whole
time limit. Per worker process they get a bounded share:

- at most `expensive_in_flight` run at once, and at most `expensive_queue`
  wait, each for at most `queue_wait_seconds`; past that the answer is an
  immediate 429 with Retry-After and a page that says why;
- one client may have `client_in_flight` of them running at once and
  `client_rate` per window (a moving window, from the `limits` library).

A stored query's answer that page_cache.py (the layer outside this one)
already keeps is replayed there and never reaches the gate: it costs nothing.
Everything else (table, row, facet and search pages) never waits here, and
the worker's other SQL threads stay free for it. Datasette's time limit is
counted from when a query starts, not from when the request arrived: without
this gate, requests queued behind heavy queries in the thread pool answered
15-30 s after a 3 s limit.

The client is the connecting address. Only when the server is told it runs
behind a proxy (`proxy_client_header`, e.g. Fly's `Fly-Client-IP`) is that
header believed; otherwise anyone could reset their own limit by setting it.
The limits are declared once in agingkb_site/serve.py and arrive in
AGINGKB_LIMITS; without it (plain `datasette serve`) there is no gate.
`gate` is one layer of middleware.py's ASGI stack, not a hook of its own.
The MCP endpoint (mcp_server.py) runs SQL inside one HTTP request that the
layer cannot read, so each of its SQL tool calls enters the same per-worker
`Admission` (`shared_admission`) as a web query does.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import time
from urllib.parse import parse_qs

from limits import parse as parse_rate
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from .names import DATABASE

DATABASE_PATH = re.compile(rf"^/{DATABASE}(?:\.(?:json|csv))?$")
QUERY_PATH = re.compile(rf"^/{DATABASE}/([^/]+?)(?:\.(?:json|csv))?$")


def expensive_kind(path: str, query_string: str, stored_queries: frozenset[str]) -> str | None:
    """'sql', 'stored-query', 'export' or None (a reader's page)."""
    arguments = parse_qs(query_string, keep_blank_values=True)
    if DATABASE_PATH.match(path) and arguments.get("sql", [""])[0].strip():
        return "sql"
    if arguments.get("_stream", [""])[0] not in ("", "0", "off"):
        return "export"
    found = QUERY_PATH.match(path)
    if found and found.group(1) in stored_queries:
        return "stored-query"
    return None


def client_of(scope, proxy_header: bytes | None) -> str:
    if proxy_header:
        for name, value in scope.get("headers", []):
            if name.lower() == proxy_header:
                return value.decode("latin-1").split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else "unknown"


class Refused(Exception):
    def __init__(self, retry_after: int, reason: str):
        self.retry_after, self.reason = retry_after, reason


class Admission:
    """The per-process gate. Every method runs on the event loop thread."""

    def __init__(self, limits: dict):
        self.proxy_header = (limits.get("proxy_client_header") or "").lower().encode() or None
        self.in_flight_limit = int(limits["expensive_in_flight"])
        self.queue_limit = int(limits["expensive_queue"])
        self.queue_wait = float(limits["queue_wait_seconds"])
        self.client_in_flight_limit = int(limits["client_in_flight"])
        self.client_rate = parse_rate(limits["client_rate"])
        self.retry_after = int(limits["retry_after_seconds"])
        self.rates = MovingWindowRateLimiter(MemoryStorage())
        self.running = 0
        self.waiting = 0
        self.by_client: dict[str, int] = {}
        self._slot_freed: asyncio.Condition | None = None

    def client(self, scope) -> str:
        return client_of(scope, self.proxy_header)

    async def enter(self, client: str) -> None:
        if self.by_client.get(client, 0) >= self.client_in_flight_limit:
            raise Refused(
                self.retry_after,
                f"you already have {self.client_in_flight_limit} such request(s) running; wait for the answer",
            )
        if not self.rates.hit(self.client_rate, client):
            reset = self.rates.get_window_stats(self.client_rate, client).reset_time
            raise Refused(
                max(1, math.ceil(reset - time.time())), f"you have sent more than {self.client_rate} of these requests"
            )
        if self.running >= self.in_flight_limit:
            if self.waiting >= self.queue_limit:
                raise Refused(self.retry_after, "the server is busy with other queries and downloads")
            await self._wait_for_slot()
        self.running += 1
        self.by_client[client] = self.by_client.get(client, 0) + 1

    async def _wait_for_slot(self) -> None:
        if self._slot_freed is None:
            self._slot_freed = asyncio.Condition()
        self.waiting += 1
        try:
            async with self._slot_freed:
                await asyncio.wait_for(
                    self._slot_freed.wait_for(lambda: self.running < self.in_flight_limit), self.queue_wait
                )
        except TimeoutError:
            raise Refused(self.retry_after, "the server is busy with other queries and downloads") from None
        finally:
            self.waiting -= 1

    async def leave(self, client: str) -> None:
        self.running -= 1
        left = self.by_client.get(client, 1) - 1
        if left:
            self.by_client[client] = left
        else:
            self.by_client.pop(client, None)
        if self._slot_freed is not None:
            async with self._slot_freed:
                self._slot_freed.notify()


REFUSED_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Busy: try again shortly</title></head>
<body><main><h1>Busy: try again in {retry_after} seconds</h1>
<p>This request was not run: {reason}. SQL queries, stored queries and streamed downloads
share a small part of the server so that everyone else's pages stay fast.</p>
<p>Whole tables download as files, which are never refused: see each table's page.
Reading tables, rows, facets and searches is not limited.</p>
<p><a href="/">The home page</a></p></main></body></html>
"""


async def refuse(send, path: str, refusal: Refused) -> None:
    if path.endswith(".json"):
        body = json.dumps(
            {"ok": False, "error": f"Busy: {refusal.reason}. Try again in {refusal.retry_after} s.", "status": 429}
        ).encode()
        content_type = b"application/json; charset=utf-8"
    else:
        body = REFUSED_PAGE.format(retry_after=refusal.retry_after, reason=refusal.reason).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", content_type),
                (b"retry-after", str(refusal.retry_after).encode()),
                (b"cache-control", b"no-store"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def shared_admission(datasette) -> Admission | None:
    """The worker's one gate, for the web layer and the MCP tools alike; None
    when no limits are declared (plain `datasette serve`)."""
    if not hasattr(datasette, "_agingkb_admission"):
        declared = os.environ.get("AGINGKB_LIMITS")
        datasette._agingkb_admission = Admission(json.loads(declared)) if declared else None
    return datasette._agingkb_admission


def stored_query_names(datasette) -> frozenset[str]:
    """The database's stored queries, read from the metadata on first use
    (it is complete once Datasette has started)."""
    names = getattr(datasette, "_agingkb_stored_queries", None)
    if names is None:
        names = frozenset((datasette.metadata("queries", database=DATABASE) or {}).keys())
        datasette._agingkb_stored_queries = names
    return names


def gate(datasette):
    """The ASGI layer: expensive requests admitted or refused with 429."""
    admission = shared_admission(datasette)
    if admission is None:
        return lambda app: app

    def wrap(app):
        async def admitted(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            path = scope.get("path", "")
            query_string = scope.get("query_string", b"").decode("latin-1")
            if expensive_kind(path, query_string, stored_query_names(datasette)) is None:
                return await app(scope, receive, send)
            client = admission.client(scope)
            try:
                await admission.enter(client)
            except Refused as refusal:
                return await refuse(send, path, refusal)
            try:
                await app(scope, receive, send)
            finally:
                await admission.leave(client)

        return admitted

    return wrap

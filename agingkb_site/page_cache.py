"""Serve stage: rendered pages kept per worker, validated with ETags.

The database is immutable and the site has no logins, so a reader's page is
a pure function of its request: scheme, Host (Datasette's Link headers and
JSON next-page URLs name the host), path and query string, and the hint
search_hints.py put in the scope. Each worker keeps the answers it drew in a
least-recently-used cache bounded by bytes (AGINGKB_PAGE_CACHE_MB, 64 by
default, 0 turns it off), and replays them byte for byte. Bodies are kept
deflated at zlib's fastest level: on the shared wiki a row, facet or search
page shrank 3-6x for under 1 ms per drawing and 0.05-0.4 ms per replay, and
the bound holds that many more pages. The layers above (security, CORS) add
their headers to a replay as to a drawing.

Kept: a GET or HEAD of a table, row, facet, search or stored-query page,
its JSON or CSV, the home page and the site's reader pages under /-/ (a
HEAD is answered from a kept GET, never kept itself). Passed through and
never kept:
- a request with a cookie or credentials (it may be someone's own page),
- arbitrary SQL (`sql=`, `_where=`: `random()` is SQL too), streamed
  exports (`_stream=`), traces (`_trace=`: timings), and everything else
  under /-/ (versions, threads, the MCP endpoint, the downloads, which are
  files with ETags of their own);
- an answer that is not a 200, sets a cookie, varies on a header other
  than Cookie/Authorization, or was drawn while one of its queries hit the
  time limit (a facet or count that timed out is a page of that moment, not
  of the URL), or is larger than an eighth of the bound.
A flood of made-up URLs is drawn, gated and kept like any other page, and
evicts the least recently used ones; the bound counts every kept byte.

Kept answers carry a weak ETag (a keyed hash of the database's SHA-256, the
site's code and the request's key: the same on every worker and stable
across evictions, new with each deploy; weak because the footer's "Queries
took" differs between workers' drawings) and `Cache-Control: public,
max-age=300, stale-while-revalidate=3600` in place of Datasette's
`max-age=300`: a CDN or browser may reuse a page for five minutes, then
serve it once more while it revalidates, which costs a 304. A request whose
If-None-Match names that ETag is answered 304 here, drawn or not.

This layer sits outside admission.py's gate (middleware.py), so a stored
query already kept is replayed without entering the gate; a miss still
passes it. `keep` is one layer of middleware.py's ASGI stack.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import os
import zlib
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qsl

from datasette.database import QueryInterrupted

from .names import DATABASE
from .search_hints import SCOPE_KEY

BOUND_VARIABLE = "AGINGKB_PAGE_CACHE_MB"
DEFAULT_BOUND_MB = 64
ENTRY_SHARE = 8  # one answer may take at most this part of the bound
# What CPython spends on the objects holding a kept answer beyond their bytes
# (sys.getsizeof on 64-bit 3.11, rounded up; tests/test_page_cache_bound.py
# checks the sum against the objects themselves).
BYTES_OBJECT, PAIR, ENTRY_OVERHEAD = 40, 64, 800
READER_PATHS = frozenset({"/-/search", "/-/forest-plot", "/-/charts", "/-/what-changed"})
NEVER_KEPT_ARGUMENTS = frozenset({"sql", "_where", "_stream", "_trace"})
PRIVATE_HEADERS = frozenset({b"cookie", b"authorization"})
CACHE_CONTROL = b"public, max-age=300, stale-while-revalidate=3600"
# Datasette names Cookie and Authorization in every answer's Vary; neither
# ever reaches a kept answer, so only other names stop it being kept.
HARMLESS_VARY = frozenset({b"cookie", b"authorization"})
SITE_CODE = Path(__file__).resolve().parent

# Set per request by the layer; Database.execute marks it when a query hits
# the time limit (the flag is a list, shared with the tasks a view starts).
_interrupted: contextvars.ContextVar[list | None] = contextvars.ContextVar("agingkb_interrupted", default=None)


def header(scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope.get("headers", []) if key.lower() == name), None)


def cacheable_request(scope) -> bool:
    if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    path = scope.get("path", "")
    if path.startswith("/-/") and path not in READER_PATHS:
        return False
    if any(key.lower() in PRIVATE_HEADERS for key, _ in scope.get("headers", [])):
        return False
    arguments = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return not any(name in NEVER_KEPT_ARGUMENTS for name, _ in arguments)


def cache_key(scope) -> tuple:
    return (
        scope.get("scheme", "http"),
        header(scope, b"host") or b"",
        scope.get("raw_path") or scope.get("path", "").encode("utf-8"),
        scope.get("query_string", b""),
        scope.get(SCOPE_KEY) or "",
    )


def keepable_start(message: dict) -> bool:
    """Whether an answer may be kept, from its status and headers."""
    if message.get("status") != 200:
        return False
    for name, value in message.get("headers", []):
        name = name.lower()
        if name == b"set-cookie":
            return False
        if name == b"vary" and any(part.strip().lower() not in HARMLESS_VARY for part in value.split(b",")):
            return False
    return True


def site_identity(datasette) -> bytes:
    """What every kept page is drawn from: the database's SHA-256, the
    metadata, and the site's code and templates; a new deploy changes it."""
    digest = hashlib.sha256()
    if datasette is not None:
        database = datasette.databases.get(DATABASE)
        digest.update(str(database.hash if database is not None else None).encode())
        digest.update(repr(datasette.metadata()).encode())
    for path in sorted(SITE_CODE.rglob("*")):
        if path.suffix in (".py", ".html", ".css", ".js") and path.is_file():
            digest.update(path.relative_to(SITE_CODE).as_posix().encode() + path.read_bytes())
    return digest.digest()


def bound_bytes() -> int:
    return int(float(os.environ.get(BOUND_VARIABLE, DEFAULT_BOUND_MB)) * 1024 * 1024)


class PageCache:
    """Answers by key, least recently used first out, bounded by bytes."""

    def __init__(self, bound: int, secret: bytes = b""):
        self.bound = bound
        self.entry_limit = bound // ENTRY_SHARE
        self.secret = secret
        self.entries: OrderedDict[tuple, tuple[dict, bytes, int]] = OrderedDict()
        self.bytes = 0
        self.hits = self.misses = 0
        self.drawing: dict[tuple, asyncio.Event] = {}  # keys being drawn now, set when done

    def etag(self, key: tuple) -> bytes:
        signed = hmac.new(self.secret, repr(key).encode("utf-8", "backslashreplace"), hashlib.sha256)
        return b'W/"' + signed.hexdigest()[:32].encode() + b'"'

    def get(self, key: tuple):
        found = self.entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self.entries.move_to_end(key)
        return found

    def put(self, key: tuple, start: dict, body: bytes) -> bool:
        body = zlib.compress(body, 1)
        size = entry_size(key, start, body)
        if size > self.entry_limit:
            return False
        if key in self.entries:
            self.bytes -= self.entries.pop(key)[2]
        self.entries[key] = (start, body, size)
        self.bytes += size
        while self.bytes > self.bound:
            self.bytes -= self.entries.popitem(last=False)[1][2]
        return True


def entry_size(key: tuple, start: dict, body: bytes) -> int:
    """Bytes a kept answer holds: body, headers and key, with their objects."""
    headers = sum(len(k) + len(v) + 2 * BYTES_OBJECT + PAIR for k, v in start["headers"])
    return len(body) + BYTES_OBJECT + headers + sum(len(part) + BYTES_OBJECT for part in key) + ENTRY_OVERHEAD


def with_validators(message: dict, etag: bytes) -> dict:
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in (b"etag", b"cache-control")]
    return {**message, "headers": headers + [(b"etag", etag), (b"cache-control", CACHE_CONTROL)]}


def not_modified(scope, etag: bytes) -> bool:
    wanted = header(scope, b"if-none-match")
    if not wanted:
        return False
    tags = {tag.strip() for tag in wanted.split(b",")}
    # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
    return b"*" in tags or etag in tags or etag[2:] in tags


async def send_not_modified(send, etag: bytes) -> None:
    headers = [(b"etag", etag), (b"cache-control", CACHE_CONTROL), (b"vary", b"Cookie, Authorization")]
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def replay(send, entry, head: bool) -> None:
    start, body, _ = entry
    await send(start)
    await send({"type": "http.response.body", "body": b"" if head else zlib.decompress(body)})


def watch_interruptions(datasette) -> None:
    """Mark the request's flag when one of its queries hits the time limit."""
    database = datasette.databases.get(DATABASE) if datasette is not None else None
    if database is None or getattr(database, "_agingkb_watched", False):
        return
    execute = database.execute

    async def watched(*args, **kwargs):
        try:
            return await execute(*args, **kwargs)
        except QueryInterrupted:
            flag = _interrupted.get()
            if flag is not None:
                flag.append(True)
            raise

    database.execute = watched
    database._agingkb_watched = True


def keep(datasette):
    """The ASGI layer: reader pages kept per worker, 304 for a matching ETag."""
    bound = bound_bytes()
    if bound <= 0:
        return lambda app: app
    # Datasette builds its app twice (once for its internal client): one
    # cache per worker, whichever app a request enters.
    cache = getattr(datasette, "_agingkb_page_cache", None)
    if cache is None:
        secret = getattr(datasette, "_secret", "") if datasette is not None else ""
        cache = PageCache(bound, hmac.new(secret.encode(), site_identity(datasette), hashlib.sha256).digest())
        if datasette is not None:
            datasette._agingkb_page_cache = cache
    watch_interruptions(datasette)

    def wrap(app):
        async def cached(scope, receive, send):
            if not cacheable_request(scope):
                return await app(scope, receive, send)
            key = cache_key(scope)
            etag = cache.etag(key)
            head = scope.get("method") == "HEAD"
            if not_modified(scope, etag):
                # Only a kept-kind answer of this very key, on this deploy,
                # was ever sent this ETag (it is signed with the site's secret).
                return await send_not_modified(send, etag)
            entry = cache.get(key)
            if entry is None and key in cache.drawing:
                # The same page is being drawn for another reader: wait for it
                # rather than draw it again (the head of the traffic, cold).
                await cache.drawing[key].wait()
                entry = cache.get(key)
            if entry is not None:
                return await replay(send, entry, head)
            if head or key in cache.drawing:
                return await draw(app, scope, receive, send, cache, key, etag, head)
            cache.drawing[key] = asyncio.Event()
            try:
                await draw(app, scope, receive, send, cache, key, etag, head)
            finally:
                cache.drawing.pop(key).set()

        return cached

    return wrap


async def draw(app, scope, receive, send, cache: PageCache, key: tuple, etag: bytes, head: bool) -> None:
    """Draw the page below, send it on, and keep it when it may be kept."""
    flag: list = []
    token = _interrupted.set(flag)
    drawn: dict = {"start": None, "chunks": [], "size": 0, "keep": False}

    async def recording(message):
        if message["type"] == "http.response.start":
            drawn["keep"] = keepable_start(message) and not flag
            if drawn["keep"]:
                message = with_validators(message, etag)
            drawn["start"] = message
        elif message["type"] == "http.response.body" and drawn["keep"]:
            drawn["size"] += len(message.get("body", b""))
            if drawn["size"] > cache.entry_limit:
                drawn["keep"], drawn["chunks"] = False, []  # a huge answer is passed on, not held
            else:
                drawn["chunks"].append(message.get("body", b""))
        await send(message)

    try:
        await app(scope, receive, recording)
    finally:
        _interrupted.reset(token)
    if drawn["keep"] and not flag and not head:
        cache.put(key, drawn["start"], b"".join(drawn["chunks"]))

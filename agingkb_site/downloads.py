"""Serve stage: whole-table downloads as static files.

/-/downloads/<table>.csv, <table>.parquet, <table>.ndjson, /-/downloads/datapackage.json,
/-/downloads/datapackage.zip and /-/downloads/agingkb.db are the build's own
validated files (listed with size, rows and SHA-256 at /-/downloads/,
but for the files of the history tables the site hides as empty),
read from disk in chunks: no SQL thread, no CSV rendering.
Only the names declared here are served (the package's resources, its
descriptor, each table's NDJSON file beside its CSV, the zip and the
database), so no request names any other file.

Where the files are: the plugin setting `package_dir` (metadata.yml, from
the AGINGKB_PACKAGE_DIR environment variable), else `package/` beside the
database, as a build lays it out; the zip is looked for beside the package
directory (build/datapackage.zip, dist/<version>/datapackage.zip). A file
that is absent is not declared.

Every file is opened and hashed once at startup: the ETag is its SHA-256,
and the open descriptor keeps the bytes the ETag names even if a later
build replaces the files under a running server.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from pathlib import Path
from typing import NamedTuple

from datasette import hookimpl
from datasette.utils.asgi import Response

from .history import history_state
from .names import DATABASE

PLUGIN = "downloads"
PREFIX = "/-/downloads/"
CHUNK = 256 * 1024
ZIP_NAME = "datapackage.zip"  # as etl/output/archive.py names it; the site does not import the ETL
CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".ndjson": "application/x-ndjson; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".zip": "application/zip",
    ".db": "application/vnd.sqlite3",
}
SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


# A NamedTuple: one immutable record per file, as cheap as a tuple.
class Download(NamedTuple):
    name: str
    descriptor: int  # an open file, read with os.pread
    size: int
    etag: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[Path(self.name).suffix]


def declared_files(database_path: Path, package_dir: Path | None) -> dict[str, Path]:
    """Download name -> file: the package's resources and descriptor, each
    table's NDJSON file (written beside its CSV, not a resource: see
    etl/output/parquet.py), the zip beside the package directory and the
    database; absent files left out."""
    package_dir = package_dir or database_path.parent / "package"
    files: dict[str, Path] = {}
    descriptor = package_dir / "datapackage.json"
    if descriptor.is_file():
        for resource in json.loads(descriptor.read_text(encoding="utf-8")).get("resources", []):
            # A resource path with a directory part is not one of ours to serve.
            if "/" not in resource["path"] and "\\" not in resource["path"]:
                files[resource["path"]] = package_dir / resource["path"]
                if resource["path"].endswith(".csv"):
                    ndjson = resource["path"].removesuffix(".csv") + ".ndjson"
                    files[ndjson] = package_dir / ndjson
        files["datapackage.json"] = descriptor
    files[ZIP_NAME] = package_dir.parent / ZIP_NAME
    files[database_path.name] = database_path
    return {name: path for name, path in files.items() if path.is_file()}


def open_download(name: str, path: Path) -> Download:
    descriptor = os.open(path, os.O_RDONLY)
    digest = hashlib.sha256()
    size, offset = os.fstat(descriptor).st_size, 0
    while offset < size:
        chunk = os.pread(descriptor, 1 << 20, offset)
        if not chunk:
            break
        digest.update(chunk)
        offset += len(chunk)
    return Download(name, descriptor, size, f'"{digest.hexdigest()}"')


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """The one range a `Range` header asks for, as (first, last) inclusive;
    None to send the whole file (no header, several ranges or a syntax this
    server ignores, as RFC 9110 allows); "unsatisfiable" for 416."""
    if not header:
        return None
    match = SINGLE_RANGE.fullmatch(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # a suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    first = int(first)
    last = size - 1 if last == "" else min(int(last), size - 1)
    if first >= size:
        return "unsatisfiable"
    if first > last:
        return None  # last before first: an invalid range, ignored
    return first, last


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/ is ignored."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def response_headers(download: Download, max_age: int) -> list[tuple[bytes, bytes]]:
    # The URLs are not versioned, so not immutable: a CDN keeps a file for
    # max_age and then revalidates it with the ETag (a 304, no body).
    return [
        (b"etag", download.etag.encode()),
        (b"cache-control", f"public, max-age={max_age}".encode()),
        (b"accept-ranges", b"bytes"),
        (b"content-type", download.content_type.encode()),
    ]


async def serve_download(download: Download, request, send, receive, max_age: int) -> None:
    headers = response_headers(download, max_age)
    if etag_matches(request.headers.get("if-none-match"), download.etag):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    wanted = byte_range(request.headers.get("range"), download.size)
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != download.etag:
        wanted = None  # the client holds another version: send it whole
    if wanted == "unsatisfiable":
        headers.append((b"content-range", f"bytes */{download.size}".encode()))
        await send({"type": "http.response.start", "status": 416, "headers": headers + [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        return
    status, (first, last) = (206, wanted) if wanted else (200, (0, download.size - 1))
    if status == 206:
        headers.append((b"content-range", f"bytes {first}-{last}/{download.size}".encode()))
    headers.append((b"content-length", str(last - first + 1).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if request.method == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    await stream(download, first, last + 1, send, receive)


async def stream(download: Download, start: int, end: int, send, receive) -> None:
    """The bytes [start, end) in chunks. Each chunk is read on the default
    executor (not Datasette's SQL threads) and held only while it is read;
    between chunks the download waits on the client, not on a thread. A
    client that goes away stops the reading."""
    gone = asyncio.Event()

    async def watch():
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.create_task(watch())
    try:
        offset = start
        while offset < end and not gone.is_set():
            chunk = await asyncio.to_thread(os.pread, download.descriptor, min(CHUNK, end - offset), offset)
            if not chunk:
                break  # the file is shorter than at startup; Content-Length will not be met
            offset += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": offset < end})
        if start == end:  # an empty file
            await send({"type": "http.response.body", "body": b""})
    finally:
        watcher.cancel()


def downloads(datasette) -> dict[str, Download]:
    return getattr(datasette, "_agingkb_downloads", {})


def listed_downloads(datasette) -> dict[str, Download]:
    """The files the index and the dataset's description list: every one
    served but those of the history tables the site hides as empty (a plain
    build's, history.py). Those are still served, as the descriptor names
    them, like any resource of the package."""
    hidden = history_state(datasette).empty
    return {name: download for name, download in downloads(datasette).items() if table_of(name) not in hidden}


@hookimpl
def startup(datasette):
    async def open_all():
        database = datasette.databases.get(DATABASE)
        if database is None or not database.path:
            datasette._agingkb_downloads = {}
            return
        configured = (datasette.plugin_config(PLUGIN) or {}).get("package_dir")
        files = declared_files(Path(database.path), Path(configured) if configured else None)
        opened = await asyncio.to_thread(lambda: {name: open_download(name, path) for name, path in files.items()})
        datasette._agingkb_downloads = opened

    return open_all


FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".ndjson": "NDJSON", ".json": "JSON", ".zip": "ZIP", ".db": "SQLite"}
TABLE_FILES = (".csv", ".parquet", ".ndjson")  # a table's whole-table files, in the order pages list them


def table_of(name: str) -> str | None:
    """The table a whole-table file holds (trials.parquet: trials)."""
    stem, suffix = os.path.splitext(name)
    return stem if suffix in TABLE_FILES else None


async def index_rows(datasette) -> list[dict]:
    """Every served file for the index page: size, rows (a table's CSV,
    Parquet or NDJSON file: the table's row count, taken once like the home
    page's), SHA-256 (the ETag, hashed at startup) and format, tables after
    the package files."""
    table_counts = await datasette.get_database(DATABASE).table_counts(limit=60 * 60 * 1000)
    rows = []
    for name, download in listed_downloads(datasette).items():
        table = table_of(name)
        rows.append(
            {
                "name": name,
                "url": PREFIX + name,
                "what": HOME_DOWNLOADS.get(name) or f"the {table} table",
                "table_url": datasette.urls.table(DATABASE, table) if table in table_counts else None,
                "format": FORMATS[Path(name).suffix],
                "bytes": download.size,
                "size": human_size(download.size),
                "rows": table_counts.get(table) if table else None,
                "sha256": download.etag.strip('"'),
            }
        )
    return sorted(rows, key=lambda row: (row["rows"] is not None, row["name"]))


async def index_view(request, datasette):
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    context = {"files": await index_rows(datasette)}
    return Response.html(await datasette.render_template("downloads.html", context, request=request))


@hookimpl
def register_routes():
    async def download_view(request, send, receive, datasette):
        if request.method not in ("GET", "HEAD"):
            return Response.text("Method not allowed", status=405, headers={"Allow": "GET, HEAD"})
        download = downloads(datasette).get(request.url_vars["name"])
        if download is None:
            return Response.text("Not found", status=404)
        await serve_download(download, request, send, receive, datasette.setting("default_cache_ttl"))

    # The index first; everything else under the prefix comes here, so any name that is not
    # declared (a dot segment, an encoded slash, a subdirectory) is this
    # plugin's plain 404.
    return [(r"^/-/downloads/$", index_view), (r"^/-/downloads/(?P<name>.*)$", download_view)]


def download_info(datasette, name: str, what: str = "") -> dict | None:
    """URL and human size of one download, for the templates."""
    download = downloads(datasette).get(name)
    if download is None:
        return None
    return {"name": name, "url": PREFIX + name, "size": human_size(download.size), "what": what}


HOME_DOWNLOADS = {
    ZIP_NAME: "the data package: datapackage.json and one CSV and one Parquet file per table",
    "datapackage.json": "the package descriptor alone: every table's schema, licence and sources",
    f"{DATABASE}.db": "the SQLite database this site serves",
}


def human_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} kB"


# Query parameters that page, sort or shape a table page but keep its rows
# the whole table; any other parameter (a column filter, _where, _search)
# makes the view a selection.
WHOLE_TABLE_PARAMETERS = {
    "_sort",
    "_sort_desc",
    "_size",
    "_next",
    "_facet",
    "_facet_array",
    "_facet_date",
    "_facet_size",
    "_col",
    "_nocol",
    "_labels",
    "_nolabels",
    "_nofacet",
    "_nocount",
    "_nosuggest",
    "_trace",
}


def is_whole_table(request) -> bool:
    return request is None or all(key in WHOLE_TABLE_PARAMETERS for key in request.args.keys())


async def table_downloads(datasette, table: str) -> dict | None:
    """A table page's whole-table files (CSV, Parquet, NDJSON) and its row
    count, beside Datasette's export links, which stop at one page of rows."""
    files = [info for info in (download_info(datasette, table + suffix) for suffix in TABLE_FILES) if info]
    if not files:
        return None
    counts = await datasette.get_database(DATABASE).table_counts(limit=60 * 60 * 1000)
    return {"files": files, "rows": counts.get(table)}


@hookimpl
def extra_template_vars(view_name, database, table, request, datasette):
    # A stored query's page is drawn as view "table" too, with no table.
    if view_name == "table" and table and database == DATABASE and is_whole_table(request):

        async def whole_table():
            return {"table_downloads": await table_downloads(datasette, table)}

        return whole_table
    if view_name == "index":
        listed = (download_info(datasette, name, what) for name, what in HOME_DOWNLOADS.items())
        return {"package_downloads": [info for info in listed if info]}
    return {}

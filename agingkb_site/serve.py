"""Serve stage: how Datasette serves the database, declared once for
`etl serve` (and so `make serve`), the tests, the benchmarks and `make
publish`. The site's plugins, templates and static files come with the
package (its `datasette` entry points), so no command names a plugins or
template directory."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METADATA = ROOT / "metadata.yml"

# Limits for a public site: a query or facet that runs long is cut off, a
# page never returns more than max_returned_rows rows. The SQLite length
# limit on every connection is set by agingkb_site/security.py.
SETTINGS = {
    "sql_time_limit_ms": 3000,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 1000,
    "suggest_facets": 0,  # a suggestion query per column on every table page: the main cost under load
    "default_page_size": 50,
    "num_sql_threads": 3,
    "allow_csv_stream": 1,
    # The database never changes under a running server, so responses may be
    # cached (by browsers and a CDN in front) for five minutes.
    "default_cache_ttl": 300,
}


# Admission control for expensive requests (arbitrary SQL, stored queries,
# streamed exports), per worker process; see agingkb_site/admission.py and the
# table in docs/deploy.md. Readers' table, row, facet and search pages are
# never gated.
LIMITS = {
    "expensive_in_flight": 1,  # of the worker's num_sql_threads; the rest stay free for readers
    "expensive_queue": 2,  # requests that may wait for that slot ...
    "queue_wait_seconds": 0.5,  # ... this long at most: then 429, so no answer waits past the time limit + 1 s
    "client_in_flight": 1,  # one client's expensive requests running at once
    "client_rate": "30/minute",  # one client's expensive requests per moving minute
    "retry_after_seconds": 5,
    "proxy_client_header": None,  # set only behind a proxy that sets it (the released app: Fly-Client-IP)
}


def setting_args() -> list[str]:
    args = []
    for name, value in SETTINGS.items():
        args += ["--setting", name, str(value)]
    return args


def serve_args(db: Path, host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    """`datasette serve` arguments for the immutable database."""
    return [
        "serve",
        "-i",
        str(db),
        "--metadata",
        str(METADATA),
        "-h",
        host,
        "-p",
        str(port),
        *setting_args(),
    ]


def datasette_executable() -> str:
    return str(Path(sys.executable).parent / "datasette")


def default_workers() -> int:
    """One worker process per core: the database is immutable, so workers
    share nothing but the file and the OS page cache."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def inspect_data(db: Path) -> dict:
    """What `datasette inspect` records for an immutable file (its hash,
    size and row counts), so that no worker counts rows on its first request."""
    from datasette.cli import inspect_

    # On its own thread: the caller may be running an event loop already
    # (a test driving the browser), and asyncio.run refuses to nest.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(inspect_([str(db)], None))).result()


def server_command(
    db: Path, host: str, port: int, workers: int, inspect_file: Path, limits: dict | None = None
) -> tuple[list[str], dict]:
    """The multi-process server: uvicorn workers, each running the site's
    ASGI app (agingkb_site/asgi.py), and the environment they read."""
    # --loop asyncio: agingkb_site/asgi.py spreads connections over the workers by
    # changing how asyncio's own event loop accepts them.
    command = [
        str(Path(sys.executable).parent / "uvicorn"),
        "--factory",
        "agingkb_site.asgi:create_app",
        "--http",
        "agingkb_site.asgi:PromptH11Protocol",
        "--loop",
        "asyncio",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "5",
    ]
    environment = {
        **os.environ,
        **app_environment(str(Path(db).resolve()), str(METADATA)),
        "AGINGKB_INSPECT": str(inspect_file),
        "AGINGKB_SECRET": os.environ.get("AGINGKB_SECRET") or secrets.token_hex(32),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    if limits is not None:  # tests and benchmarks try other limits
        environment["AGINGKB_LIMITS"] = json.dumps({**json.loads(environment["AGINGKB_LIMITS"]), **limits})
    return command, environment


def app_environment(db: str, metadata: str, proxy_client_header: str | None = None) -> dict[str, str]:
    """What agingkb_site/asgi.py and agingkb_site/admission.py read: the
    same files and settings as serve_args(), and the admission limits."""
    return {
        "AGINGKB_DB": db,
        "AGINGKB_METADATA": metadata,
        "AGINGKB_SETTINGS": json.dumps(SETTINGS),
        "AGINGKB_LIMITS": json.dumps({**LIMITS, "proxy_client_header": proxy_client_header}),
        # glibc gives every SQL thread its own malloc arena and keeps what it
        # freed: after a burst of heavy requests a worker stayed ~50% larger.
        # Two arenas per process bring it back to within 20% (make bench-abuse).
        "MALLOC_ARENA_MAX": "2",
    }


def write_inspect_file(db: Path, directory: Path) -> Path:
    path = Path(directory) / "inspect-data.json"
    path.write_text(json.dumps(inspect_data(Path(db).resolve()), indent=1))
    return path


class ServerURL(str):
    """A served site's base URL that also knows the server's process id."""

    pid: int


@contextmanager
def running_server(db: Path, log: Path, workers: int | None = None, plain: bool = False, limits: dict | None = None):
    """A real server of db on a free loopback port, as `etl serve` runs it
    (plain=True: Datasette's own single-process `datasette serve` with the
    same settings, the baseline the benchmarks compare against). Its log
    goes to a file: a pipe nobody reads would fill up and stall it."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="agingkb-serve-") as scratch:
        if plain:
            command, environment = [datasette_executable(), *serve_args(db, "127.0.0.1", port)], None
        else:
            command, environment = server_command(
                db, "127.0.0.1", port, workers or default_workers(), write_inspect_file(db, Path(scratch)), limits
            )
        with open(log, "wb") as handle:
            process = subprocess.Popen(
                command, stdout=handle, stderr=subprocess.STDOUT, env=environment, start_new_session=True
            )
        url = ServerURL(f"http://127.0.0.1:{port}")
        url.pid = process.pid
        try:
            started = wait_until_serving(url) and (
                plain or every_worker_started(Path(log), workers or default_workers())
            )
            if not started:
                raise RuntimeError("the server did not start: " + Path(log).read_text(errors="replace")[-3000:])
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def every_worker_started(log: Path, workers: int, timeout: float = 60.0) -> bool:
    """Wait until every uvicorn worker has logged its startup: the first
    answer comes from whichever worker was ready first, and a worker still
    starting takes no connections (measurements would see one core)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count("Application startup complete.") >= workers:
            return True
        time.sleep(0.1)
    return False


def wait_until_serving(url: str, timeout: float = 60.0) -> bool:
    """Poll url/-/versions.json until the server answers; False on timeout."""
    import httpx  # a test dependency: the released app never imports this module

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/-/versions.json", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.3)
    return False

"""Serve stage: how Datasette serves the database, declared once for
`etl serve` (and so `make serve`), the tests and `make publish`."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PLUGINS_DIR = ROOT / "plugins"
TEMPLATES_DIR = ROOT / "templates"
METADATA = ROOT / "metadata.yml"

# Limits for a public site: a query or facet that runs long is cut off, a
# page never returns more than max_returned_rows rows. The SQLite length
# limit on every connection is set by plugins/agingkb_site.py.
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


def setting_args() -> list[str]:
    args = []
    for name, value in SETTINGS.items():
        args += ["--setting", name, str(value)]
    return args


def serve_args(db: Path, host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    """`datasette serve` arguments for the immutable database."""
    return [
        "serve", "-i", str(db), "--metadata", str(METADATA), "--plugins-dir", str(PLUGINS_DIR), "--template-dir", str(TEMPLATES_DIR),
        "-h", host, "-p", str(port), *setting_args(),
    ]


def datasette_executable() -> str:
    return str(Path(sys.executable).parent / "datasette")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, timeout: float = 60.0) -> bool:
    """Poll url/-/versions.json until the server answers; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/-/versions.json", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.3)
    return False

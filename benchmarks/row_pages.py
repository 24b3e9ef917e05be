"""Time the entity row pages of a served build: a page, the most linked-to
page, the largest page, a work, a trial and the most used gap tag, each
requested one after another. Printed per row page: the first request (a
body is rendered then), the median and fastest of the next ones, and the
server's CPU time per request (from /proc, so a loaded machine inflates it
less than wall time).

    python -m benchmarks.row_pages --db build/agingkb.db --requests 30

Only 127.0.0.1 is requested; the server is started here and stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from datasette.utils import tilde_encode

from etl.serve import datasette_executable, free_port, serve_args, wait_until_serving


def row_path(table: str, key: str) -> str:
    return f"/agingkb/{table}/{quote(tilde_encode(key), safe='~')}"


def example_rows(db: Path) -> dict[str, str]:
    """An example of each entity, chosen by the data: the heaviest cases."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def first(sql: str) -> str:
        return connection.execute(sql).fetchone()[0]

    examples = {
        "page": row_path("pages", first("select page from pages order by footnote_count desc, page limit 1")),
        "most linked-to page": row_path("pages", first("select target_page from links where target_page is not null group by target_page order by count(distinct page) desc limit 1")),
        "largest page": row_path("pages", first("select page from pages order by length(body) desc limit 1")),
        "work": row_path("works", first("select work from works order by cited_by_footnotes desc, work limit 1")),
        "trial": row_path("trials", first("select trial from trials order by mention_count + outcome_count desc, trial limit 1")),
        "gap tag": row_path("gap_tags", first("select tag from gaps group by tag order by count(*) desc limit 1")),
    }
    connection.close()
    return examples


def server_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, pid: int, path: str, requests: int) -> dict:
    with httpx.Client(timeout=60) as client:
        started = time.perf_counter()
        assert client.get(url + path).status_code == 200, path
        first = time.perf_counter() - started
        cpu_before, times = server_cpu_seconds(pid), []
        for _ in range(requests):
            started = time.perf_counter()
            assert client.get(url + path).status_code == 200, path
            times.append(time.perf_counter() - started)
        cpu = (server_cpu_seconds(pid) - cpu_before) / requests
    return {"first": first * 1000, "median": statistics.median(times) * 1000, "fastest": min(times) * 1000, "cpu": cpu * 1000}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("build/agingkb.db"))
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([datasette_executable(), *serve_args(args.db, "127.0.0.1", port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_until_serving(url):
            raise SystemExit("datasette did not start")
        print(f"{'row page':<22} {'first':>8} {'median':>8} {'fastest':>8} {'server CPU':>11}  path")
        for name, path in example_rows(args.db).items():
            figures = measure(url, server.pid, path, args.requests)
            print(f"{name:<22} {figures['first']:>6.1f}ms {figures['median']:>6.1f}ms {figures['fastest']:>6.1f}ms {figures['cpu']:>9.1f}ms  {path}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()

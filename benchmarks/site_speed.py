"""Reader pages against a trivial query, and the site under load.

    python -m benchmarks.site_speed --db build/agingkb.db

1. Single client: every page a reader uses (the home page, every table's
   default view with its default facets, full-text search, a row page of
   each entity, every stored query, the forest plot and the charts) is
   requested in turn; each page's p95 is printed next to the p95 of
   `/agingkb.json?sql=select+1` measured on the same server in the same
   run, as a ratio. Target: every page within 20x.
2. Load: 50 connections for a fixed time (wrk, a C load generator)
   against the server as `etl serve` runs it, and against one plain
   `datasette serve` process with the same settings and plugins, in the
   same run: throughput, p95, errors.

Only 127.0.0.1 is requested; the servers are started here and stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
from datasette.utils import tilde_encode

from agingkb_site.serve import running_server
from benchmarks.loadtest import request_paths

TRIVIAL = "/agingkb.json?sql=select+1"
WRK_SCRIPT = Path(__file__).with_name("wrk_paths.lua")
# The benchmark is one address making hundreds of SQL requests a minute; the
# admission limits are measured by benchmarks/abuse.py, not here.
UNLIMITED_CLIENT = {"client_rate": "1000000/minute"}
# What a reader would type: the examples the stored queries' descriptions give.
SAMPLE_PARAMETERS = {
    "q": "inflammation",
    "tag": "gap/needs-replication",
    "intervention": "anakinra",
    "page": "molecules/proteins/il-1ra",
}
EXCLUDED_TABLE_SUFFIXES = ("_fts", "_fts_config", "_fts_data", "_fts_docsize", "_fts_idx")


def row_path(table: str, key: str) -> str:
    return f"/agingkb/{table}/" + quote(tilde_encode(key), safe="~")


def reader_pages(db: Path, canned_queries: dict[str, str]) -> list[tuple[str, str]]:
    """(label, path) for every page a reader uses, read from the database
    itself so that the list follows the schema."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    tables = [
        name
        for (name,) in connection.execute("select name from sqlite_master where type = 'table' order by name")
        if not name.endswith(EXCLUDED_TABLE_SUFFIXES) and not name.startswith("sqlite_")
    ]
    pages = [("home", "/"), ("database", "/agingkb")]
    pages += [(f"table {name}", f"/agingkb/{name}") for name in tables]
    pages += [
        ("pages?type=protein&_facet=verified", "/agingkb/pages?type=protein&_facet=verified"),
        ("footnotes?design=rct&_facet=year", "/agingkb/footnotes?design=rct&_facet=year"),
        ("search pages (table)", "/agingkb/pages?_search=inflammation"),
        ("search footnotes (table)", "/agingkb/footnotes?_search=anakinra"),
        ("search all (/-/search)", "/-/search?q=inflammation"),
    ]
    entity_rows = {
        "pages": "select page from pages where page = 'molecules/proteins/il-1ra'",
        "pages (most linked to)": "select target_page from links where target_page is not null "
        "group by target_page order by count(*) desc limit 1",
        "pages (largest)": "select page from pages order by length(body) desc limit 1",
        "works": "select work from works order by cited_by_pages desc, work limit 1",
        "trials": "select trial from trials order by mention_count desc, trial limit 1",
        "gap_tags": "select tag from gap_tags order by tag limit 1",
    }
    for label, sql in entity_rows.items():
        found = connection.execute(sql).fetchone()
        if found:
            pages.append((f"row {label}", row_path(label.split(" ")[0], str(found[0]))))
    connection.close()
    for name, sql in sorted(canned_queries.items()):
        parameters = {p: SAMPLE_PARAMETERS.get(p, "") for p in dict.fromkeys(re.findall(r"(?<!:):([a-zA-Z_]\w*)", sql))}
        pages.append((f"query {name}", f"/agingkb/{name}" + ("?" + urlencode(parameters) if parameters else "")))
    pages += [("forest plot", "/-/forest-plot"), ("charts", "/-/charts")]
    return pages


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def time_pages(url: str, pages: list[tuple[str, str]], repeats: int) -> tuple[float, list[tuple[str, float, int]]]:
    """p95 of the trivial query, then (label, p95, status) per page; the
    trivial query is sampled between pages so both see the same machine."""
    trivial: list[float] = []
    results = []
    with httpx.Client(timeout=60) as client:
        for _ in range(3):
            client.get(url + TRIVIAL)
        for label, path in pages:
            samples, status = [], 0
            client.get(url + path)  # warm
            for _ in range(repeats):
                started = time.perf_counter()
                status = client.get(url + path).status_code
                samples.append(time.perf_counter() - started)
                started = time.perf_counter()
                client.get(url + TRIVIAL)
                trivial.append(time.perf_counter() - started)
            results.append((label, p95(samples), status))
    return p95(trivial), results


def canned_queries(url: str) -> dict[str, str]:
    found = httpx.get(url + "/agingkb.json", timeout=30).json()
    return {query["name"]: query["sql"] for query in found.get("queries", [])}


def load(url: str, db: Path, clients: int, seconds: float) -> dict:
    """clients connections for seconds with wrk (a C load generator: a
    Python one would take a core of the two from the server it measures)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listed:
        listed.write("\n".join(request_paths(db)) + "\n")
        listed.flush()
        environment = {**os.environ, "WRK_PATHS": listed.name}
        wrk = [shutil.which("wrk") or "wrk", "-s", str(WRK_SCRIPT), "--timeout", "30s"]
        subprocess.run([*wrk, "-t1", "-c1", "-d3s", url], env=environment, capture_output=True, check=True)  # warm
        completed = subprocess.run(
            [*wrk, "-t2", f"-c{clients}", f"-d{seconds:.0f}s", url],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    figures["throughput_per_s"] = round(figures["requests"] / figures["seconds"], 1)
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("build/agingkb.db"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--log", type=Path, default=Path("build/bench-site.log"))
    parser.add_argument("--no-load", action="store_true", help="only the single-client table")
    parser.add_argument(
        "--plain", action="store_true", help="time the pages on single-process `datasette serve` instead"
    )
    args = parser.parse_args(argv)
    db = args.db.resolve()

    with running_server(db, args.log, plain=args.plain, limits=UNLIMITED_CLIENT) as url:
        pages = reader_pages(db, canned_queries(url))
        trivial, results = time_pages(url, pages, args.repeats)
        served = None if args.no_load else load(url, db, args.clients, args.seconds)
    print(f"single client, p95 of {args.repeats} requests each; trivial query {TRIVIAL}: {trivial * 1000:.1f} ms\n")
    print("| page | p95 ms | x trivial | status |\n|---|---:|---:|---:|")
    worst = 0.0
    for label, seconds, status in results:
        ratio = seconds / trivial
        worst = max(worst, ratio)
        print(f"| {label} | {seconds * 1000:.1f} | {ratio:.1f} | {status} |")
    over = [label for label, seconds, _ in results if seconds / trivial > 20]
    print(f"\n{len(results)} pages; worst {worst:.1f}x the trivial query; over 20x: {', '.join(over) or 'none'}")
    failed = [label for label, _, status in results if status != 200]
    if failed:
        print("not 200: " + ", ".join(failed))
    if served is None:
        return 1 if failed else 0

    with running_server(db, args.log, workers=1, plain=True) as url:
        baseline = load(url, db, args.clients, args.seconds)
    print(f"\n{args.clients} clients for {args.seconds:.0f} s, same run:")
    print("| server | req/s | p50 ms | p95 ms | errors |\n|---|---:|---:|---:|---:|")
    for name, figures in (("datasette serve (one process)", baseline), ("etl serve", served)):
        print(
            f"| {name} | {figures['throughput_per_s']} | {figures['p50_ms']} | {figures['p95_ms']} "
            f"| {figures['errors']} of {figures['requests']} |"
        )
    gain = served["throughput_per_s"] / baseline["throughput_per_s"] if baseline["throughput_per_s"] else 0.0
    print(
        f"\nthroughput {gain:.2f}x the single process (target >= 1.7x); "
        f"p95 {served['p95_ms']:.0f} ms (target <= 1000); errors {served['errors']}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

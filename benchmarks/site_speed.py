"""Reader pages against a trivial query, and the site under load.

    python -m benchmarks.site_speed --db build/agingkb.db

1. Single client: every page a reader uses (the home page, every table's
   default view with its default facets, full-text search, a row page of
   each entity, every stored query, the forest plot and the charts) is
   requested in turn; each page's p95 is printed next to the p95 of
   `/agingkb.json?sql=select+1` measured on the same server in the same
   run, as a ratio. Target: every page within 20x. The server keeps pages
   (agingkb_site/page_cache.py), so after the first request each p95 is a
   kept page's; `--draw` turns the cache off to time the drawing itself.
2. Load: 50 connections for a fixed time (wrk, a C load generator)
   against the server as `etl serve` runs it, and against one plain
   `datasette serve` process with the same settings and plugins, in the
   same run: throughput, p95, errors.
3. Public traffic: a long-tail mix (benchmarks/long_tail.py: every row page
   of pages, trials, works and gap tags, facet views and searches, drawn by
   a Zipf law) with 50 connections for 30 s, then 30 s more, against `etl
   serve` three times in the same run: with reader queries on the thread
   pool and no page cache (AGINGKB_SQL_ON_LOOP=0, AGINGKB_PAGE_CACHE_MB=0:
   the code before either), with the queries on the event loop, and with
   the page cache too (the default): throughput, p95, errors and each
   worker's memory.

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
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx

from agingkb_site.page_cache import BOUND_VARIABLE
from agingkb_site.serve import running_server
from agingkb_site.sql_on_loop import SWITCH_VARIABLE
from benchmarks.loadtest import request_paths
from benchmarks.long_tail import population, row_path, share_of_top, worker_memory, zipf_requests

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


def load(url: str, paths: list[str], clients: int, seconds: float) -> dict:
    """clients connections for seconds with wrk (a C load generator: a
    Python one would take a core of the two from the server it measures),
    requesting `paths` in turn."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listed:
        listed.write("\n".join(paths) + "\n")
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


@contextmanager
def environment_set(**values: str | None):
    """The servers started inside see these variables (None: unset)."""
    before = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# The long-tail mix's servers, each `etl serve` of this code: the first with
# both of the public-traffic levers off (the code before them), then the
# queries on the event loop alone, then the page cache too (the default).
LONG_TAIL_SERVERS = {
    "before (SQL on the pool, no page cache)": {BOUND_VARIABLE: "0", SWITCH_VARIABLE: "0"},
    "SQL on the loop, no page cache": {BOUND_VARIABLE: "0", SWITCH_VARIABLE: None},
    "SQL on the loop and page cache (default)": {BOUND_VARIABLE: None, SWITCH_VARIABLE: None},
}


def long_tail(db: Path, log: Path, clients: int, seconds: float) -> dict[str, dict]:
    """The long-tail mix against each of LONG_TAIL_SERVERS, one after the
    other in this run, each from a fresh start: the first `seconds` of
    traffic (every worker's cache empty), then the next `seconds` of the
    same traffic (new draws of the same law)."""
    requests = zipf_requests(population(db), draws=200_000)
    halves = {"first": requests[:100_000], "next": requests[100_000:]}
    results = {}
    for name, variables in LONG_TAIL_SERVERS.items():
        with environment_set(**variables), running_server(db, log, limits=UNLIMITED_CLIENT) as url:
            for half, paths in halves.items():
                results[f"{name}, {half} {seconds:.0f} s"] = load(url, paths, clients, seconds)
            results[f"{name}, next {seconds:.0f} s"]["workers_mb"] = worker_memory(url.pid)
    return results


def print_long_tail(results: dict[str, dict], paths: int, clients: int, seconds: float) -> None:
    print(
        f"\nlong-tail mix: {paths} URLs, Zipf s=1.1 (top 100 URLs: {share_of_top(list(range(paths)), 100):.0%} "
        f"of requests), {clients} connections for {seconds:.0f} s twice per server, same run, etl serve:"
    )
    print("| server | req/s | p50 ms | p95 ms | p99 ms | errors | RSS per worker MB (peak) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, figures in results.items():
        memory = ", ".join(f"{now} ({peak})" for now, peak in figures.get("workers_mb", []))
        print(
            f"| {name} | {figures['throughput_per_s']} | {figures['p50_ms']} | {figures['p95_ms']} "
            f"| {figures['p99_ms']} | {figures['errors']} of {figures['requests']} | {memory} |"
        )
    figures = list(results.values())
    before, after = figures[:2], figures[-2:]
    for label, old, new in zip(("first", "next"), before, after, strict=True):
        gain = new["throughput_per_s"] / old["throughput_per_s"] if old["throughput_per_s"] else 0.0
        print(
            f"default against before, {label} {seconds:.0f} s: throughput {gain:.2f}x (target >= 3x); "
            f"p95 {new['p95_ms']:.0f} ms (target <= 300); errors {new['errors']}"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("build/agingkb.db"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--long-tail-seconds", type=float, default=30.0)
    parser.add_argument("--draw", action="store_true", help="the single-client table with the page cache off")
    parser.add_argument("--only-long-tail", action="store_true", help="only the long-tail mix, cache off and on")
    parser.add_argument("--log", type=Path, default=Path("build/bench-site.log"))
    parser.add_argument("--no-load", action="store_true", help="only the single-client table")
    parser.add_argument(
        "--plain", action="store_true", help="time the pages on single-process `datasette serve` instead"
    )
    args = parser.parse_args(argv)
    db = args.db.resolve()
    failed = [] if args.only_long_tail else single_client(db, args)
    if not args.no_load and not args.only_long_tail:
        reader_mix(db, args)
    if not args.no_load:
        results = long_tail(db, args.log, args.clients, args.long_tail_seconds)
        print_long_tail(results, len(population(db)), args.clients, args.long_tail_seconds)
    return 1 if failed else 0


def single_client(db: Path, args) -> list[str]:
    """Section 1, as `etl serve` runs (--draw: with the page cache off, what
    drawing each page costs; with it on, the p95 is of kept pages)."""
    bound = "0" if args.draw else None
    with (
        environment_set(**{BOUND_VARIABLE: bound}),
        running_server(db, args.log, plain=args.plain, limits=UNLIMITED_CLIENT) as url,
    ):
        pages = reader_pages(db, canned_queries(url))
        trivial, results = time_pages(url, pages, args.repeats)
    print(
        f"single client, page cache {'off' if args.draw else 'on'}, p95 of {args.repeats} requests each; "
        f"trivial query {TRIVIAL}: {trivial * 1000:.1f} ms\n"
    )
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
    return failed


def reader_mix(db: Path, args) -> None:
    """Section 2: a short cycle of reader URLs, etl serve beside one process."""
    with running_server(db, args.log, limits=UNLIMITED_CLIENT) as url:
        served = load(url, request_paths(db), args.clients, args.seconds)
    with running_server(db, args.log, workers=1, plain=True) as url:
        baseline = load(url, request_paths(db), args.clients, args.seconds)
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


if __name__ == "__main__":
    sys.exit(main())

"""A bounded load test on loopback: N concurrent clients request facet,
search and row URLs of a served build for a fixed time, then the figures
are printed: throughput, p50/p95/p99 latency and errors, next to a
baseline of one client measured in the same run.

    python -m benchmarks.loadtest --db build/agingkb.db --clients 50 --seconds 30

Only 127.0.0.1 is ever requested; the server is started here and stopped
at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from agingkb_site.serve import running_server


def request_paths(db: Path, rows: int = 30) -> list[str]:
    """Facet, search and row URLs, the mix a reader's session makes."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    pages = [p for (p,) in connection.execute("select page from pages order by page limit ?", [rows])]
    connection.close()
    paths = [
        "/agingkb/pages?_facet=type&_facet=verified",
        "/agingkb/gaps?_facet=tag",
        "/agingkb/footnotes?design=rct&_facet=year",
        "/agingkb/trials?_facet=design&_facet=registry_status",
        "/agingkb/pages?_search=inflammation",
        "/agingkb/footnotes?_search=anakinra",
        "/agingkb/trial_outcomes.json?role=primary",
    ]
    paths += ["/agingkb/pages/" + quote(page.replace("~", "~7E").replace("/", "~2F"), safe="~") for page in pages]
    return paths


@dataclass
class Figures:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        ordered = sorted(self.latencies) or [0.0]

        def percentile(q):
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "throughput_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(0.50), 1),
            "p95_ms": round(percentile(0.95), 1),
            "p99_ms": round(percentile(0.99), 1),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
        }


async def run_load(
    base_url: str, paths: list[str], clients: int, seconds: float, max_requests: int = 1_000_000
) -> Figures:
    """clients workers, each requesting the paths in turn until the time
    (or the request budget) is spent."""
    figures = Figures()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(offset: int, client: httpx.AsyncClient):
        index = offset
        while time.monotonic() < deadline and figures.requests < max_requests:
            path = paths[index % len(paths)]
            index += 1
            started = time.perf_counter()
            try:
                response = await client.get(base_url + path)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            figures.latencies.append(time.perf_counter() - started)
            figures.requests += 1
            figures.errors += 0 if ok else 1

    started = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(i, client) for i in range(clients)))
    figures.seconds = time.monotonic() - started
    return figures


def load_test(db: Path, clients: int, seconds: float, log: Path) -> dict:
    """Baseline (one client) and load (clients at once), same server, same run."""
    with running_server(db, log) as url:
        paths = request_paths(db)
        asyncio.run(run_load(url, paths, 1, min(3.0, seconds)))  # warm the page cache
        baseline = asyncio.run(run_load(url, paths, 1, max(2.0, seconds / 3)))
        load = asyncio.run(run_load(url, paths, clients, seconds))
    return {"clients": clients, "paths": len(paths), "baseline_one_client": baseline.summary(), "load": load.summary()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("build/agingkb.db"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--log", type=Path, default=Path("build/loadtest-datasette.log"))
    args = parser.parse_args(argv)
    result = load_test(args.db.resolve(), args.clients, args.seconds, args.log)
    print(json.dumps(result, indent=2))
    base, load = result["baseline_one_client"], result["load"]
    print(
        f"\none client: {base['throughput_per_s']} req/s, "
        f"p50 {base['p50_ms']} ms, p95 {base['p95_ms']} ms, p99 {base['p99_ms']} ms"
    )
    print(
        f"{args.clients} clients: {load['throughput_per_s']} req/s, "
        f"p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, p99 {load['p99_ms']} ms, "
        f"{load['errors']} errors in {load['requests']} requests"
    )
    return 1 if load["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""Whole-table download cost: the footnotes table fetched whole as the
build's static file (/-/downloads/footnotes.csv) and as Datasette's
streamed CSV (footnotes.csv?_stream=on&_size=max), on one served build.

    python -m benchmarks.downloads --db build/agingkb.db --repeats 5 --clients 8 --seconds 10

For each way: the time of one fetch (median of --repeats, one client), then
--clients clients fetching it in a loop for --seconds while one more client
loads a table page, whose latency shows whether the site stays usable.
Only 127.0.0.1 is requested; the server is started here and stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.loadtest import run_load, serve

WAYS = {
    "static": "/-/downloads/footnotes.csv",
    "datasette stream": "/agingkb/footnotes.csv?_stream=on&_size=max",
}
PAGE = "/agingkb/pages?_facet=type"


def single_fetches(url: str, path: str, repeats: int) -> dict:
    seconds, size = [], 0
    with httpx.Client(timeout=300) as client:
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(url + path)
            seconds.append(time.perf_counter() - started)
            response.raise_for_status()
            size = len(response.content)
    return {"bytes": size, "median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3), "max_s": round(max(seconds), 3)}


async def under_load(url: str, path: str, clients: int, seconds: float) -> dict:
    downloads, page = await asyncio.gather(run_load(url, [path], clients, seconds), run_load(url, [PAGE], 1, seconds))
    downloaded = downloads.summary()
    return {
        "downloads_done": downloaded["requests"],
        "download_errors": downloaded["errors"],
        "downloads_per_s": downloaded["throughput_per_s"],
        "download_p50_ms": downloaded["p50_ms"],
        "page_requests": page.summary()["requests"],
        "page_p50_ms": page.summary()["p50_ms"],
        "page_p95_ms": page.summary()["p95_ms"],
        "page_errors": page.summary()["errors"],
    }


def measure(db: Path, repeats: int, clients: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        process, url = serve(db, Path(scratch) / "datasette.log")
        try:
            idle = asyncio.run(run_load(url, [PAGE], 1, 3.0)).summary()
            found = {"page_alone": {"p50_ms": idle["p50_ms"], "p95_ms": idle["p95_ms"]}}
            for way, path in WAYS.items():
                found[way] = {"one_fetch": single_fetches(url, path, repeats), f"{clients}_clients": asyncio.run(under_load(url, path, clients, seconds))}
            return found
        finally:
            process.terminate()
            process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("build/agingkb.db"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(json.dumps(measure(args.db, args.repeats, args.clients, args.seconds), indent=2))


if __name__ == "__main__":
    main()

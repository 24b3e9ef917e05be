"""One reader beside heavy clients: does the site stay up for the reader?

    python -m benchmarks.abuse --db build/agingkb.db

A reader browses a row page, a full-text search and the trials table in
turn (20 s timeout per request) while, beside it:
  - nothing;
  - 8 clients loop a recursive query that only the time limit stops;
  - 8 MCP clients (the `mcp` SDK's client, at /-/mcp) loop the same query
    through the execute_sql tool;
  - 8 clients loop the streamed export of the largest table
    (`footnotes.csv?_stream=on&_size=max`);
  - 8 clients loop the same table's whole-file download, where the server
    has one (/-/downloads/).
It prints the reader's p95 and failures, what the heavy clients got
(answers by status, or for MCP by what the tool answered: ok, time-limit,
busy; slowest answer), and the server's memory before and
after, for the server as `etl serve` runs it and for one plain
`datasette serve` process with the same settings, in the same run.
Only 127.0.0.1 is requested; the servers are started here and stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from agingkb_site.serve import SETTINGS, running_server

HEAVY_SQL = "with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c"
READER_PATHS = [
    "/agingkb/pages/molecules~2Fproteins~2Fil-1ra",
    "/agingkb/pages?_search=inflammation",
    "/agingkb/trials",
]
MCP_PATH = "/-/mcp"
SCENARIOS = {
    "nothing": None,
    "8 heavy SQL clients": "/agingkb.json?" + str(httpx.QueryParams({"sql": HEAVY_SQL})),
    "8 heavy MCP clients": MCP_PATH,
    "8 streamed CSV clients": "/agingkb/footnotes.csv?_stream=on&_size=max",
    "8 whole-file CSV clients": "/-/downloads/footnotes.csv",
}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    def p95(self) -> float:
        ordered = sorted(self.latencies) or [0.0]
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def reader(url: str, seconds: float, tally: Tally) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=20) as client:
        index = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status = (await client.get(url + READER_PATHS[index % len(READER_PATHS)])).status_code
            except httpx.HTTPError:
                status = "failed"
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[status] += 1
            index += 1


async def heavy(url: str, path: str, seconds: float, tally: Tally) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=60) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                async with client.stream("GET", url + path) as response:
                    async for _ in response.aiter_bytes():
                        pass
                    status = response.status_code
            except httpx.HTTPError:
                status = "failed"
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[status] += 1
            if status == 429:
                await asyncio.sleep(0.2)  # a polite script; Retry-After asks for more


def mcp_answer(result) -> str:
    """What an MCP tool call came back as: ok, or the kind of error the tool said."""
    if not result.is_error:
        return "ok"
    return (result.structured_content or {}).get("kind", "error")


async def mcp_heavy(url: str, seconds: float, tally: Tally) -> None:
    """One assistant looping the heavy query through the execute_sql tool, as
    an MCP client does (the initialize handshake, then one POST per call)."""
    from mcp import Client  # the site extra's SDK, imported where it is used

    deadline = time.monotonic() + seconds
    async with Client(url + MCP_PATH, mode="legacy", read_timeout_seconds=60) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status = mcp_answer(await client.call_tool("execute_sql", {"sql": HEAVY_SQL}))
            except Exception:  # the SDK's transport and protocol errors alike: the call failed
                status = "failed"
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[status] += 1
            if status == "busy":
                await asyncio.sleep(0.2)  # a polite assistant; the answer asks for more


async def scenario(url: str, heavy_path: str | None, clients: int, seconds: float) -> tuple[Tally, Tally]:
    reading, heavies = Tally(), Tally()
    tasks = [reader(url, seconds, reading)]
    if heavy_path == MCP_PATH:
        tasks += [mcp_heavy(url, seconds, heavies) for _ in range(clients)]
    elif heavy_path:
        tasks += [heavy(url, heavy_path, seconds, heavies) for _ in range(clients)]
    await asyncio.gather(*tasks)
    return reading, heavies


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def run_server(db: Path, log: Path, plain: bool, clients: int, seconds: float) -> list[dict]:
    results = []
    with running_server(db, log, plain=plain) as url:
        pid = url.pid
        # "Before" is a server that has answered each kind of request once.
        with httpx.Client(timeout=30) as warm:
            for path in READER_PATHS + [path for path in SCENARIOS.values() if path and path != MCP_PATH]:
                warm.get(url + path)
        time.sleep(1)
        for name, path in SCENARIOS.items():
            if path and path.startswith("/-/") and httpx.get(url + path, timeout=30).status_code == 404:
                results.append({"scenario": name, "skipped": "this server has no such route"})
                continue
            reading, heavies = asyncio.run(scenario(url, path, clients, seconds))
            results.append({"scenario": name, "reader": reading, "heavy": heavies, "memory_mb": tree_rss_mb(pid)})
        time.sleep(2)
        alive = httpx.get(url + READER_PATHS[0], timeout=20).status_code == 200
        memory_after = tree_rss_mb(pid)
    # "Before" is the server after the reader alone has browsed for a while
    # (its caches and SQLite's page caches warm): what the heavy clients
    # leave behind is the difference.
    memory_before = results[0]["memory_mb"]
    return results, memory_before, memory_after, alive


def print_table(title: str, results, memory_before: float, memory_after: float, alive: bool) -> None:
    print(f"\n{title}")
    print("| beside the reader | reader p95 s | reader failed | heavy answers | heavy slowest s | server MB after |")
    print("|---|---:|---:|---|---:|---:|")
    for result in results:
        if "skipped" in result:
            print(f"| {result['scenario']} | - | - | {result['skipped']} | - | - |")
            continue
        reading, heavies = result["reader"], result["heavy"]
        failed = sum(count for status, count in reading.statuses.items() if status != 200)
        answers = ", ".join(f"{count} x {status}" for status, count in sorted(heavies.statuses.items(), key=str)) or "-"
        slowest = f"{max(heavies.latencies):.1f}" if heavies.latencies else "-"
        print(
            f"| {result['scenario']} | {reading.p95():.2f} | {failed} of {len(reading.latencies)} "
            f"| {answers} | {slowest} | {result['memory_mb']:.0f} |"
        )
    change = (memory_after - memory_before) / memory_before * 100 if memory_before else 0.0
    print(
        f"alive afterwards: {'yes' if alive else 'NO'}; memory {memory_before:.0f} MB after the reader alone, "
        f"{memory_after:.0f} MB after the heavy clients ({change:+.0f}%; target within 20%)"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("build/agingkb.db"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--log", type=Path, default=Path("build/bench-abuse.log"))
    parser.add_argument("--skip-baseline", action="store_true", help="only the server as etl serve runs it")
    args = parser.parse_args(argv)
    db = args.db.resolve()
    print(
        f"time limit {SETTINGS['sql_time_limit_ms'] / 1000:.0f} s; {args.clients} heavy clients; "
        f"{args.seconds:.0f} s per row"
    )
    runs = [("etl serve", False)] + ([] if args.skip_baseline else [("one datasette serve process (before)", True)])
    worst = 0.0
    for title, plain in runs:
        results, before, after, alive = run_server(db, args.log, plain, args.clients, args.seconds)
        print_table(title, results, before, after, alive)
        if not plain:
            worst = max((r["reader"].p95() for r in results if "reader" in r), default=0.0)
    print(f"\netl serve: worst reader p95 {worst:.2f} s (target <= 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

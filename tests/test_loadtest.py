"""A short run of the load test in `make test`: 50 concurrent clients on
facet, search and row URLs of the real build, on loopback. It asserts no
request failed and prints the figures; speed targets live in
`make loadtest`, which runs longer."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.loadtest import load_test

pytestmark = pytest.mark.site  # load_test serves the build itself


def test_fifty_clients_get_answers_and_no_errors(real_build, tmp_path):
    out, _ = real_build
    # In a thread of its own: load_test runs asyncio event loops, and a browser
    # test run earlier in the session leaves Playwright's loop on this thread.
    with ThreadPoolExecutor(max_workers=1) as worker:
        result = worker.submit(
            load_test, (out / "agingkb.db").resolve(), clients=50, seconds=6, log=tmp_path / "datasette.log"
        ).result()
    load, baseline = result["load"], result["baseline_one_client"]
    print(
        f"\nload test: one client {baseline['throughput_per_s']} req/s (p50 {baseline['p50_ms']} ms); "
        f"50 clients {load['throughput_per_s']} req/s, "
        f"p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, p99 {load['p99_ms']} ms, "
        f"{load['errors']} errors in {load['requests']} requests"
    )
    assert load["errors"] == 0 and baseline["errors"] == 0
    assert load["requests"] >= 50  # every client was answered at least once on average

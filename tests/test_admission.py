"""Admission control: expensive requests get a bounded share of a worker,
readers never wait behind them, and one client cannot take it all.
Behaviour on a real server (uvicorn workers running the site), not timing."""

import threading
import time

import httpx
import pytest

from agingkb_site import admission
from agingkb_site.serve import running_server

HEAVY = "with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c"
ROW_PAGE = "/agingkb/pages/molecules~2Fproteins~2Fil-1ra"


@pytest.mark.parametrize(
    "path, query, kind",
    [
        ("/agingkb", "sql=select+1", "sql"),
        ("/agingkb.json", "sql=select+1&_shape=array", "sql"),
        ("/agingkb.csv", "sql=select+1", "sql"),
        ("/agingkb", "sql=", None),  # the empty SQL form is a reader's page
        ("/agingkb/footnotes.csv", "_stream=on&_size=max", "export"),
        ("/agingkb/footnotes.csv", "_stream=0", None),
        ("/agingkb/gap_board", "", "stored-query"),
        ("/agingkb/gap_board.json", "tag=x", "stored-query"),
        ("/agingkb/pages", "_search=sirt1&_facet=type", None),
        ("/agingkb/pages/molecules~2Fproteins~2Fil-1ra", "", None),
        ("/-/search", "q=x", None),
        ("/", "", None),
    ],
)
def test_what_counts_as_expensive(path, query, kind):
    assert admission.expensive_kind(path, query, frozenset({"gap_board"})) == kind


def test_past_the_limit_an_expensive_request_gets_429_while_a_row_page_answers(real_build, tmp_path):
    out, _ = real_build
    limits = {"expensive_in_flight": 1, "expensive_queue": 0, "client_in_flight": 5, "client_rate": "1000/minute"}
    with running_server(out / "agingkb.db", tmp_path / "server.log", workers=1, limits=limits) as url:
        first: dict = {}

        def run_heavy():
            started = time.monotonic()
            response = httpx.get(url + "/agingkb.json", params={"sql": HEAVY}, timeout=30)
            first.update(status=response.status_code, text=response.text, seconds=time.monotonic() - started)

        thread = threading.Thread(target=run_heavy)
        thread.start()
        time.sleep(1.0)  # the first heavy query now holds the only expensive slot
        refused = httpx.get(url + "/agingkb", params={"sql": HEAVY}, timeout=10)
        reader = httpx.get(url + ROW_PAGE, timeout=10)
        thread.join(timeout=30)

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "not run" in refused.text and "try again" in refused.text.lower()
    assert refused.headers["x-content-type-options"] == "nosniff"  # the site's headers wrap the refusal too
    assert reader.status_code == 200
    # The admitted query hit the time limit and said so, with no hang.
    assert first["status"] == 400 and "took too long" in first["text"]
    assert first["seconds"] < 3.0 + 1.0 + 1.0


def test_the_per_client_limit_is_per_client_and_a_spoofed_header_does_not_reset_it(real_build, tmp_path):
    out, _ = real_build
    limits = {"client_rate": "2/minute"}
    sql = {"sql": "select 1"}
    with running_server(out / "agingkb.db", tmp_path / "server.log", workers=1, limits=limits) as url:
        with (
            httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.1"), timeout=10) as first_client,
            httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10) as second_client,
        ):
            answers = [first_client.get(url + "/agingkb.json", params=sql).status_code for _ in range(3)]
            spoofed = first_client.get(url + "/agingkb.json", params=sql, headers={"Fly-Client-IP": "203.0.113.9"})
            other = second_client.get(url + "/agingkb.json", params=sql)
            reader = first_client.get(url + ROW_PAGE)
    assert answers == [200, 200, 429]
    assert spoofed.status_code == 429, "a proxy header must not be believed without a proxy"
    assert other.status_code == 200, "another client has its own allowance"
    assert reader.status_code == 200, "readers' pages are never limited"
    assert spoofed.json()["status"] == 429


def test_behind_a_declared_proxy_its_client_header_names_the_client(real_build, tmp_path):
    out, _ = real_build
    limits = {"client_rate": "1/minute", "proxy_client_header": "Fly-Client-IP"}
    sql = {"sql": "select 1"}
    with running_server(out / "agingkb.db", tmp_path / "server.log", workers=1, limits=limits) as url:
        first = [
            httpx.get(url + "/agingkb.json", params=sql, headers={"Fly-Client-IP": "203.0.113.9"}).status_code
            for _ in range(2)
        ]
        second = httpx.get(url + "/agingkb.json", params=sql, headers={"Fly-Client-IP": "198.51.100.7"}).status_code
    assert first == [200, 429]
    assert second == 200

"""The database page, drawn once per worker, is still the right page for
each request: the same for everyone on one host, naming each request's own
host, and never answering a query with the cached listing."""

import re

import httpx

TIMING = re.compile(r"Queries took [0-9.]+ms")  # each worker's first drawing took its own time


def test_the_database_page_is_the_same_page_each_time(fixture_url):
    first = httpx.get(fixture_url + "/agingkb")
    again = [httpx.get(fixture_url + "/agingkb") for _ in range(4)]  # both workers, cached or not
    assert first.status_code == 200 and "pages" in first.text
    assert all(
        response.status_code == 200 and TIMING.sub("", response.text) == TIMING.sub("", first.text)
        for response in again
    )
    assert all(response.headers["x-content-type-options"] == "nosniff" for response in again)


def test_each_host_gets_links_to_itself(fixture_url):
    for host in ("one.example", "two.example", "one.example"):
        response = httpx.get(fixture_url + "/agingkb", headers={"Host": host})
        assert f"http://{host}/agingkb.json" in response.headers["link"]


def test_a_query_on_the_same_path_is_run_not_replayed(fixture_url):
    httpx.get(fixture_url + "/agingkb")
    answer = httpx.get(fixture_url + "/agingkb", params={"sql": "select 'only-this-answer' as marker"})
    assert answer.status_code == 200 and "only-this-answer" in answer.text
    with_cookie = httpx.get(fixture_url + "/agingkb", cookies={"ds_actor": "x"})
    assert with_cookie.status_code == 200

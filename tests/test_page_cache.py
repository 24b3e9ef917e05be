"""The database page, drawn once per worker, is still the right page for
each request: the same for everyone on one host, naming each request's own
host, and never answering a query with the cached listing."""

import re

import httpx

from agingkb_site import page_cache

from .conftest import run_async

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
    assert with_cookie.status_code == 200 and "pages" in with_cookie.text


def _drawn_by(app, **headers) -> bytes:
    """The body `app` answers GET /agingkb with, sent with `headers`."""
    sent = []
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/agingkb",
        "query_string": b"",
        "headers": [(b"host", b"site.example")] + [(k.encode(), v.encode()) for k, v in headers.items()],
    }

    async def send(message):
        sent.append(message)

    run_async(app(scope, None, send))
    return b"".join(message.get("body", b"") for message in sent)


def test_a_request_with_a_cookie_or_credentials_is_drawn_for_itself_and_not_kept():
    """Such a request may be someone's own page (a signed-in actor): it is
    never answered from the cache, and its answer is never kept for others."""
    drawings = []

    async def datasette(scope, receive, send):
        drawings.append(dict(scope["headers"]))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": f"drawing {len(drawings)}".encode()})

    app = page_cache.keep(None)(datasette)
    assert _drawn_by(app) == b"drawing 1"
    assert _drawn_by(app) == b"drawing 1" and len(drawings) == 1  # replayed
    assert _drawn_by(app, cookie="ds_actor=someone") == b"drawing 2"  # drawn for itself
    assert _drawn_by(app, authorization="Bearer token") == b"drawing 3"
    assert drawings[1][b"cookie"] == b"ds_actor=someone" and drawings[2][b"authorization"] == b"Bearer token"
    assert _drawn_by(app) == b"drawing 1" and len(drawings) == 3  # neither replaced the kept page

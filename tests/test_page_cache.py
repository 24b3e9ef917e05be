"""Pages kept per worker are still the right page for each request: the
same for everyone on one host, naming each request's own host, never a
query's, a cookie-bearing request's or an error's answer served to another;
ETags that a CDN can revalidate with, and stored queries kept beyond the
admission gate."""

import asyncio
import re
import threading
import time

import httpx
import pytest

from agingkb_site import page_cache
from agingkb_site.serve import running_server

from .conftest import run_async
from .test_admission import HEAVY

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


ROW_PAGE = "/agingkb/pages/molecules~2Fproteins~2Fdemo-kinase"  # a page of the fixture wiki


def test_a_kept_page_carries_one_etag_on_every_worker_and_is_304_only_when_it_matches(fixture_url):
    answers = [httpx.get(fixture_url + ROW_PAGE) for _ in range(4)]  # both workers, drawn and replayed
    etag = answers[0].headers["etag"]
    assert all(answer.status_code == 200 and answer.headers["etag"] == etag for answer in answers)
    assert etag.startswith('W/"') and "public" in answers[0].headers["cache-control"]
    assert "max-age=300" in answers[0].headers["cache-control"]

    unchanged = httpx.get(fixture_url + ROW_PAGE, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == etag
    assert unchanged.headers["x-content-type-options"] == "nosniff"
    strong = httpx.get(fixture_url + ROW_PAGE, headers={"If-None-Match": etag[2:]})  # weak comparison
    assert strong.status_code == 304
    in_a_list = httpx.get(fixture_url + ROW_PAGE, headers={"If-None-Match": f'"elsewhere", {etag}'})
    assert in_a_list.status_code == 304

    other_page = httpx.get(fixture_url + "/agingkb/pages")
    assert other_page.headers["etag"] != etag
    altered = etag[:-2] + ("1" if etag[-2] == "0" else "0") + '"'
    for stale in (other_page.headers["etag"], 'W/"0000"', altered):
        answer = httpx.get(fixture_url + ROW_PAGE, headers={"If-None-Match": stale})
        assert answer.status_code == 200 and TIMING.sub("", answer.text) == TIMING.sub("", answers[0].text)
    other_host = httpx.get(fixture_url + ROW_PAGE, headers={"Host": "mirror.example", "If-None-Match": etag})
    assert other_host.status_code == 200 and other_host.headers["etag"] != etag  # its page names its own host


def test_head_answers_the_kept_page_s_headers_without_its_body(fixture_url):
    page = httpx.get(fixture_url + ROW_PAGE)
    heads = [httpx.head(fixture_url + ROW_PAGE) for _ in range(3)]
    assert all(head.status_code == 200 and head.content == b"" for head in heads)
    assert all(head.headers["etag"] == page.headers["etag"] for head in heads)
    assert all(head.headers["content-type"] == page.headers["content-type"] for head in heads)
    unknown = httpx.head(fixture_url + "/agingkb/pages/no~2Fsuch~2Fpage")
    assert unknown.status_code == 404 and "etag" not in unknown.headers


def test_a_cookie_bearing_request_is_answered_for_itself_and_its_answer_kept_from_others(fixture_url):
    private = httpx.get(fixture_url + "/agingkb/pages", cookies={"ds_actor": "someone"})
    public = httpx.get(fixture_url + "/agingkb/pages")
    assert private.status_code == 200 and "etag" not in private.headers
    assert private.headers["cache-control"] == "private, no-store"
    assert public.status_code == 200 and "etag" in public.headers and "public" in public.headers["cache-control"]
    after = httpx.get(fixture_url + "/agingkb/pages", headers={"Authorization": "Bearer x"})
    assert "etag" not in after.headers and after.headers["cache-control"] == "private, no-store"


def test_a_made_up_url_s_404_is_not_kept_and_gets_no_validators(fixture_url):
    for _ in range(3):
        missing = httpx.get(fixture_url + "/agingkb/pages/made~2Fup")
        assert missing.status_code == 404
        assert "etag" not in missing.headers and "public" not in missing.headers.get("cache-control", "")


def _fake_datasette(answers: list[tuple[int, list, bytes]]):
    """An ASGI app that answers each request with the next of `answers`."""
    drawn = []

    async def app(scope, receive, send):
        status, headers, body = answers[len(drawn) % len(answers)]
        drawn.append(status)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app, drawn


HTML = [(b"content-type", b"text/html")]


@pytest.mark.parametrize(
    "first",
    [
        (500, HTML, b"an error"),
        (404, HTML, b"not found"),
        (200, HTML + [(b"set-cookie", b"ds_csrftoken=abc")], b"with someone's token"),
        (200, HTML + [(b"vary", b"Accept-Encoding")], b"one encoding of it"),
    ],
    ids=["error", "not-found", "set-cookie", "vary"],
)
def test_an_answer_that_may_not_be_kept_is_never_replayed_to_the_next_request(first):
    app, drawn = _fake_datasette([first, (200, HTML, b"the page")])
    cached = page_cache.keep(None)(app)
    assert _drawn_by(cached) == first[2]
    assert _drawn_by(cached) == b"the page" and len(drawn) == 2  # drawn again, not replayed
    assert _drawn_by(cached) == b"the page" and len(drawn) == 2  # the good answer is kept


@pytest.mark.parametrize(
    "method, path, query, headers, kept",
    [
        ("GET", "/agingkb/pages", b"_facet=type", [], True),
        ("HEAD", "/agingkb/pages", b"", [], True),
        ("GET", "/agingkb/gap_board", b"tag=gap%2Fx", [], True),
        ("GET", "/-/search", b"q=x", [], True),
        ("GET", "/", b"", [], True),
        ("POST", "/agingkb/pages", b"", [], False),
        ("GET", "/agingkb", b"sql=select+random()", [], False),
        ("GET", "/agingkb/pages", b"_where=random()>0", [], False),
        ("GET", "/agingkb/footnotes.csv", b"_stream=on", [], False),
        ("GET", "/agingkb/pages", b"_trace=1", [], False),
        ("GET", "/-/versions.json", b"", [], False),
        ("GET", "/-/threads", b"", [], False),
        ("GET", "/-/downloads/agingkb.db", b"", [], False),
        ("GET", "/-/mcp", b"", [], False),
        ("GET", "/agingkb/pages", b"", [(b"Cookie", b"a=b")], False),
        ("GET", "/agingkb/pages", b"", [(b"authorization", b"Basic x")], False),
    ],
)
def test_which_requests_may_be_answered_from_the_cache(method, path, query, headers, kept):
    scope = {"type": "http", "method": method, "path": path, "query_string": query, "headers": headers}
    assert page_cache.cacheable_request(scope) is kept


def test_a_kept_stored_query_answers_while_the_gate_is_full_and_a_new_one_is_refused(fixture_build, tmp_path):
    out, _ = fixture_build
    limits = {"expensive_in_flight": 1, "expensive_queue": 0, "client_in_flight": 5, "client_rate": "1000/minute"}
    stored = "/agingkb/gap_counts"
    with running_server(out / "agingkb.db", tmp_path / "server.log", workers=1, limits=limits) as url:
        kept = httpx.get(url + stored, timeout=10)
        heavy = threading.Thread(target=lambda: httpx.get(url + "/agingkb.json", params={"sql": HEAVY}, timeout=30))
        heavy.start()
        time.sleep(1.0)  # the heavy query now holds the only expensive slot
        replayed = httpx.get(url + stored, timeout=10)
        new = httpx.get(url + stored, params={"page_type": "protein"}, timeout=10)
        heavy.join(timeout=30)
    assert kept.status_code == 200 and "etag" in kept.headers
    assert replayed.status_code == 200 and replayed.content == kept.content, "a kept result skips the gate"
    assert new.status_code == 429, "a stored query not kept yet is still gated"


def test_readers_asking_at_once_for_a_page_being_drawn_wait_for_that_drawing():
    drawn = []

    async def datasette(scope, receive, send):
        drawn.append(scope["query_string"])
        await asyncio.sleep(0.2)  # a slow page
        status = 404 if scope["query_string"] == b"missing" else 200
        await send({"type": "http.response.start", "status": status, "headers": HTML})
        await send({"type": "http.response.body", "body": b"page " + scope["query_string"]})

    cached = page_cache.keep(None)(datasette)

    async def request(query: bytes) -> bytes:
        sent = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "scheme": "http", "path": "/agingkb/pages", "query_string": query}
        await cached({**scope, "headers": [(b"host", b"site.example")]}, None, send)
        return b"".join(message.get("body", b"") for message in sent)

    async def at_once():
        return await asyncio.gather(*(request(query) for query in [b"a"] * 5 + [b"b"] * 3 + [b"missing"] * 2))

    answers = run_async(at_once())
    assert answers == [b"page a"] * 5 + [b"page b"] * 3 + [b"page missing"] * 2
    # One drawing per kept page; a 404 is not kept, so the second asker drew its own.
    assert sorted(drawn) == [b"a", b"b", b"missing", b"missing"]

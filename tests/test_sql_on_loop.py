"""A reader page's queries run on the worker's event loop, within a budget
(agingkb_site/sql_on_loop.py), on a real Datasette in this process with the
site's whole ASGI stack and the fixture's database."""

import threading

import pytest
from datasette.database import QueryInterrupted

from agingkb_site import page_cache, sql_on_loop
from agingkb_site.names import DATABASE
from agingkb_site.security import MAX_SQLITE_LENGTH

from .conftest import run_async
from .test_page_cache_bound import fetch_all, site

# About a second of SQLite work: far past the budget, far inside the 3 s time limit.
SLOW = "with recursive r(i) as (select 1 union all select i + 1 from r where i < 3000000) select count(*) from r"
ENDLESS = "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r"


def database_of(fixture_build, monkeypatch, **settings):
    out, _ = fixture_build
    datasette, app = site(out / "agingkb.db", monkeypatch, 8, **settings)
    return datasette.databases[DATABASE], app


def on_loop(coroutine_function):
    """Run it as a request the layer marked would run."""

    async def marked():
        sql_on_loop._on_loop.set(True)
        return await coroutine_function()

    return run_async(marked())


def test_a_marked_request_s_query_runs_on_the_loop_thread_and_others_on_the_pool(fixture_build, monkeypatch):
    database, _ = database_of(fixture_build, monkeypatch)

    async def threads():
        return threading.get_ident(), await database.execute_fn(lambda connection: threading.get_ident())

    loop, ran = on_loop(threads)
    assert ran == loop, "a reader's query runs on the loop thread"
    loop, ran = run_async(threads())
    assert ran != loop, "an unmarked request's query runs on Datasette's thread pool"


def test_a_query_past_the_budget_runs_again_on_the_pool_and_is_not_taken_for_a_timeout(fixture_build, monkeypatch):
    database, _ = database_of(fixture_build, monkeypatch)
    runs = []

    def counted(connection):
        runs.append(threading.get_ident())
        return [tuple(row) for row in connection.execute(SLOW).fetchall()]

    async def slow():
        flag = []
        page_cache._interrupted.set(flag)
        answer = await database.execute(SLOW)
        return threading.get_ident(), answer.first()[0], await database.execute_fn(counted), flag

    loop, count, rows, flag = on_loop(slow)
    assert count == 3_000_000 and rows == [(3_000_000,)], "the answer is the whole query's"
    assert len(runs) == 2 and runs[0] == loop and runs[1] != loop, "interrupted on the loop, run again on the pool"
    assert flag == [], "the budget's interruption is not the time limit: the page may be kept"


def test_a_query_past_datasette_s_time_limit_still_fails_and_marks_the_page(fixture_build, monkeypatch):
    database, _ = database_of(fixture_build, monkeypatch)

    async def endless():
        flag = []
        page_cache._interrupted.set(flag)
        with pytest.raises(QueryInterrupted):
            await database.execute(ENDLESS, custom_time_limit=20)
        return flag

    assert on_loop(endless) == [True]


def test_the_loop_s_connection_has_the_site_s_limits(fixture_build, monkeypatch):
    database, _ = database_of(fixture_build, monkeypatch)

    async def too_long():
        with pytest.raises(Exception, match="too big"):
            await database.execute(f"select length(zeroblob({MAX_SQLITE_LENGTH + 1}))")
        with pytest.raises(Exception, match="too many attached"):
            await database.execute("attach database ':memory:' as other")
        return True

    assert on_loop(too_long)


@pytest.mark.parametrize(
    "method, path, query, runs_on_loop",
    [
        ("GET", "/agingkb/pages", "_facet=type", True),
        ("HEAD", "/agingkb/pages/il-1ra", "", True),
        ("GET", "/-/search", "q=senescence", True),
        ("GET", "/agingkb.json", "sql=select+1", False),
        ("GET", "/agingkb/gap_board", "", False),  # a stored query: gated, on the pool
        ("GET", "/agingkb/pages.csv", "_stream=on", False),
        ("POST", "/-/mcp", "", False),
    ],
)
def test_which_requests_run_their_queries_on_the_loop(fixture_build, monkeypatch, method, path, query, runs_on_loop):
    database_of(fixture_build, monkeypatch)
    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(), "headers": []}
    assert sql_on_loop.reads_only(scope, frozenset({"gap_board"})) is runs_on_loop


def test_pages_drawn_with_queries_on_the_loop_equal_those_drawn_on_the_pool(fixture_build, monkeypatch):
    paths = [
        "/agingkb/pages.json?_facet=type&_facet=verified",
        "/agingkb/footnotes.json?_search=inflammation",
        "/agingkb/trials.json?_sort_desc=n_randomised",
        "/agingkb/gap_tags.json?_facet=origin",
    ]
    monkeypatch.setenv(page_cache.BOUND_VARIABLE, "0")
    answers = {}
    for switch in ("1", "0"):
        monkeypatch.setenv(sql_on_loop.SWITCH_VARIABLE, switch)
        _, app = database_of(fixture_build, monkeypatch)
        answers[switch] = fetch_all(app, paths, concurrency=1, keep=lambda answer: (answer.status_code, answer.json()))
    for (status_on, on), (status_off, off) in zip(answers["1"], answers["0"], strict=True):
        assert status_on == status_off == 200
        for answer in (on, off):
            answer.pop("query_ms", None)
        assert on == off


def test_the_switch_turns_it_off(fixture_build, monkeypatch):
    monkeypatch.setenv(sql_on_loop.SWITCH_VARIABLE, "0")
    database, _ = database_of(fixture_build, monkeypatch)

    async def threads():
        return threading.get_ident(), await database.execute_fn(lambda connection: threading.get_ident())

    loop, ran = on_loop(threads)
    assert ran != loop


def test_the_budget_is_far_inside_every_time_limit():
    from agingkb_site.serve import SETTINGS

    assert sql_on_loop.BUDGET_MS * 10 <= min(SETTINGS["sql_time_limit_ms"], SETTINGS["facet_time_limit_ms"])

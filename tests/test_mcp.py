"""/-/mcp on a real `etl serve` of the shared wiki's build, driven by the
official `mcp` SDK's client: the handshake, the tool list, each kind of tool
answered from the real build with the file and line of every row, hostile
SQL refused, a slow query cut at the time limit, the per-client limit shared
with the web, and bad input answered with JSON-RPC errors while the server
goes on serving."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from pathlib import Path

import httpx
import pytest
from datasette.utils import tilde_encode
from mcp import Client
from mcp.shared.exceptions import MCPError
from ruamel.yaml import YAML

from agingkb_site.history import hidden_queries
from agingkb_site.serve import METADATA, SETTINGS, running_server
from etl.schema import load_schema

from .conftest import run_async

PAGE = "molecules/proteins/il-1ra"  # the page the issue asks about
HEAVY = "with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c"
BUILTIN = ["list_tables", "get_schema", "execute_sql", "search", "get_page"]
HOSTILE = [
    "insert into pages (page) values ('x')",
    "update pages set title = 'x'",
    "delete from gaps",
    "drop table pages",
    "create table x (y)",
    "with doomed as (select page from pages) delete from pages where page in (select page from doomed)",
    "attach database '/tmp/agingkb-elsewhere.db' as elsewhere",
    "select load_extension('/tmp/agingkb-extension')",
    "pragma writable_schema = 1",
    "pragma table_info(pages)",
    "select 1; drop table pages",
    "vacuum",
]


def metadata() -> dict:
    return YAML(typ="safe").load(METADATA.read_text(encoding="utf-8"))


def offered_queries(db) -> dict:
    """The stored queries the site offers: not those reading only empty history tables."""
    queries = metadata()["databases"]["agingkb"]["queries"]
    history = [name for name, table in load_schema().tables.items() if table.kind == "history"]
    empty = {name for name in history if not db.execute(f"select count(*) from [{name}]").fetchone()[0]}
    withheld = hidden_queries(queries, history, empty)
    return {name: query for name, query in queries.items() if name not in withheld}


def declared_tables(db) -> dict:
    """The tables metadata.yml shows, less the history tables a build without
    history leaves empty (the site hides those: agingkb_site/history.py)."""
    tables = metadata()["databases"]["agingkb"]["tables"]
    history = {name for name, table in load_schema().tables.items() if table.kind == "history"}
    empty = {name for name in history if not db.execute(f"select count(*) from [{name}]").fetchone()[0]}
    return {name: entry for name, entry in tables.items() if not entry.get("hidden") and name not in empty}


def call(url: str, tool: str, arguments: dict, mode: str = "legacy"):
    async def calling():
        async with Client(url + "/-/mcp", mode=mode) as client:
            return await client.call_tool(tool, arguments)

    return run_async(calling())


def refused_call(url: str, tool: str, arguments: dict) -> MCPError:
    """The JSON-RPC error a call is answered with (raised inside the client's task group)."""

    async def calling():
        async with Client(url + "/-/mcp", mode="legacy") as client:
            try:
                await client.call_tool(tool, arguments)
            except MCPError as error:
                return error
            raise AssertionError(f"{tool} {arguments} was answered, not refused")

    return run_async(calling())


def named_parameters(sql: str) -> set[str]:
    return set(re.findall(r"(?<!:):(\w+)", re.sub(r"'[^']*'", "", sql)))


@pytest.mark.parametrize("mode", ["legacy", "auto"])  # the initialize handshake, and 2026's discovery
def test_initialize_lists_every_tool_with_its_parameters(datasette_url, real_db, mode):
    async def listing():
        async with Client(datasette_url + "/-/mcp", mode=mode) as client:
            return client.server_info, client.instructions, await client.list_tools()

    server, instructions, listed = run_async(listing())
    assert server.name == "agingkb"
    assert "source_line" in instructions
    tools = {tool.name: tool for tool in listed.tools}
    queries = offered_queries(real_db)
    assert list(tools) == BUILTIN + list(queries)
    for name, query in queries.items():
        assert tools[name].description.startswith("Stored query: " + query["title"])
        assert set(tools[name].input_schema["properties"]) == named_parameters(query["sql"]), name
    assert all(tool.annotations.read_only_hint for tool in tools.values())
    assert tools["get_schema"].input_schema["properties"]["table"]["enum"] == list(declared_tables(real_db))


def test_get_page_gives_every_row_about_the_page_with_its_file_and_line(datasette_url, real_db):
    answer = call(datasette_url, "get_page", {"page": PAGE}).structured_content
    assert answer["url"] == f"{datasette_url}/agingkb/pages/{tilde_encode(PAGE)}"
    with_page = [
        table
        for (table,) in real_db.execute("select name from sqlite_master where type = 'table' and name not like '%fts%'")
        if "page" in [column[1] for column in real_db.execute(f"pragma table_info([{table}])")]
    ]
    expected = {
        table: count
        for table in with_page
        if (count := real_db.execute(f"select count(*) from [{table}] where page = ?", [PAGE]).fetchone()[0])
    }
    assert {table: found["total"] for table, found in answer["tables"].items()} == expected
    assert answer["tables"]["pages"]["rows"][0]["source_path"] == PAGE + ".md"
    for table in ("sections", "gaps", "footnotes", "status_assessments", "trial_mentions"):
        found = answer["tables"][table]
        assert found["shown"] == min(found["total"], 25) == len(found["rows"])
        keys = [c[1] for c in sorted(real_db.execute(f"pragma table_info([{table}])"), key=lambda c: c[5]) if c[5]]
        for row in found["rows"]:
            where = " and ".join(f"[{key}] = ?" for key in keys)
            stored = real_db.execute(
                f"select source_path, source_line from [{table}] where {where}", [row.get(k, PAGE) for k in keys]
            ).fetchone()
            assert (row["source_path"], row["source_line"]) == stored
            assert row["row_url"].startswith(f"{datasette_url}/agingkb/{table}/")
    # A row's URL is its page on the site, and the JSON of that row is the same row.
    gap = answer["tables"]["gaps"]["rows"][0]
    fetched = httpx.get(gap["row_url"] + ".json", params={"_shape": "objects"}).json()["rows"][0]
    assert (fetched["source_line"], fetched["claim"]) == (gap["source_line"], gap["claim"])


def test_a_page_that_does_not_exist_is_a_tool_error_naming_the_page_it_may_be(datasette_url):
    result = call(datasette_url, "get_page", {"page": PAGE.rsplit("/", 1)[-1]})
    assert result.is_error and result.structured_content["kind"] == "not-found"
    assert PAGE in result.structured_content["similar"]


def test_tables_schema_sql_and_a_stored_query_answer_from_the_build(datasette_url, real_db):
    tables = call(datasette_url, "list_tables", {}).structured_content["tables"]
    declared = declared_tables(real_db)
    assert [table["table"] for table in tables] == list(declared)
    for table in tables:
        assert table["description"] == declared[table["table"]]["description"]
        assert table["rows"] == real_db.execute(f"select count(*) from [{table['table']}]").fetchone()[0]
    schema = call(datasette_url, "get_schema", {"table": "gaps"}).structured_content
    assert [column["name"] for column in schema["columns"]] == [
        c[1] for c in real_db.execute("pragma table_info(gaps)")
    ]
    assert {c["name"]: c["description"] for c in schema["columns"]} == declared["gaps"]["columns"]
    counted = call(datasette_url, "execute_sql", {"sql": "select type, count(*) as n from pages group by type"})
    assert {row["type"]: row["n"] for row in counted.structured_content["rows"]} == dict(
        real_db.execute("select type, count(*) from pages group by type").fetchall()
    )
    query = metadata()["databases"]["agingkb"]["queries"]["gap_board"]
    arguments = {"tag": "gap/needs-replication", "type": "protein"}
    board = call(datasette_url, "gap_board", arguments).structured_content
    expected = real_db.execute(query["sql"], arguments).fetchall()[: SETTINGS["max_returned_rows"]]
    assert [tuple(row.values()) for row in board["rows"]] == expected and expected
    assert board["url"].startswith(f"{datasette_url}/agingkb/gap_board?")


def test_search_finds_rows_with_their_file_and_line(datasette_url, real_db):
    answer = call(datasette_url, "search", {"q": "anakinra", "limit": 3}).structured_content
    assert answer["tables"] and all(len(group["hits"]) <= 3 for group in answer["tables"])
    for group in answer["tables"]:
        matched = f"select count(*) from [{group['table']}_fts] where [{group['table']}_fts] match 'anakinra'"
        assert group["count"] == real_db.execute(matched).fetchone()[0]
        for hit in group["hits"]:
            where = " and ".join(f"[{key}] = ?" for key in hit["key"])
            line = real_db.execute(
                f"select source_line from [{group['table']}] where {where}", list(hit["key"].values())
            )
            assert hit["source_line"] == line.fetchone()[0]
            assert "[" in hit["snippet"] or "[" in hit["title"] or hit["title"]


def test_hostile_sql_is_refused_and_nothing_changes(datasette_url, real_build):
    out, _ = real_build
    before = hashlib.sha256((out / "agingkb.db").read_bytes()).hexdigest()
    for sql in HOSTILE:
        result = call(datasette_url, "execute_sql", {"sql": sql})
        assert result.is_error and result.structured_content["kind"] == "refused", sql
        assert (
            result.structured_content["error"].startswith("Refused: ") and "Nothing was run" in result.content[0].text
        )
    assert hashlib.sha256((out / "agingkb.db").read_bytes()).hexdigest() == before
    assert not Path("/tmp/agingkb-elsewhere.db").exists()


def test_a_slow_query_is_cut_at_the_time_limit(datasette_url):
    started = time.monotonic()
    result = call(datasette_url, "execute_sql", {"sql": HEAVY})
    took = time.monotonic() - started
    limit = SETTINGS["sql_time_limit_ms"] / 1000
    assert result.is_error and result.structured_content["kind"] == "time-limit"
    assert f"{limit:g} s time limit" in result.structured_content["error"]
    assert limit <= took < limit + 2


def test_the_per_client_limit_is_the_webs_and_says_when_to_retry(real_build, tmp_path):
    out, _ = real_build
    with running_server(
        out / "agingkb.db", tmp_path / "server.log", workers=1, limits={"client_rate": "3/minute"}
    ) as url:

        async def calls():
            async with Client(url + "/-/mcp", mode="legacy") as client:
                answers = [await client.call_tool("execute_sql", {"sql": "select 1 as one"}) for _ in range(4)]
                # Reading is not limited: the tool list and a page still answer.
                return answers, await client.list_tools(), await client.call_tool("get_page", {"page": PAGE})

        answers, listed, page = run_async(calls())
        web_sql = httpx.get(url + "/agingkb.json", params={"sql": "select 1"})
        reader = httpx.get(url + f"/agingkb/pages/{tilde_encode(PAGE)}")
    assert [answer.is_error for answer in answers] == [False, False, False, True]
    busy = answers[-1].structured_content
    assert busy["kind"] == "busy" and busy["retry_after_seconds"] >= 1
    assert f"try again in {busy['retry_after_seconds']} s" in answers[-1].content[0].text
    assert listed.tools and not page.is_error
    assert web_sql.status_code == 429, "MCP calls count against the same allowance as the web's SQL"
    assert reader.status_code == 200


def post(url: str, body: bytes) -> httpx.Response:
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    return httpx.post(url + "/-/mcp", content=body, headers=headers, timeout=10)


def test_bad_input_is_a_json_rpc_error_in_plain_words_and_the_server_goes_on(datasette_url):
    for body, code in [
        (b"{not json", -32700),
        (b"\xff\xfe", -32700),
        (b"[]", -32600),
        (b'{"jsonrpc": "2.0", "id": 1}', -32600),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_page", "arguments": 3}}',
            -32602,
        ),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": []}', -32602),
    ]:
        answer = post(datasette_url, body)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == code, body
        assert "pydantic" not in answer.text and "Traceback" not in answer.text
    assert post(datasette_url, b'{"jsonrpc":"2.0","id":2,"method":"no/such"}').json()["error"]["code"] == -32601
    assert httpx.get(datasette_url + "/-/mcp").status_code == 405  # no stream held open for a GET

    for tool, arguments, words in [
        ("no_such_tool", {}, "Unknown tool 'no_such_tool'. The tools are: list_tables"),
        ("execute_sql", {"sql": 3}, "'sql' must be a string, not an integer"),
        ("get_page", {"page": PAGE, "per_table": "all"}, "'per_table' must be an integer, not a string"),
        ("get_page", {}, "'page' is required"),
        ("search", {"q": "x", "tables": ["nonsense"]}, "'tables.0' must be one of: pages"),
        ("gap_board", {"tag": ["a"]}, "'tag' must be a string or a number, not a list"),
        ("list_tables", {"everything": True}, "there is no argument 'everything'"),
    ]:
        error = refused_call(datasette_url, tool, arguments)
        assert error.code == -32602 and words in error.message, error.message
        assert "pydantic" not in error.message
    assert call(datasette_url, "execute_sql", {"sql": "select count(*) as n from pages"}).structured_content["rows"]


def test_an_mcp_query_holds_the_webs_expensive_slot_and_readers_still_answer(real_build, tmp_path):
    """The gate is one per worker for the web and MCP: while an assistant's
    slow query holds the only slot, another assistant's query is busy and a
    browser's ?sql= gets 429, and a reader's row page answers at once."""
    out, _ = real_build
    limits = {"expensive_in_flight": 1, "expensive_queue": 0, "client_in_flight": 5, "client_rate": "1000/minute"}
    with running_server(out / "agingkb.db", tmp_path / "server.log", workers=1, limits=limits) as url:

        async def beside():
            async with Client(url + "/-/mcp", mode="legacy") as first, Client(url + "/-/mcp", mode="legacy") as second:
                slow = asyncio.create_task(first.call_tool("execute_sql", {"sql": HEAVY}))
                await asyncio.sleep(1.0)  # the slow query now holds the only slot
                busy = await second.call_tool("execute_sql", {"sql": "select 1"})
                async with httpx.AsyncClient(timeout=10) as web:
                    started = time.monotonic()
                    reader = await web.get(url + f"/agingkb/pages/{tilde_encode(PAGE)}")
                    read_in = time.monotonic() - started
                    web_sql = await web.get(url + "/agingkb.json", params={"sql": "select 1"})
                return await slow, busy, reader, read_in, web_sql

        slow, busy, reader, read_in, web_sql = run_async(beside())
    assert slow.structured_content["kind"] == "time-limit"
    assert busy.is_error and busy.structured_content["kind"] == "busy"
    assert web_sql.status_code == 429
    assert reader.status_code == 200 and read_in < 1.0

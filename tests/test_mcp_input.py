"""What the MCP endpoint refuses before anything runs, without a server:
SQL that is not one read-only query (security.read_only_refusal), and
bodies that are not one JSON-RPC message (mcp_server.envelope_problem),
each with a sentence that says why."""

import json

import pytest

from agingkb_site.mcp_server import envelope_problem
from agingkb_site.security import read_only_refusal


@pytest.mark.parametrize(
    "sql, reason",
    [
        ("insert into pages (page) values ('x')", "read-only"),
        ("with gone as (select 1) delete from gaps", "read-only"),
        ("replace into pages (page) values ('x')", "read-only"),
        ("drop table pages", "read-only"),
        ("attach database '/tmp/x.db' as x", "ATTACH"),
        ("select load_extension('/tmp/x')", "load_extension"),
        ("SELECT LOAD_EXTENSION ('/tmp/x')", "load_extension"),
        ("pragma table_info(pages)", "PRAGMA"),
        ("select 1; select 2", "one statement at a time"),
        ("  ", "no SQL"),
        ("explain delete from pages", "read-only"),
    ],
)
def test_what_is_not_one_read_only_query_is_refused_with_a_reason(sql, reason):
    assert reason in read_only_refusal(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "select 1",
        "select 1;",
        "select page from pages where body like '%drop table%' -- ; delete",
        "select replace(title, 'a', 'b') as [update] from pages /* ; */",
        'select count(*) as "delete" from gaps',
        "with t as (select 1 as x) select x from t",
        "select * from pragma_table_info('pages')",
        "explain query plan select * from pages",
    ],
)
def test_a_read_only_query_is_not_refused_for_words_in_strings_or_names(sql):
    assert read_only_refusal(sql) is None


@pytest.mark.parametrize(
    "body, code, words",
    [
        (b"{", -32700, "not JSON"),
        (b"\xff", -32700, "not JSON"),
        (b"[{}]", -32600, "a JSON object"),
        (b'{"id": 1, "method": "ping"}', -32600, '"jsonrpc" must be "2.0"'),
        (b'{"jsonrpc": "2.0", "id": 1}', -32600, 'needs a "method"'),
        (b'{"jsonrpc": "2.0", "id": 1, "method": 7}', -32600, '"method" must be a string'),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": 1}', -32602, '"params" must be an object'),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": 1}}', -32602, "tools/call takes"),
    ],
)
def test_a_body_that_is_no_json_rpc_message_is_answered_in_words(body, code, words):
    problem = envelope_problem(body)
    assert problem["error"]["code"] == code and words in problem["error"]["message"]
    sent = json.loads(body) if code != -32700 else None
    assert problem["id"] == (sent.get("id") if isinstance(sent, dict) else None)


def test_a_json_rpc_message_passes_to_the_sdk():
    assert envelope_problem(b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x"}}') is None
    assert envelope_problem(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}') is None
    assert envelope_problem(b'{"jsonrpc": "2.0", "id": "a", "result": {}}') is None

"""/llms.txt and /llms-full.txt on a real `etl serve` of the shared wiki's
build: Markdown in the llmstxt.org shape (one H1, a blockquote summary, H2
sections of links), naming every table with its key columns and row count,
every stored query, the MCP endpoint and what the data does not say; the
full text adds every column of every table with its description. What they
say is read from metadata.yml and the database, so both are compared here."""

from __future__ import annotations

import httpx
from markdown_it import MarkdownIt
from ruamel.yaml import YAML

from agingkb_site.serve import METADATA, SETTINGS, running_server

from .test_mcp import declared_tables, offered_queries


def metadata() -> dict:
    return YAML(typ="safe").load(METADATA.read_text(encoding="utf-8"))


def sections(text: str) -> dict[str, list]:
    """H2 heading -> the tokens under it; the H1 and blockquote under ''."""
    found, current = {"": []}, ""
    tokens = MarkdownIt().parse(text)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            current = tokens[index + 1].content
            found[current] = []
        found[current].append(token)
    return found


def links(tokens) -> dict[str, str]:
    """Link text -> href of every link in the tokens."""
    found = {}
    for token in tokens:
        children = token.children or []
        for index, child in enumerate(children):
            if child.type == "link_open":
                found[children[index + 1].content] = child.attrGet("href")
    return found


def test_llms_txt_names_every_table_and_query_and_how_to_ask(datasette_url, real_db):
    response = httpx.get(datasette_url + "/llms.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/markdown")
    text = response.text
    declared = metadata()
    tokens = MarkdownIt().parse(text)
    headings = [(token.tag, tokens[i + 1].content) for i, token in enumerate(tokens) if token.type == "heading_open"]
    assert headings[0] == ("h1", declared["title"]) and [tag for tag, _ in headings].count("h1") == 1
    assert tokens[3].type == "blockquote_open"  # the summary, right under the title
    found = sections(text)
    assert {"Tables", "Stored queries", "How to query", "What the data does not say", "Optional"} <= set(found)

    tables = declared_tables(real_db)
    linked = links(found["Tables"])
    assert list(linked) == list(tables)
    lines = {line.split("]", 1)[0][3:]: line for line in text.splitlines() if line.startswith("- [")}
    for name in tables:
        assert linked[name] == f"{datasette_url}/agingkb/{name}"
        keys = [c[1] for c in sorted(real_db.execute(f"pragma table_info([{name}])"), key=lambda c: c[5]) if c[5]]
        rows = real_db.execute(f"select count(*) from [{name}]").fetchone()[0]
        assert f"key: {', '.join(keys)}" in lines[name] and f"({rows:,} row" in lines[name], name
    assert list(links(found["Stored queries"])) == list(offered_queries(real_db))

    how = links(found["How to query"])
    assert how["MCP endpoint"] == f"{datasette_url}/-/mcp"
    assert f"{SETTINGS['sql_time_limit_ms'] / 1000:g} s" in text and "year_origin" in text and "verified" in text
    snapshot = real_db.execute("select snapshot, dataset_version from snapshots").fetchone()
    assert f"snapshot {snapshot[0]}" in text and f"version {snapshot[1]}" in text and "CC BY 4.0" in text
    # Every link leads somewhere on the site (the MCP endpoint answers a GET with 405: POST only).
    for href in [*linked.values(), *how.values(), *links(found["Optional"]).values()][::7]:
        assert httpx.get(href, timeout=30).status_code in (200, 405), href


def test_llms_full_txt_adds_every_column_with_its_description(datasette_url, real_db):
    full = httpx.get(datasette_url + "/llms-full.txt").text
    short = httpx.get(datasette_url + "/llms.txt").text
    assert full.startswith(short.split("## Optional")[0])
    tables = metadata()["databases"]["agingkb"]["tables"]
    columns = sections(full)["Columns"]
    named = [
        columns[i + 1].content for i, token in enumerate(columns) if token.type == "heading_open" and token.tag == "h3"
    ]
    assert named == list(declared_tables(real_db))
    for name in named:
        for column, description in tables[name]["columns"].items():
            assert f"- `{column}`: {' '.join(description.split())}" in full, (name, column)


def test_behind_a_declared_proxy_links_follow_its_scheme(real_build, tmp_path):
    """The released app's proxy ends TLS: where it is declared, its
    X-Forwarded-Proto decides http or https in the links; elsewhere the
    header is not believed. (The requests come from 127.0.0.2: uvicorn
    itself believes forwarded headers from 127.0.0.1 alone.)"""
    out, _ = real_build
    https = {"X-Forwarded-Proto": "https", "Host": "agingkb.example"}

    def fetch(limits: dict, log: str) -> str:
        with (
            running_server(out / "agingkb.db", tmp_path / log, workers=1, limits=limits) as url,
            httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30) as client,
        ):
            return client.get(url + "/llms.txt", headers=https).text

    proxied = fetch({"proxy_client_header": "Fly-Client-IP"}, "proxied.log")
    direct = fetch({}, "direct.log")
    assert "(https://agingkb.example/-/mcp)" in proxied and "http://" not in proxied.split("## Tables")[1]
    assert "(http://agingkb.example/-/mcp)" in direct

"""What a reader reads on the site names the dataset, never its machinery:
SQLite's statistics table is not listed among the tables, every stored
query's tab carries its title (not its SQL), and no page or description
names a source file or function of the code. On a served fixture build."""

import html as html_lib
import re
import sqlite3

import httpx
import pytest

from etl.release.metadata import datasette_metadata
from etl.schema import load_schema

# A file of the code, a function written as a call (fts_query(), fts_query(:q)),
# a package of the site or the ETL.
INTERNAL = re.compile(r"[\w/.-]+\.py\b|\b\w+\(\)|\b[a-z]+_[a-z_]+\(|\bplugins/|\bagingkb_site\b|\betl/\w")
TAB_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def visible_text(page: str) -> str:
    """The text a reader sees: no scripts, styles, comments or SQL."""
    page = re.sub(r"<(script|style|textarea|pre)\b.*?</\1>|<!--.*?-->", " ", page, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def described(metadata: dict):
    """Every title and description metadata.yml gives a reader."""
    database = metadata["databases"]["agingkb"]
    yield metadata["title"]
    yield database["description"]
    for entry in [*database["tables"].values(), *database["queries"].values()]:
        yield from (entry.get(key) or "" for key in ("title", "description"))
        yield from (entry.get("columns") or {}).values()


def test_no_description_names_the_code(schema):
    named = [text for text in described(datasette_metadata(schema)) if INTERNAL.search(text)]
    assert named == []


def test_every_stored_query_has_a_title(schema):
    queries = datasette_metadata(schema)["databases"]["agingkb"]["queries"]
    assert queries and all((query.get("title") or "").strip() for query in queries.values())


@pytest.fixture(scope="module")
def metadata(schema):
    return datasette_metadata(schema)


def _history_only_queries(metadata) -> set[str]:
    """Stored queries that read a history table: a build without history does not offer them."""
    history = [name for name, table in load_schema().tables.items() if table.kind == "history"]
    queries = metadata["databases"]["agingkb"]["queries"]
    return {name for name, q in queries.items() if any(re.search(rf"\b{t}\b", q["sql"]) for t in history)}


def test_a_stored_query_tab_is_its_title(fixture_url, metadata):
    shown = 0
    for name, query in metadata["databases"]["agingkb"]["queries"].items():
        page = httpx.get(f"{fixture_url}/agingkb/{name}", timeout=30)
        if page.status_code == 403 and name in _history_only_queries(metadata):
            continue
        assert page.status_code == 200, name
        shown += 1
        assert html_lib.unescape(TAB_TITLE.search(page.text).group(1)).strip() == f"{query['title']} · agingkb", name
    assert shown >= 10


def test_sqlite_statistics_are_not_listed_among_the_tables(fixture_url, fixture_build):
    out, _ = fixture_build
    db = sqlite3.connect(out / "agingkb.db")
    assert db.execute("select count(*) from sqlite_stat1").fetchone()[0] > 0  # the build's ANALYZE made it
    home = httpx.get(f"{fixture_url}/", timeout=30).text
    assert 'data-table="pages"' in home and "sqlite_stat1" not in home
    database = httpx.get(f"{fixture_url}/agingkb", timeout=30).text
    assert 'href="/agingkb/pages"' in database and 'href="/agingkb/sqlite_stat1"' not in database


def reader_paths(metadata: dict) -> list[str]:
    tables = [name for name, entry in metadata["databases"]["agingkb"]["tables"].items() if not entry.get("hidden")]
    queries = list(metadata["databases"]["agingkb"]["queries"])
    return [
        "/",
        "/agingkb",
        "/-/search",
        "/-/search?q=demo",
        '/-/search?q="demo',
        "/-/charts",
        "/-/forest-plot",
        "/-/what-changed",
        "/agingkb/search_pages?q=",
        "/agingkb/pages?_search=%22",
        *(f"/agingkb/{table}" for table in tables),
        *(f"/agingkb/{query}" for query in queries),
    ]


def test_no_page_names_the_code(fixture_url, metadata):
    named = {}
    for path in reader_paths(metadata):
        response = httpx.get(fixture_url + path, timeout=30)
        if response.status_code == 403 and path.rsplit("/", 1)[-1] in _history_only_queries(metadata):
            continue  # not offered by a build without history
        assert response.status_code == 200, path
        found = set(INTERNAL.findall(visible_text(response.text)))
        if found:
            named[path] = sorted(found)
    assert named == {}

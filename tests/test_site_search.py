"""The site-wide search (/-/search) a reader can scan, on the real wiki's
build served on loopback: groups in a fixed order, each ranked by FTS5 rank
with at most HITS_PER_GROUP hits (a title, where it is, a snippet with the
match marked, a link to the row), a "more" link to the table's own search,
no empty group, and a page a few screens tall in Chromium at 1366 px. The
snippet's escaping and the order of groups are also checked without a server."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from datasette.utils import tilde_encode

from agingkb_site import site_search
from agingkb_site.search_hints import fts_query

from .conftest import ARTIFACTS

SCREEN = 900  # the viewport's height: a "screen"
# A common word's page at 1366 px: 5 groups of at most 5 hits, each hit a title
# line and a snippet of at most three lines (about 120 px), is about 3,300 px at
# the most; measured 2,105 px for "senescence" on the shared wiki (the plugin's
# page was 94,517 px). Four screens leaves room for longer titles, not for a
# page that shows whole rows again.
MAX_SCREENS = 4
COMMON_WORDS = ["senescence", "anakinra"]
FIRST = ("pages", "sections", "footnotes", "works", "trials", "trial_outcomes")  # the order the issue asks for


def expected_order(schema) -> list[str]:
    """pages, sections, footnotes, trials, trial_outcomes, then the other
    full-text tables in the schema's order."""
    searchable = [name for name, table in schema.tables.items() if table.fts]
    first = [name for name in FIRST if name in searchable]
    return first + [name for name in searchable if name not in first]


def matches(db, table: str, text: str) -> int:
    sql = f"select count(*) from [{table}_fts] where [{table}_fts] match ?"
    return db.execute(sql, [fts_query(text)]).fetchone()[0]


def best_rows(db, table: str, keys: list[str], text: str) -> list[str]:
    """The row URLs of the table's best matches, by FTS5 rank."""
    columns = ", ".join(f"t.[{key}]" for key in keys)
    rows = db.execute(
        f"select {columns} from [{table}_fts] join [{table}] t on t.rowid = [{table}_fts].rowid "
        f"where [{table}_fts] match ? order by [{table}_fts].rank limit ?",
        [fts_query(text), site_search.HITS_PER_GROUP],
    ).fetchall()
    return [f"/agingkb/{table}/" + ",".join(tilde_encode(str(part)) for part in row) for row in rows]


def read_groups(page) -> list[dict]:
    return page.evaluate(
        """() => [...document.querySelectorAll('section.search-group')].map(s => ({
            table: s.id.replace('found-', ''),
            heading: s.querySelector('h2').textContent.trim(),
            hits: [...s.querySelectorAll('ol.hits > li > a.hit-title')].map(a => a.getAttribute('href')),
            marked: s.querySelectorAll('mark').length,
            more: s.querySelector('p.more a') ? s.querySelector('p.more a').getAttribute('href') : null,
            moreText: s.querySelector('p.more a') ? s.querySelector('p.more a').textContent : null,
        }))"""
    )


@pytest.mark.parametrize("text", COMMON_WORDS)
def test_a_common_word_fits_in_a_few_screens_in_order(browser, datasette_url, real_db, schema, text):
    page = browser.new_page(viewport={"width": 1366, "height": SCREEN})
    assert page.goto(f"{datasette_url}/-/search?q={text}").status == 200
    height = page.evaluate("document.documentElement.scrollHeight")
    groups = read_groups(page)
    body = page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / f"search-{text}.png"), full_page=True)
    page.close()
    print(f"/-/search?q={text}: {height} px at 1366 px wide")
    assert height < MAX_SCREENS * SCREEN, height
    found = [table for table in expected_order(schema) if matches(real_db, table, text)]
    assert len(found) >= 3  # a common word: the order below is a real test
    assert [group["table"] for group in groups] == found  # empty groups left out, the rest in order
    assert [group["heading"] for group in groups] == [schema.tables[table].title for table in found]
    assert "No results" not in body
    for group in groups:
        table = group["table"]
        keys = schema.tables[table].primary_key
        assert group["hits"] == best_rows(real_db, table, keys, text), table  # ranked, at most N
        assert group["marked"] >= 1, table
        count = matches(real_db, table, text)
        if count > site_search.HITS_PER_GROUP:
            link = urlsplit(group["more"])
            assert link.path == f"/agingkb/{table}" and parse_qs(link.query)["_search"] == [text]
            assert group["moreText"] == f"{count - site_search.HITS_PER_GROUP:,} more in {group['heading'].lower()}"
        else:
            assert group["more"] is None


def test_more_leads_to_the_same_matches_in_the_table(datasette_url, real_db):
    text = "senescence"
    html = httpx.get(f"{datasette_url}/-/search", params={"q": text}, timeout=60).text
    start = html.index('id="found-sections"')
    href = html[html.index('<p class="more"><a href="', start) + 25 :].split('"', 1)[0].replace("&amp;", "&")
    table = httpx.get(f"{datasette_url}{href.replace('/agingkb/sections?', '/agingkb/sections.json?')}", timeout=60)
    assert table.json()["filtered_table_rows_count"] == matches(real_db, "sections", text)


def test_an_empty_search_says_how_to_search(fixture_url):
    for params in ({}, {"q": ""}, {"q": '""'}):
        html = httpx.get(f"{fixture_url}/-/search", params=params, timeout=30).text
        assert 'class="search-help"' in html and "search-group" not in html
        assert "use quotes for a phrase" in html and "a trailing * for a prefix" in html
        assert 'href="/agingkb/pages"' in html  # each searched table, to search on its own
        assert "whole table" not in html  # a table search's hint is not this page's
    assert "That search holds no words" in html  # the last: quotes only


def test_a_search_that_matches_nothing_says_so_once(fixture_url):
    html = httpx.get(f"{fixture_url}/-/search", params={"q": "zzqqxxnotaword"}, timeout=30).text
    assert html.count('class="search-none"') == 1 and "search-group" not in html and "No results" not in html


def test_a_malformed_search_is_searched_as_words_with_a_hint(fixture_url):
    html = httpx.get(f"{fixture_url}/-/search", params={"q": '"demo'}, timeout=30).text
    assert "could not be read as a search expression" in html and 'class="search-group"' in html


# --- without a server ----------------------------------------------------------


def test_a_snippet_is_escaped_and_only_matches_are_marked():
    o, c = site_search.OPEN, site_search.CLOSE
    html = str(site_search.snippet_html(f"<script>x</script> [[pages/a|the {o}page{c}]][^1] **{o}bold{c}** {o}stray"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<mark>") == 2 and html.count("</mark>") == 2
    assert "the <mark>page</mark>" in html and "[[" not in html and "[^1]" not in html and "**" not in html
    assert o not in html and c not in html


def test_groups_come_in_the_declared_order_then_the_schemas(schema):
    # Declared in reverse: the first groups do not depend on the order of the metadata.
    tables = {name: {"fts_table": f"{name}_fts"} if t.fts else {} for name, t in reversed(schema.tables.items())}
    ordered = site_search.ordered_tables(tables)
    assert ordered[:5] == ["pages", "sections", "footnotes", "trials", "trial_outcomes"]
    assert ordered[5:] == [name for name, entry in tables.items() if entry and name not in ordered[:5]]
    assert set(ordered) == {name for name, table in schema.tables.items() if table.fts}

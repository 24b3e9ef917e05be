"""Search never answers with an SQLite message: the ranked search queries,
each table's search box and the site-wide search, with empty, quote-only and
malformed text, on a served fixture build."""

import re
import sqlite3

import httpx
import pytest

from agingkb_site import search_hints

SEARCH_QUERIES = ["search_pages", "search_sections", "search_footnotes", "search_trials", "search_trial_outcomes"]
ERROR_MARKERS = re.compile(
    r'class="message-error"|Invalid SQL|fts5:|syntax error|unterminated string|no such column', re.I
)


@pytest.mark.parametrize(
    "text",
    ["", "   ", '"', '""', '"unbalanced', "OR", "a AND", "NOT", "NEAR(", "*", "(", "x:y", "kinase OR", "^", '"a" "b'],
)
def test_fts_query_never_fails_in_sqlite(text):
    db = sqlite3.connect(":memory:")
    db.execute("create virtual table t using fts5(body)")
    db.execute("insert into t values ('demo kinase phosphorylates a substrate')")
    db.execute("select count(*) from t where t match ?", [search_hints.fts_query(text)]).fetchall()


def test_fts_query_keeps_valid_syntax_and_reads_the_rest_as_words():
    assert search_hints.fts_query("kinase OR substrate") == "kinase OR substrate"
    assert search_hints.fts_query('"demo kinase"') == '"demo kinase"'
    assert search_hints.fts_query("kin*") == "kin*"
    assert search_hints.fts_query('"demo kinase') == '"demo kinase"'  # closed, as a phrase
    assert search_hints.fts_query("OR") == '"OR"'
    assert search_hints.fts_query("") == '""'


@pytest.mark.parametrize("name", SEARCH_QUERIES)
def test_a_search_query_opened_as_linked_shows_the_form_and_how_to_search(fixture_url, name):
    for url in (f"{fixture_url}/agingkb/{name}", f"{fixture_url}/agingkb/{name}?q="):
        response = httpx.get(url)
        assert response.status_code == 200, url
        assert not ERROR_MARKERS.search(response.text), url
        assert 'name="q"' in response.text and "Type one or more words to search for" in response.text


@pytest.mark.parametrize("text", ['"unbalanced', "OR", "NEAR(", "a AND"])
def test_a_malformed_search_gets_a_plain_language_hint(fixture_url, text):
    response = httpx.get(f"{fixture_url}/agingkb/search_pages", params={"q": text})
    assert response.status_code == 200
    assert not ERROR_MARKERS.search(response.text)
    assert "could not be read as a search expression" in response.text


def test_a_valid_search_finds_rows_without_a_hint(fixture_url):
    response = httpx.get(f"{fixture_url}/agingkb/search_pages.json", params={"q": "demo", "_shape": "array"})
    assert response.status_code == 200 and len(response.json()) > 0
    page = httpx.get(f"{fixture_url}/agingkb/search_pages", params={"q": "demo"}).text
    assert "search-hint" not in page


@pytest.mark.parametrize("text", ["", " ", '"', '"""'])
def test_a_table_search_with_no_words_shows_the_table(fixture_url, text):
    whole = httpx.get(f"{fixture_url}/agingkb/pages.json", params={"_shape": "array", "_size": "max"}).json()
    response = httpx.get(f"{fixture_url}/agingkb/pages", params={"_search": text})
    assert response.status_code == 200 and not ERROR_MARKERS.search(response.text)
    searched = httpx.get(
        f"{fixture_url}/agingkb/pages.json", params={"_search": text, "_shape": "array", "_size": "max"}
    )
    assert searched.status_code == 200 and len(searched.json()) == len(whole)
    if text.strip():
        assert "That search holds no words" in response.text


def test_a_raw_table_search_that_is_not_valid_is_searched_as_words(fixture_url):
    response = httpx.get(f"{fixture_url}/agingkb/pages", params={"_search": "demo OR", "_searchmode": "raw"})
    assert response.status_code == 200 and not ERROR_MARKERS.search(response.text)
    assert "could not be read as a search expression" in response.text
    valid = httpx.get(
        f"{fixture_url}/agingkb/pages.json",
        params={"_search": "demo OR kinase", "_searchmode": "raw", "_shape": "array"},
    )
    assert valid.status_code == 200 and len(valid.json()) > 0


@pytest.mark.parametrize("text", ["", '"', '""'])
def test_site_wide_search_with_no_words_shows_the_form(fixture_url, text):
    response = httpx.get(f"{fixture_url}/-/search", params={"q": text})
    assert response.status_code == 200 and not ERROR_MARKERS.search(response.text)
    assert 'value=""' in response.text  # the form, empty: nothing is searched

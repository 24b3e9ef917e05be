"""The site shows the history where the build has it and nowhere where it
has not (agingkb_site/history.py). Three builds of one small wiki, each
served by a real Datasette: a plain build (no history: the tables empty,
so hidden, and no link to them), a build compared with the one before
(`--previous`: changes and gap events, no commits), and `etl history` of a
git repository of two commits (every history table filled)."""

import re

import httpx
import pytest

from etl.options import BuildOptions
from etl.pipeline.build import build

from .conftest import fixture_repository, git, history_build, served

KINASE = "molecules/proteins/demo-kinase.md"
KINASE_ROW = "/agingkb/pages/molecules~2Fproteins~2Fdemo-kinase"
HISTORY_TABLES = ("commits", "changes", "page_history", "gap_events")
SEARCHED_HISTORY = ("commits", "changes", "gap_events")  # the history tables with full-text search
HISTORY_QUERIES = ("grades_upgraded", "gaps_closed_recently", "search_commits", "search_changes")
UPGRADE = ("| Replicated in humans? | in-progress — a second trial runs |", "| Replicated in humans? | yes — it did |")


UNSOURCED = "- A claim with no source at all #gap/unsourced\n"


def replicate_the_kinase(wiki):
    """A grade upgraded and a gap tag closed: a row for each history table."""
    page = wiki / KINASE
    text = page.read_text()
    assert UPGRADE[0] in text and UNSOURCED in text
    page.write_text(text.replace(*UPGRADE, 1).replace(UNSOURCED, "", 1))


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """URL per build: plain, compared with the previous build, history."""
    scratch = tmp_path_factory.mktemp("history-site")
    wiki = fixture_repository(scratch)
    build(wiki, scratch / "plain", options=BuildOptions(jobs=1))
    replicate_the_kinase(wiki)
    git(wiki, "commit", "-q", "-am", "The kinase replicated")
    build(wiki, scratch / "compared", options=BuildOptions(jobs=1), previous=scratch / "plain")
    history_build(wiki, scratch / "history")
    with (
        served(scratch / "plain" / "agingkb.db", scratch / "plain.log") as plain,
        served(scratch / "compared" / "agingkb.db", scratch / "compared.log") as compared,
        served(scratch / "history" / "agingkb.db", scratch / "history.log") as history,
    ):
        yield {"plain": plain, "compared": compared, "history": history}


def home_tables(url) -> set[str]:
    return set(re.findall(r'class="count" data-table="(\w+)"', httpx.get(url + "/", timeout=30).text))


def database_page_tables(url) -> set[str]:
    return set(re.findall(r'<h3><a href="/agingkb/(\w+)"', httpx.get(url + "/agingkb", timeout=30).text))


def searched_tables(url) -> set[str]:
    """The tables /-/search searches, as its empty page lists them."""
    html = httpx.get(url + "/-/search", timeout=30).text
    help_text = html.split('class="search-help"', 1)[1].split("</div>", 1)[0]
    return set(re.findall(r'<a href="/agingkb/(\w+)">', help_text))


def what_changed_links(html: str) -> int:
    return html.count('href="/-/what-changed"')


def test_a_build_without_history_hides_it(sites):
    url = sites["plain"]
    home = httpx.get(url + "/", timeout=30).text
    tables = home_tables(url)
    assert "pages" in tables and "status_assessments" in tables
    assert tables.isdisjoint(HISTORY_TABLES)
    assert what_changed_links(home) == 0  # neither the home page's line nor the footer
    row = httpx.get(url + KINASE_ROW, timeout=30).text
    assert what_changed_links(row) == 0
    assert 'id="history"' not in row and 'href="#history"' not in row
    assert 'id="evidence-grades"' in row  # the rest of the page is there
    listed = database_page_tables(url)
    assert "pages" in listed and listed.isdisjoint(HISTORY_TABLES)
    searched = searched_tables(url)
    assert "pages" in searched and searched.isdisjoint(SEARCHED_HISTORY)
    database = httpx.get(url + "/agingkb", timeout=30).text
    for name in HISTORY_QUERIES:
        assert f'href="/agingkb/{name}"' not in database
        assert httpx.get(f"{url}/agingkb/{name}", timeout=30).status_code == 403
    assert 'href="/agingkb/gap_board"' in database  # the other stored queries stay
    # Opened directly, the page says there is no history, and how to build one.
    direct = httpx.get(url + "/-/what-changed", timeout=30)
    assert direct.status_code == 200 and "This build has no history" in direct.text


def test_a_build_with_history_shows_it(sites):
    url = sites["history"]
    home = httpx.get(url + "/", timeout=30).text
    assert set(HISTORY_TABLES) <= home_tables(url)
    assert re.search(r'data-table="commits">2<', home)
    assert what_changed_links(home) == 2  # the home page's line and the footer
    row = httpx.get(url + KINASE_ROW, timeout=30).text
    assert what_changed_links(row) == 1
    assert 'href="#history"' in row and "The kinase replicated" in row
    assert set(HISTORY_TABLES) <= database_page_tables(url)
    assert set(SEARCHED_HISTORY) <= searched_tables(url)
    upgraded = httpx.get(url + "/agingkb/grades_upgraded.json?_shape=array", timeout=30).json()
    assert [(r["page"], r["old_status"], r["new_status"]) for r in upgraded] == [
        ("molecules/proteins/demo-kinase", "in-progress", "yes")
    ]
    assert "Evidence grades changed per week" in httpx.get(url + "/-/what-changed", timeout=30).text


def test_a_build_compared_with_the_previous_shows_its_changes_only(sites):
    """changes and gap_events filled, commits and page_history empty: the
    What-changed link and the changes are there, the commits and the page's
    History section are not."""
    url = sites["compared"]
    tables = home_tables(url)
    assert {"changes", "gap_events"} <= tables and tables.isdisjoint({"commits", "page_history"})
    home = httpx.get(url + "/", timeout=30).text
    assert what_changed_links(home) == 2
    row = httpx.get(url + KINASE_ROW, timeout=30).text
    assert 'id="history"' not in row
    assert httpx.get(url + "/agingkb/grades_upgraded", timeout=30).status_code == 200  # it reads changes
    assert httpx.get(url + "/agingkb/search_commits", timeout=30).status_code == 403
    changes = httpx.get(url + "/-/what-changed", timeout=30).text
    assert "What changed since the previous release" in changes

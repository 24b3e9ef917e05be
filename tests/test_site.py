"""The reader's site, served by a real `datasette serve` on loopback: safe
serving (headers, limits, no writes, no off-site redirect, robots), reading
(rendered bodies, home page, search, stored queries), and a real headless
Chromium driving it. Screenshots go to test-artifacts/."""

import re
import sqlite3
import time

import httpx
import pytest

from etl.options import BuildOptions
from etl.pipeline.build import build

from .conftest import ARTIFACTS, REAL_WIKI, ROOT, served

HOSTILE_WIKI = ROOT / "tests" / "fixtures" / "hostile_wiki"


# --- safe serving ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/agingkb",
        "/agingkb/pages",
        "/agingkb/gap_board",
        "/agingkb.json?sql=select+1",
        "/-/forest-plot",
        "/-/charts",
    ],
)
def test_security_headers_on_every_kind_of_page(datasette_url, path):
    response = httpx.get(datasette_url + path, timeout=30)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy and "default-src 'self'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["/\\example.com/", "//example.com/", "/%5Cexample.com/", "/\\example.com"])
def test_no_redirect_leaves_the_site(datasette_url, path):
    response = httpx.get(datasette_url + path, follow_redirects=False, timeout=30)
    location = response.headers.get("location", "")
    assert not (response.is_redirect and re.match(r"^(?:[a-z]+:)?[/\\]{2}|^/\\", location)), (
        response.status_code,
        location,
    )
    assert response.status_code == 404


def test_a_huge_string_fails_fast_instead_of_eating_memory(datasette_url):
    started = time.monotonic()
    response = httpx.get(
        datasette_url + "/agingkb.json", params={"sql": "select length(hex(zeroblob(2e8)))"}, timeout=60
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert "too big" in response.json()["error"]
    print(f"zeroblob(2e8) refused in {elapsed * 1000:.0f} ms")


@pytest.mark.parametrize(
    "sql",
    [
        "insert into pages (page) values ('x')",
        "update pages set title = 'x'",
        "delete from gaps",
        "drop table pages",
        "attach database '/tmp/other.db' as other",
        "pragma writable_schema = on",
        "create table x (y)",
    ],
)
def test_no_writes_or_attach_through_sql(datasette_url, sql):
    response = httpx.get(datasette_url + "/agingkb.json", params={"sql": sql}, timeout=30)
    assert response.status_code == 400, response.text[:300]


def test_limits_are_in_force(datasette_url):
    settings = httpx.get(datasette_url + "/-/settings.json").json()
    assert (settings["sql_time_limit_ms"], settings["max_returned_rows"], settings["facet_time_limit_ms"]) == (
        3000,
        1000,
        1000,
    )
    databases = httpx.get(datasette_url + "/-/databases.json").json()
    assert [d["is_mutable"] for d in databases if d["name"] == "agingkb"] == [False]
    big = httpx.get(datasette_url + "/agingkb.json", params={"sql": "select * from links"}, timeout=30).json()
    assert len(big["rows"]) == 1000 and big["truncated"] is True
    slow = httpx.get(
        datasette_url + "/agingkb.json",
        params={"sql": "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r"},
        timeout=60,
    )
    assert slow.status_code == 400 and "interrupted" in slow.text.lower()


def test_robots_policy(datasette_url):
    robots = httpx.get(datasette_url + "/robots.txt").text
    assert "User-agent: *" in robots and "Disallow: /agingkb?sql=" in robots and "Disallow: /*.csv" in robots


# --- reading --------------------------------------------------------------


def test_home_page_says_what_version_and_how_to_cite(datasette_url, real_build):
    html = httpx.get(datasette_url + "/").text
    db = sqlite3.connect(real_build[0] / "agingkb.db")
    snapshot = db.execute("select snapshot, upstream_commit, commit_source, commit_statement from snapshots").fetchone()
    assert snapshot[0] in html and snapshot[1][:12] in html
    assert html.count(snapshot[3]) == 2  # the release line and how to cite
    if not (REAL_WIKI / ".git").exists():  # a plain folder: the declared pin, said to be unchecked
        assert snapshot[2] == "declared" and snapshot[3] == f"declared commit {snapshot[1][:12]}, not verified"
    assert re.search(r'class="version">\d+\.\d+\.\d+(?:\+[0-9a-f]+)?<', html)
    pages = db.execute("select count(*) from pages").fetchone()[0]
    assert f'data-table="pages">{pages:,}<' in html
    assert "CC BY 4.0" in html and "Joey Adams" in html and "How to cite" in html


@pytest.mark.parametrize(
    "path",
    [
        "/agingkb/gap_board",
        "/agingkb?sql=select+1",
        "/agingkb/pages/molecules~2Fproteins~2Fil-1ra",
        "/-/search?q=anakinra",
    ],
)
def test_licence_and_source_on_every_page(datasette_url, path):
    footer = httpx.get(datasette_url + path, timeout=30).text.split('<footer class="ft">', 1)[1]
    assert "CC BY 4.0" in footer and "jadams5/aging_wiki" in footer


def test_stored_queries_for_readers(datasette_url, real_db):
    def rows(name, **params):
        response = httpx.get(f"{datasette_url}/agingkb/{name}.json", params={"_shape": "objects", **params}, timeout=30)
        assert response.status_code == 200, response.text[:300]
        return response.json()["rows"]

    board = rows("gap_board", tag="gap/needs-replication", type="protein")
    assert (
        board and {r["tag"] for r in board} == {"gap/needs-replication"} and {r["type"] for r in board} == {"protein"}
    )
    assert any(r["page"] == "molecules/proteins/il-1ra" and r["claim"] for r in board)
    entity = rows("everything_about_a_page", page="molecules/proteins/il-1ra")
    kinds = {r["kind"] for r in entity}
    assert {"identifier", "relation", "gap", "footnote", "trial"} <= kinds
    assert any(r["kind"] == "identifier" and r["value"] == "P18510" for r in entity)
    retracted = rows("retracted_citations_still_cited")
    cited = real_db.execute(
        "select f.page, f.label from footnotes f join works w on w.work = f.work where w.retracted = 1"
    ).fetchall()
    assert cited and sorted((r["page"], r["label"]) for r in retracted) == sorted(cited)
    assert ("molecules/compounds/dihexa", "benoist2014-retracted") in cited
    ranked = rows("search_pages", q="anakinra")
    assert ranked[0]["page"] == "molecules/compounds/anakinra"
    assert [r["rank"] for r in ranked] == sorted(r["rank"] for r in ranked)  # best (lowest bm25) first
    assert any(r["trial"] for r in rows("search_trials", q="anakinra"))
    phrase = rows("search_footnotes", q='"heart failure"')  # a phrase: both words, side by side
    assert phrase and all("[heart" in r["matched"].lower() for r in phrase)  # each snippet marks its match
    unverified = rows("unverified_pages_and_what_they_cite")
    assert unverified and all(r["verified"] in (0, None) for r in unverified)


def test_json_array_facets(datasette_url):
    data = httpx.get(datasette_url + "/agingkb/pages.json", params={"_facet_array": "aliases", "_size": "0"}).json()
    assert data["facet_results"]["aliases"]["results"]
    studies = httpx.get(
        datasette_url + "/agingkb/studies.json", params={"_size": "0", "_facet_array": "authors"}
    ).json()
    assert studies["facet_results"]["authors"]["results"] and "year" in studies["facet_results"]
    # free-text lists (nearly every value distinct) are not default facets
    assert not {"key_findings"} & set(
        httpx.get(datasette_url + "/agingkb/studies.json", params={"_size": "0"}).json()["facet_results"]
    )


# --- in a real browser ------------------------------------------------------


def test_a_reader_clicks_a_facet_searches_opens_a_page_follows_a_wikilink_downloads_csv(
    browser, datasette_url, real_build, tmp_path
):
    db = sqlite3.connect(real_build[0] / "agingkb.db")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(datasette_url + "/")
    page.screenshot(path=str(ARTIFACTS / "home.png"))
    page.click("table.row-counts a:text-is('pages')")
    page.wait_for_url("**/agingkb/pages")
    # the type facet: click 'protein'
    assert page.locator("details.column-descriptions-box summary").inner_text().startswith("What each column holds")
    assert page.locator("th[data-column=verified]").get_attribute("title").startswith("Frontmatter verified flag")
    page.click(".facet-info[data-column=type] a:has-text('protein')")
    page.wait_for_url("**type=protein**")
    proteins = db.execute("select count(*) from pages where type = 'protein'").fetchone()[0]
    assert f"{proteins:,} row" in page.inner_text("h3") or f"{proteins} row" in page.inner_text("h3")
    page.screenshot(path=str(ARTIFACTS / "facet-protein.png"))
    # full-text search within the table
    page.fill("input#_search", "interleukin-1 receptor antagonist")
    page.press("input#_search", "Enter")
    page.wait_for_url("**_search=**")
    assert page.locator("table.rows-and-columns tbody tr").count() >= 1
    assert "il-1ra" in page.inner_text("table.rows-and-columns")
    # open the IL-1Ra row and read its rendered body
    page.goto(datasette_url + "/agingkb/pages/molecules~2Fproteins~2Fil-1ra")
    body = page.locator("article.page-body")
    assert body.locator("h2:text('Identity')").count() == 1 and body.locator("table").count() >= 1
    assert body.locator("sup.footnote-ref").count() >= 7
    page.screenshot(path=str(ARTIFACTS / "page-il-1ra.png"), full_page=False)
    body.locator("a:text-is('IL-1R1')").first.click()
    page.wait_for_url("**/agingkb/pages/molecules~2Fproteins~2Fil-1r1")
    assert "molecules/proteins/il-1r1" in page.inner_text(".entity-kind")
    # download the gaps of IL-1Ra as CSV
    page.goto(datasette_url + "/agingkb/gaps?page=molecules%2Fproteins%2Fil-1ra")
    page.check("#export input[name=_dl]")
    if page.locator("#export input[name=_labels]").count():
        page.uncheck("#export input[name=_labels]")
    with page.expect_download() as download:
        page.click("#export input[type=submit]")
    saved = tmp_path / "gaps.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("page,seq,tag")
    assert (
        len(lines) - 1 == db.execute("select count(*) from gaps where page = 'molecules/proteins/il-1ra'").fetchone()[0]
    )
    # the charts page
    page.goto(datasette_url + "/-/charts")
    types = db.execute(
        "select count(distinct coalesce(p.type, '(none)')) from gaps g join pages p on p.page = g.page"
    ).fetchone()[0]
    assert page.locator("svg#gaps-by-type g.bar").count() == types
    assert page.locator("svg#gaps-by-type rect.segment").first.bounding_box()["width"] > 1
    page.screenshot(path=str(ARTIFACTS / "charts.png"), full_page=True)
    # search across every table
    page.goto(datasette_url + "/-/search?q=anakinra")
    page.wait_for_selector("section#found-trials h2:has-text('Trials')")
    page.click("section#found-footnotes ol.hits a.hit-title >> nth=0")
    assert "/agingkb/footnotes/" in page.url
    page.go_back()
    page.screenshot(path=str(ARTIFACTS / "search-all.png"))
    assert errors == []
    page.close()


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    """A page full of scripts, served like the real site."""
    out = tmp_path_factory.mktemp("hostile-build")
    build(HOSTILE_WIKI, out, options=BuildOptions(jobs=1))
    with served(out / "agingkb.db", out / "datasette.log") as url:
        yield url


HOSTILE_PATHS = [
    "/agingkb/pages/molecules~2Fproteins~2Fhostile",
    "/agingkb/pages",
    "/agingkb/pages?_facet_array=aliases",
    "/agingkb/footnotes",
    "/agingkb/footnotes/molecules~2Fproteins~2Fhostile,1",
    "/agingkb/page_fields?page=molecules%2Fproteins%2Fhostile",
    "/agingkb/sections",
    "/agingkb/trial_mentions",
    "/agingkb/pages?_search=hostile",
    "/-/search?q=hostile",
    "/agingkb?sql=select+title,+body+from+pages",
]


PLANTED_LINKS = ["click me", "raw anchor", "scripted wikilink", "x"]


def test_planted_scripts_never_run(browser, hostile_url):
    page = browser.new_page()
    for path in HOSTILE_PATHS:
        response = page.goto(hostile_url + path)
        assert response.status == 200, path
        page.wait_for_load_state("load")
        for anchor in page.locator("a").all():
            href = (anchor.get_attribute("href") or "").strip().lower()
            assert not href.startswith(("javascript:", "data:", "vbscript:")), (path, href)
        assert page.evaluate("typeof window.pwned") == "undefined", path
    # Click every planted link that survived as text or an inert anchor.
    for text in PLANTED_LINKS:
        page.goto(hostile_url + HOSTILE_PATHS[0])
        for anchor in page.locator(f"article.page-body a:text-is('{text}')").all():
            anchor.click(timeout=2000, no_wait_after=True)
        assert page.evaluate("typeof window.pwned") == "undefined", text
    page.goto(hostile_url + HOSTILE_PATHS[0])
    # the page's title, script and all, heads its row page as text
    assert "<script>window.pwned='heading'</script>" in page.locator("h1").first.text_content()
    assert page.locator("h1 script, section.entity-section:not(#rendered) script").count() == 0
    assert (
        page.locator("article.page-body a:text('the friendly page')")
        .get_attribute("href")
        .endswith("/agingkb/pages/molecules~2Fproteins~2Ffriendly")
    )
    page.screenshot(path=str(ARTIFACTS / "hostile-page.png"), full_page=True)
    page.close()

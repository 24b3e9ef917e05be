"""Row pages of the entities readers land on (a page, a work, a trial, a gap
tag), served by a real `datasette serve` on loopback over the fixture build
and the real build: each section's rows counted against SQL on the same
database, every link answering, no related table with no rows listed, and a
real headless Chromium checking the layout at phone and desktop widths.
Screenshots go to test-artifacts/."""

import re
import sqlite3
from html.parser import HTMLParser
from urllib.parse import quote

import httpx
import pytest
from datasette.utils import tilde_encode

from .conftest import ARTIFACTS


class Sections(HTMLParser):
    """For each <section id=...>: its data-count, how many class="item"
    elements it holds and every href in it; plus every href on the page."""

    def __init__(self):
        super().__init__()
        self.sections, self.hrefs, self.stack = {}, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.stack.append(attrs.get("id"))
            if attrs.get("id"):
                self.sections[attrs["id"]] = {"count": attrs.get("data-count"), "items": 0, "hrefs": []}
        current = next((s for s in reversed(self.stack) if s), None)
        classes = (attrs.get("class") or "").split()
        if current and "item" in classes:
            self.sections[current]["items"] += 1
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
            if current:
                self.sections[current]["hrefs"].append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "section" and self.stack:
            self.stack.pop()


def read(url: str) -> tuple[str, dict]:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, url
    parser = Sections()
    parser.feed(response.text)
    return response.text, parser.sections


def row_path(table: str, *key) -> str:
    return f"/agingkb/{table}/" + ",".join(quote(tilde_encode(str(part)), safe="~") for part in key)


def count(db, sql: str, *params) -> int:
    return db.execute(sql, params).fetchone()[0]


def assert_counts(sections: dict, expected: dict[str, int], shown: dict[str, int] | None = None):
    """data-count is the whole number; the items listed are all of them, or
    the first `shown` of a long list."""
    for section, number in expected.items():
        assert sections[section]["count"] == str(number), (section, sections[section]["count"], number)
        assert sections[section]["items"] == (shown or {}).get(section, number), (
            section,
            sections[section]["items"],
            number,
        )


def assert_links_answer(base: str, sections: dict, names: list[str]):
    hrefs = sorted({h for name in names for h in sections[name]["hrefs"] if h.startswith("/agingkb/")})
    assert hrefs, names
    with httpx.Client(timeout=30) as client:
        for href in hrefs:
            assert client.get(base + href).status_code == 200, href


def assert_only_related_tables_with_rows(html: str, db, table: str, key: str):
    """The 'links from other tables' list names exactly the (table, column)
    pairs with rows pointing here, each with its count."""
    assert not re.search(r">\s*0 rows?</a>", html)
    listed = {
        (m[2], m[1]): int(m[0].replace(",", ""))
        for m in re.findall(r">([\d,]+) rows?</a> from (\w+) in (\w+)</li>", html)
    }
    expected = {}
    for (name,) in db.execute("select name from sqlite_master where type = 'table'"):
        for fk in db.execute(f"pragma foreign_key_list([{name}])"):
            if fk[2] == table:
                rows = count(db, f"select count(*) from [{name}] where [{fk[3]}] = ?", key)
                if rows:
                    expected[(name, fk[3])] = rows
    assert listed == expected


# --- a page ---------------------------------------------------------------


def page_expectations(db, page: str) -> dict[str, int]:
    return {
        "identifiers": count(
            db, "select count(*) from identifiers where page = ? and field not like 'footnote:%'", page
        ),
        "evidence-grades": count(db, "select count(*) from status_assessments where page = ?", page),
        "trials": count(db, "select count(distinct trial) from trial_mentions where page = ?", page),
        "footnotes": count(db, "select count(*) from footnotes where page = ?", page),
        "gaps": count(db, "select count(*) from gaps where page = ?", page),
        "backlinks": count(
            db, "select count(distinct page) from links where target_page = ? and page != ?", page, page
        ),
    }


def relation_counts(db, page: str) -> tuple[int, int]:
    return count(db, "select count(*) from relations where page = ?", page), count(
        db, "select count(*) from relations where target_page = ?", page
    )


def test_fixture_page_row_reads_like_a_page(fixture_url, fixture_build):
    db = sqlite3.connect(fixture_build[0] / "agingkb.db")
    page = "molecules/proteins/demo-kinase"
    html, sections = read(fixture_url + row_path("pages", page))
    expected = page_expectations(db, page)
    assert all(
        expected[name] for name in ("identifiers", "evidence-grades", "trials", "footnotes", "gaps", "backlinks")
    )
    assert_counts(sections, expected)
    outgoing, incoming = relation_counts(db, page)
    assert (
        outgoing
        and incoming
        and sections["relations"]["count"] == str(outgoing + incoming)
        and sections["relations"]["items"] == outgoing + incoming
    )
    # the body first, then the sections in reading order
    order = [
        html.index(marker)
        for marker in (
            '<article class="page-body">',
            'id="verification"',
            'id="identifiers"',
            'id="footnotes"',
            'id="backlinks"',
            'id="all-fields"',
        )
    ]
    assert order == sorted(order)
    # identifiers resolve through the scheme's template; a declared null is said, not linked
    assert 'href="https://www.uniprot.org/uniprotkb/Q9ZZZ1"' in html and "declared null" in html
    # footnotes: parsed fields, resolver link, the work's label and row
    alpha_work = db.execute("select work, label from works where work = 'doi:10.5555/demo.alpha'").fetchone()
    assert 'href="https://doi.org/10.5555/demo.alpha"' in html
    assert f'href="{row_path("works", alpha_work[0])}">{alpha_work[1]}</a>' in html
    verified = db.execute("select verified from pages where page = ?", [page]).fetchone()[0]
    assert re.search(r'class="verified">' + ("yes" if verified else "no") + "<", html)
    assert_links_answer(fixture_url, sections, list(expected) + ["relations"])
    assert_only_related_tables_with_rows(html, db, "pages", page)


def test_real_page_row_reads_like_a_page(datasette_url, real_db):
    page = "molecules/proteins/il-1ra"
    html, sections = read(datasette_url + row_path("pages", page))
    expected = page_expectations(real_db, page)
    assert_counts(sections, expected)
    outgoing, incoming = relation_counts(real_db, page)
    assert sections["relations"]["count"] == str(outgoing + incoming)
    assert (
        'href="https://www.uniprot.org/uniprotkb/P18510"' in html
        and 'href="https://doi.org/10.1056/NEJMoa065213"' in html
    )
    assert_links_answer(datasette_url, sections, list(expected) + ["relations"])
    assert_only_related_tables_with_rows(html, real_db, "pages", page)


def test_a_hub_page_lists_the_first_hundred_and_links_to_all(datasette_url, real_db):
    page = real_db.execute(
        "select target_page from links where target_page is not null group by target_page "
        "order by count(distinct page) desc limit 1"
    ).fetchone()[0]
    html, sections = read(datasette_url + row_path("pages", page))
    expected = page_expectations(real_db, page)
    assert expected["backlinks"] > 100
    assert_counts(sections, expected, shown={"backlinks": 100})
    assert "links?target_page=" + quote(page, safe="").replace("%20", "+") in html.replace("&amp;", "&")
    assert_only_related_tables_with_rows(html, real_db, "pages", page)


# --- a work, a trial, a gap tag --------------------------------------------


def work_expectations(db, work: str) -> dict[str, int]:
    return {
        "citing": count(db, "select count(*) from footnotes where work = ?", work),
        "work-trials": count(db, "select count(*) from trials where work = ?", work),
    }


def trial_expectations(db, trial: str) -> dict[str, int]:
    return {
        "mentions": count(db, "select count(*) from trial_mentions where trial = ?", trial),
        "arms": count(db, "select count(*) from trial_arms where trial = ?", trial),
        "outcomes": count(db, "select count(*) from trial_outcomes where trial = ?", trial),
    }


@pytest.mark.parametrize("build", ["fixture", "real"])
def test_work_row_lists_every_page_citing_it(build, request):
    url, db, work = entity_source(request, build, "work")
    html, sections = read(url + row_path("works", work))
    label = db.execute("select label from works where work = ?", [work]).fetchone()[0]
    assert label and "None" not in label.split(", ")
    assert re.search(r"<h1[^>]*>" + re.escape(label.replace("&", "&amp;")), html)
    assert_counts(sections, work_expectations(db, work))
    assert count(db, "select count(*) from footnotes where work = ?", work) >= 1
    assert_links_answer(url, sections, ["citing", "work"])
    assert_only_related_tables_with_rows(html, db, "works", work)


@pytest.mark.parametrize("build", ["fixture", "real"])
def test_trial_row_lists_every_mention_arm_and_outcome(build, request):
    url, db, trial = entity_source(request, build, "trial")
    html, sections = read(url + row_path("trials", trial))
    expected = trial_expectations(db, trial)
    assert all(expected.values())
    assert_counts(sections, expected)
    assert_links_answer(url, sections, ["mentions", "arms", "outcomes", "trial"])
    assert_only_related_tables_with_rows(html, db, "trials", trial)


@pytest.mark.parametrize("build", ["fixture", "real"])
def test_gap_tag_row_lists_its_open_claims_a_screen_at_a_time(build, request):
    url, db, tag = entity_source(request, build, "gap_tag")
    total = count(db, "select count(*) from gaps where tag = ?", tag)
    pages = count(db, "select count(distinct page) from gaps where tag = ?", tag)
    screens = 1 if build == "fixture" else 3  # every screen of the fixture's tag, the first three of the real one
    seen, start = 0, 0
    for _ in range(screens):
        html, sections = read(url + row_path("gap_tags", tag) + (f"?claims_from={start}" if start else ""))
        assert sections["claims"]["count"] == str(total) and sections["tag-pages"]["count"] == str(pages)
        assert sections["tag-pages"]["items"] == min(pages, 100)
        seen += sections["claims"]["items"]
        found = re.search(r'rel="next" href="\?claims_from=(\d+)#claims"', html)
        if not found:
            break
        start = int(found.group(1))
        assert start == seen
    assert seen == min(total, 100 * screens)
    assert_links_answer(url, sections, ["claims"])
    assert_only_related_tables_with_rows(html, db, "gap_tags", tag)


def entity_source(request, build: str, kind: str):
    """(server URL, database, key) of an example entity in a build: on the
    real build the ones the reader's questions start from."""
    if build == "fixture":
        url = request.getfixturevalue("fixture_url")
        db = sqlite3.connect(request.getfixturevalue("fixture_build")[0] / "agingkb.db")
        keys = {"work": "doi:10.5555/demo.alpha", "trial": "doi:10.5555/demo.alpha", "gap_tag": "gap/needs-replication"}
    else:
        url, db = request.getfixturevalue("datasette_url"), request.getfixturevalue("real_db")
        keys = {"work": "doi:10.1056/nejmoa065213", "trial": "NCT00427193", "gap_tag": "gap/needs-replication"}
    return url, db, keys[kind]


def test_a_work_is_named_by_its_label_in_the_footnotes_table(datasette_url, real_db):
    """The footnotes table shows a cited work by works.label (its title, or
    first author, year and venue), never None."""
    assert count(real_db, "select count(*) from works where label is null or label = '' or label glob '*None*'") == 0
    untitled = real_db.execute(
        "select work, label, first_author, year, venue from works "
        "where title is null and first_author is not null and year is not null limit 1"
    ).fetchone()
    assert untitled[1].startswith(f"{untitled[2]}, {untitled[3]}")
    rows = httpx.get(
        f"{datasette_url}/agingkb/footnotes.json",
        params={"work": untitled[0], "_labels": "on", "_shape": "array"},
        timeout=30,
    ).json()
    assert rows and all(row["work"] == {"value": untitled[0], "label": untitled[1]} for row in rows)
    html = httpx.get(f"{datasette_url}/agingkb/footnotes", params={"work": untitled[0]}, timeout=30).text
    cells = re.findall(r'<td class="col-work[^"]*">(.*?)</td>', html, re.S)
    assert cells and all(untitled[1] in cell and "None" not in cell for cell in cells)


# --- in a real browser ------------------------------------------------------

ENTITY_PAGES = {
    "page": row_path("pages", "molecules/proteins/il-1ra"),
    "hub-page": row_path("pages", "hallmarks/chronic-inflammation"),
    "work": row_path("works", "doi:10.1056/nejmoa065213"),
    "trial": row_path("trials", "NCT00427193"),
    "gap-tag": row_path("gap_tags", "gap/needs-replication"),
}


@pytest.mark.parametrize("width", [1366, 390])
def test_entity_pages_fit_the_screen(browser, datasette_url, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for name, path in ENTITY_PAGES.items():
        page.goto(datasette_url + path)
        page.screenshot(path=str(ARTIFACTS / f"entity-{name}-{width}.png"))
        page.locator("section.entity-section").nth(1).scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"entity-{name}-{width}-section.png"))
        overflow = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1], (name, width, overflow)
        # wide tables scroll inside their own box
        for box in page.locator("div.scroll").all()[:5]:
            assert box.evaluate("b => getComputedStyle(b).overflowX") == "auto"
            assert box.bounding_box()["width"] <= width
    assert errors == []
    page.close()

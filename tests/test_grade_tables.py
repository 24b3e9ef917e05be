"""A page's evidence grades on its row view keep their tables: a page that
grades the same dimensions once per finding shows one small table per
grading table, under the heading it sits under on the page, in page order,
as the page itself does. Served by a real Datasette over a build of the
fixture wiki with one more page."""

import re
import shutil
import sqlite3

import httpx
import pytest

from etl.options import BuildOptions
from etl.pipeline.build import build

from .conftest import FIXTURE_WIKI, served

PAGE = "pathways/demo-grading"
# Three findings, each graded on the same three dimensions; a plain table
# between the second and third is not a grading table.
GRADED_PAGE = """---
type: pathway
aliases: []
kegg: null
reactome: null
wikipathways: null
key-nodes: []
upstream: []
downstream: []
hallmarks: []
sens-categories: []
verified: false
verified-date: null
verified-by: null
verified-scope: null
---

# Demo grading

Three findings about a made-up pathway, each graded on its own.

## Findings

### Signal fades in old worms

| Dimension | Status |
|---|---|
| Pathway conserved in humans? | yes — the same receptor |
| Phenotype conserved in humans? | unclear |
| Replicated in humans? | no |

### Blocking it extends lifespan in flies

| Dimension | Status |
|---|---|
| Pathway conserved in humans? | partial — one of two branches |
| Phenotype conserved in humans? | no |
| Replicated in humans? | not-tested |

| Strain | Lifespan change |
|---|---|
| wild type | +12% |

### A cohort links the variant to longevity

| Dimension | Status |
|---|---|
| Pathway conserved in humans? | yes |
| Replicated in humans? | in-progress — a second cohort is being read |
"""
HEADINGS = [
    "Signal fades in old worms",
    "Blocking it extends lifespan in flies",
    "A cohort links the variant to longevity",
]


@pytest.fixture(scope="module")
def graded_site(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("grades")
    wiki = scratch / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    (wiki / f"{PAGE}.md").write_text(GRADED_PAGE, encoding="utf-8")
    build(wiki, scratch / "out", options=BuildOptions(jobs=1))
    with served(scratch / "out" / "agingkb.db", scratch / "datasette.log") as url:
        yield url, scratch / "out" / "agingkb.db"


def grade_tables(html: str) -> list[dict]:
    """Each grading table of the Evidence grades section: its heading, the
    line saying where it is, and the dimension of each row."""
    section = html[html.index('id="evidence-grades"') : html.index('id="trials"')]
    found = []
    for block in section.split('<div class="grade-table"')[1:]:
        found.append(
            {
                "heading": re.sub(r"<[^>]+>", "", re.search(r"<h3>(.*?)</h3>", block, re.S)[1]).strip(),
                "place": re.search(r'class="grade-table-place"><small>(.*?)</small>', block)[1],
                "dimensions": re.findall(r'<tr class="item"[^>]*>\s*<td>(.*?)</td>', block),
                "section_link": re.search(r'<h3><a href="([^"]+)"', block)[1],
            }
        )
    return found


def test_each_grading_table_is_shown_under_its_heading_in_page_order(graded_site):
    url, db_path = graded_site
    html = httpx.get(f"{url}/agingkb/pages/pathways~2Fdemo-grading", timeout=30).text
    tables = grade_tables(html)
    db = sqlite3.connect(db_path)
    stored = db.execute(
        "select table_seq, section, dimension_text, source_line from status_assessments where page = ? "
        "order by table_seq, row",
        [PAGE],
    ).fetchall()
    # The database keeps one row per graded dimension; the view groups them by table, as the page does.
    assert [t["heading"] for t in tables] == HEADINGS
    by_table = {}
    for table_seq, section, dimension, line in stored:
        by_table.setdefault(table_seq, []).append((section, dimension, line))
    assert [t["dimensions"] for t in tables] == [[d for _, d, _ in rows] for rows in by_table.values()]
    assert [len(t["dimensions"]) for t in tables] == [3, 3, 2]
    # The same dimension is graded in every table: the heading is what tells them apart.
    assert all("Pathway conserved in humans?" in t["dimensions"] for t in tables)
    first_lines = [rows[0][2] for rows in by_table.values()]
    assert [t["place"] for t in tables] == [
        f"Grading table {n} of 3, from line {line}." for n, line in enumerate(first_lines, start=1)
    ]
    # The plain table between the second and third grading tables is not one of them.
    assert list(by_table) == [1, 2, 4]
    assert "3 grading tables, in page order" in html
    # Each heading links to its section's row, which answers.
    for table in tables:
        section = httpx.get(url + table["section_link"] + ".json?_shape=array", timeout=30).json()
        assert section[0]["heading"] == table["heading"]


def test_a_page_with_one_grading_table_keeps_its_heading(graded_site):
    url, _ = graded_site
    html = httpx.get(f"{url}/agingkb/pages/molecules~2Fproteins~2Fdemo-kinase", timeout=30).text
    tables = grade_tables(html)
    assert [t["heading"] for t in tables] == ["Activity"]
    assert tables[0]["place"].startswith("From line ")
    assert "grading tables, in page order" not in html

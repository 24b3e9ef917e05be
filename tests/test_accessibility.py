"""The reader's site is accessible and readable, checked in a real headless
Chromium against a real `datasette serve` of the real wiki's build (the
forest plot and charts need real trial outcomes and gaps to draw).

- axe-core (pinned in package.json / package-lock.json, installed by
  `make test` into node_modules/) runs on each kind of page: no critical
  and no serious violation.
- Each page is photographed at 1366 px and 390 px wide into test-artifacts/.
- At 390 px no page scrolls sideways as a whole. The rule: the document is
  no wider than the viewport (documentElement.scrollWidth <= innerWidth).
  Content wider than the screen is allowed only inside its own scroll box
  (an ancestor with overflow-x auto or scroll that itself fits the screen),
  as Datasette's .table-wrapper holds a wide data table; such content does
  not widen the document, so the one measurement checks both halves.
"""

import json

import pytest
from datasette.utils import tilde_encode

from .conftest import ARTIFACTS, ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDE, NARROW = 1366, 390
BLOCKING = {"critical", "serious"}


def _row(table: str, key: str) -> str:
    return f"/agingkb/{table}/{tilde_encode(key)}"


def reader_pages(db) -> dict[str, str]:
    """Every kind of page a reader meets, by name; rows are picked from the
    database (the most cited work, the commonest gap tag, ...)."""
    work = db.execute(
        "select work from footnotes where work is not null group by work order by count(*) desc, work limit 1"
    ).fetchone()[0]
    trial = db.execute(
        "select trial from trial_outcomes group by trial order by count(*) desc, trial limit 1"
    ).fetchone()[0]
    tag = db.execute("select tag from gaps group by tag order by count(*) desc, tag limit 1").fetchone()[0]
    page = db.execute("select page from pages where page = 'molecules/proteins/il-1ra'").fetchone()[0]
    return {
        "home": "/",
        "database": "/agingkb",
        "table-pages": "/agingkb/pages",
        "table-trials": "/agingkb/trials",
        "row-page": _row("pages", page),
        "row-work": _row("works", work),
        "row-trial": _row("trials", trial),
        "row-gap-tag": _row("gap_tags", tag),
        "forest-plot": "/-/forest-plot",
        "charts": "/-/charts",
        "search": "/-/search?q=anakinra",
        "search-help": "/-/search",
        "downloads": "/-/downloads/",
        "stored-query": "/agingkb/gap_board?tag=gap%2Fneeds-replication&type=",
    }


@pytest.fixture(scope="module")
def pages(real_db) -> dict[str, str]:
    return reader_pages(real_db)


PAGE_NAMES = [
    "home",
    "database",
    "table-pages",
    "table-trials",
    "row-page",
    "row-work",
    "row-trial",
    "row-gap-tag",
    "forest-plot",
    "charts",
    "search",
    "search-help",
    "downloads",
    "stored-query",
]


def _open(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("networkidle")  # the SQL editor is drawn by script
    return page


def _photograph(page, name: str, width: int) -> None:
    """The whole page, down to 6,000 px: a long result list at 390 px is taller
    than Chromium can photograph in one piece."""
    height = min(page.evaluate("document.documentElement.scrollHeight"), 6000)
    page.screenshot(
        path=str(ARTIFACTS / f"a11y-{name}-{width}.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": width, "height": height},
    )


def _axe_violations(page) -> list[dict]:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make axe` (npm ci) first")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => JSON.stringify((await axe.run(document, {resultTypes: ['violations']})).violations)"
    )
    return json.loads(result)


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
        lines.append(
            f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} nodes): "
            f"{violation['help']}; first targets: {targets}"
        )
    return "\n".join(lines)


# What sticks out past the right edge of a narrow screen outside any scroll box:
# named in the failure message, so a failure says which element to fix.
OVERFLOW_SCRIPT = """
() => {
  const width = window.innerWidth;
  const scrolls = (el) => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if ((x === 'auto' || x === 'scroll') && p.getBoundingClientRect().right <= width + 1) return true; }
    return false; };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    const spills = box.right > width + 1
      || (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible');
    const classes = el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    if (box.width && spills && !scrolls(el))
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes + ' right=' + Math.round(box.right));
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, offenders: out.slice(0, 8)};
}
"""


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_no_serious_accessibility_violation(browser, datasette_url, pages, name):
    page = _open(browser, datasette_url + pages[name], WIDE)
    _photograph(page, name, WIDE)
    violations = _axe_violations(page)
    page.close()
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    print(f"{name}: {pages[name]}\n{describe(violations) or 'no violations'}")
    assert not blocking, f"{pages[name]}:\n{describe(blocking)}"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_narrow_screen_does_not_scroll_sideways(browser, datasette_url, pages, name):
    page = _open(browser, datasette_url + pages[name], NARROW)
    _photograph(page, name, NARROW)
    violations = _axe_violations(page)
    measured = page.evaluate(OVERFLOW_SCRIPT)
    page.close()
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{pages[name]} at {NARROW} px:\n{describe(blocking)}"
    assert measured["scrollWidth"] <= measured["innerWidth"], (
        f"{pages[name]} is {measured['scrollWidth']} px wide at {NARROW} px: {measured['offenders']}"
    )


def test_forest_plot_labels_stay_legible_on_a_phone(browser, datasette_url):
    """At 390 px the plot keeps its drawn size inside its scroll box rather
    than shrinking to the screen, so its 12 px labels stay 12 px tall."""
    page = _open(browser, datasette_url + "/-/forest-plot", NARROW)
    drawn_width = float(page.locator(".forest svg").get_attribute("width"))
    on_screen = page.locator(".forest svg").bounding_box()
    scroll_box = page.locator(".forest").bounding_box()
    label_height = page.locator(".forest svg text.label").first.bounding_box()["height"]
    page.locator(".forest").focus()  # the scroll box is reachable by keyboard
    focused = page.evaluate("document.activeElement.classList.contains('forest')")
    page.screenshot(path=str(ARTIFACTS / f"a11y-forest-plot-labels-{NARROW}.png"))
    page.close()
    assert abs(on_screen["width"] - drawn_width) < 1 and drawn_width > NARROW
    assert scroll_box["x"] >= 0 and scroll_box["x"] + scroll_box["width"] <= NARROW
    assert label_height >= 12, label_height
    assert focused

"""One question, one answer: "gap tags opened / closed per week" and
"pages verified per week" asked of every route that answers them give the
same numbers. A fixture repository of five commits over two weeks (two
claims reworded, one gap closed and a different one opened with the same
tag, a page verified, a page added with its gaps, a page renamed and one
removed, a frontmatter gap closed), then, per week:

- the What-changed charts, as a real Datasette serves them;
- the stored queries gap_events_per_week, gaps_closed_recently and
  pages_verified_per_week, through Datasette's JSON;
- the commits and page_history tables of `etl history`;
- `etl diff` between the builds of each commit and the one before it;
- the release route: each commit built with --previous (its gap_events
  table) and the release changelog against that previous build.
"""

import json
import re
import shutil
import subprocess
from collections import Counter
from datetime import date, timedelta

import httpx
import pytest

from etl.options import BuildOptions
from etl.pipeline.build import build
from etl.release.dist import changelog
from etl.wiki.revisions import Tree

from .conftest import BIN, FIXTURE_WIKI, git, history_build, query, served

KINASE = "molecules/proteins/demo-kinase.md"
GLUCOSE = "phenotypes/demo-glucose-control.md"
FRAILTY = "phenotypes/demo-frailty.md"
LINKED = (
    "Whether [[demo-kinase]] activity predicts glucose control in humans is untested. #gap/needs-human-replication\n"
)
FRAILTY_PAGE = """---
type: phenotype
aliases: []
---

# Demo frailty

Frailty in the test organism. #stub

- Grip strength fell in one cohort only. #gap/needs-replication
"""
# (day, subject, edits); an edit is ("edit", path, old text, new text), ("add", path, text),
# ("rm", path) or ("mv", path, new path).
COMMITS = [
    ("2026-03-02", "First pages", [("edit", GLUCOSE, "three ways.\n", "three ways.\n\n" + LINKED)]),
    (
        "2026-03-03",
        "Reword two claims: a link rewritten, a word added",
        [
            ("edit", GLUCOSE, "[[demo-kinase]]", "[[molecules/proteins/demo-kinase]]"),
            ("edit", KINASE, "Nobody knows why.", "Nobody yet knows why."),
        ],
    ),
    (
        "2026-03-05",
        "Close the unsourced claim, open another; verify the kinase",
        [
            ("edit", KINASE, "- A claim with no source at all", "- Human expression data are not cited"),
            ("edit", KINASE, "verified: false\nverified-date: null", "verified: true\nverified-date: 2026-03-05"),
        ],
    ),
    ("2026-03-10", "Add the frailty page", [("add", FRAILTY, FRAILTY_PAGE)]),
    (
        "2026-03-12",
        "Rename the pathway, retire the frailty page, fill in GTEx",
        [
            ("mv", "pathways/demo-pathway.md", "pathways/demo-signalling.md"),
            ("rm", FRAILTY),
            (
                "edit",
                KINASE,
                "gtex-aging-correlation: null   # #gap/not-queried; fill in after a GTEx lookup",
                "gtex-aging-correlation: 0.12",
            ),
        ],
    ),
]
# What those edits do to the gap tags, commit by commit (by construction).
EXPECTED = [
    Counter(),
    Counter(changed=2),
    Counter(opened=1, closed=1),
    Counter(opened=2),
    Counter({"moved": 1, "page-removed": 2, "closed": 1}),
]


def monday(day: str) -> str:
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


def apply(wiki, edits):
    for action, path, *more in edits:
        if action == "mv":
            git(wiki, "mv", path, more[0])
        elif action == "rm":
            git(wiki, "rm", "-q", path)
        elif action == "add":
            (wiki / path).write_text(more[0])
        else:
            text = (wiki / path).read_text()
            assert more[0] in text, (path, more[0])
            (wiki / path).write_text(text.replace(more[0], more[1], 1))


@pytest.fixture(scope="module")
def routes(tmp_path_factory):
    """The repository, its history, and each commit built against the one before."""
    scratch = tmp_path_factory.mktemp("gap-routes")
    wiki = scratch / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    git(wiki, "init", "-q", "-b", "main")
    for day, subject, edits in COMMITS:
        apply(wiki, edits)
        git(wiki, "add", "-A")
        git(wiki, "commit", "-q", "-m", subject, "--date", f"{day}T12:00:00+00:00")
    history_build(wiki, scratch / "history")
    hashes = git(wiki, "log", "--reverse", "--format=%H").split()
    tree, builds = Tree(wiki, scratch / "tree"), []
    for seq, commit in enumerate(hashes):
        out = scratch / f"build-{seq}"
        build(tree.show(commit), out, BuildOptions(jobs=1), git_commit=commit, previous=builds[-1] if builds else None)
        builds.append(out)
    return scratch / "history", builds


def per_week(counts_by_commit) -> dict[str, Counter]:
    """Counters per commit (oldest first, the baseline left out) summed by the commit's week."""
    weeks: dict[str, Counter] = {}
    for (day, _, _), counts in zip(COMMITS[1:], counts_by_commit):
        weeks.setdefault(monday(day), Counter()).update(counts)
    return {week: +counts for week, counts in weeks.items()}  # zero counts dropped


SUMMARY_GAPS = re.compile(r"^- Gap tags: (\d+) opened, (\d+) closed, (\d+) reworded", re.MULTILINE)
SUMMARY_VERIFIED = re.compile(r"^- Pages verified: (\d+);", re.MULTILINE)


def summary_counts(text: str) -> Counter:
    opened, closed, reworded = (int(n) for n in SUMMARY_GAPS.search(text).groups())
    return Counter(opened=opened, closed=closed, changed=reworded, verified=int(SUMMARY_VERIFIED.search(text)[1]))


def chart(html: str, chart_id: str) -> Counter:
    """The bars of one What-changed chart: week -> count, from each bar's label."""
    svg = re.search(rf'<svg[^>]* id="{chart_id}".*?</svg>', html, re.DOTALL)[0]
    return Counter(
        {week: int(n.replace(",", "")) for week, n in re.findall(r'aria-label="([\d-]+) · [^:]+: ([\d,]+)"', svg)}
    )


def by_week(rows) -> Counter:
    return +Counter({week: n for week, n in rows})


def test_gap_tags_and_verifications_per_week_agree_by_every_route(routes, tmp_path):
    history, builds = routes
    db = history / "agingkb.db"
    expected = per_week(EXPECTED[1:])
    want = {kind: Counter({week: c[kind] for week, c in expected.items()}) for kind in ("opened", "closed", "changed")}
    want = {kind: +counts for kind, counts in want.items()}
    assert want["opened"] == {"2026-03-02": 1, "2026-03-09": 2} and want["closed"] == {"2026-03-02": 1, "2026-03-09": 1}

    # the table itself, and the counts etl history keeps beside it
    events = query(db, "select week, event, count(*) from gap_events group by 1, 2")
    assert {kind: by_week((w, n) for w, e, n in events if e == kind) for kind in want} == want
    assert by_week(query(db, "select w, n from (select e.week as w, count(*) as n from gap_events e group by 1)")) == (
        by_week((w, sum(c.values())) for w, c in expected.items())
    )
    week = "date(c.day, '-6 days', 'weekday 1')"
    for column, kind in (("gaps_opened", "opened"), ("gaps_closed", "closed"), ("gaps_changed", "changed")):
        commits = query(db, f"select {week}, sum({column}) from commits c where status = 'built' group by 1")
        pages = query(
            db,
            f"select {week}, sum(h.{column}) from page_history h join commits c on c.hash = h.commit_hash "
            "where c.status = 'built' group by 1",
        )
        assert by_week(commits) == by_week(pages) == want[kind], column

    # etl diff, and the release route, commit by commit
    diffs, releases, release_tables = [], [], []
    for old, new in zip(builds, builds[1:]):
        completed = subprocess.run([str(BIN / "etl"), "diff", str(old), str(new)], capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr
        diffs.append(summary_counts(completed.stdout))
        summary = json.loads((new / "summary.json").read_text())
        version = summary["snapshot"]["dataset_version"]
        releases.append(summary_counts(changelog(version, new / "package", old, summary)))
        release_tables.append(
            Counter(dict(query(new / "agingkb.db", "select event, count(*) from gap_events group by 1")))
        )
    assert diffs == releases  # etl diff's summary and the release changelog, commit by commit
    for kind in want:
        assert +Counter({w: c[kind] for w, c in per_week(diffs).items()}) == want[kind], kind
    assert release_tables == [+c for c in EXPECTED[1:]]

    # the site: the What-changed charts and the stored queries, served
    with served(db, tmp_path / "datasette.log") as url:
        html = httpx.get(url + "/-/what-changed", timeout=30).text
        stored = httpx.get(url + "/agingkb/gap_events_per_week.json?_shape=array", timeout=30).json()
        closed = httpx.get(url + "/agingkb/gaps_closed_recently.json?days=3650&_shape=array", timeout=30).json()
        verified = httpx.get(url + "/agingkb/pages_verified_per_week.json?_shape=array", timeout=30).json()
    assert chart(html, "gaps-opened") == by_week((r["week"], r["opened"]) for r in stored) == want["opened"]
    assert chart(html, "gaps-closed") == by_week((r["week"], r["closed"]) for r in stored) == want["closed"]
    assert by_week((r["week"], r["reworded"]) for r in stored) == want["changed"]
    assert by_week(Counter(monday(r["day"]) for r in closed).items()) == want["closed"]

    # pages verified per week: the chart, the stored query and etl diff
    verified_by_diff = +Counter({w: c["verified"] for w, c in per_week(diffs).items()})
    assert verified_by_diff == {"2026-03-02": 1}  # the kinase
    assert (
        chart(html, "pages-verified") == by_week((r["week"], r["pages_verified"]) for r in verified) == verified_by_diff
    )

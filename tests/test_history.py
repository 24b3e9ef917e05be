"""`etl history`: every commit of a checkout built in turn, and what each
changed. A fixture repository with known commits, every change row of one
asserted; bad input; and the wiki's real history (the bundle)."""

import json
import shutil
import sqlite3
import subprocess

import feedparser
import httpx
import pytest

from agingkb_site.feed import FEED_COMMITS
from benchmarks.compare_builds import differences
from etl.options import BuildOptions
from etl.pipeline.build import build
from etl.release.dist import make_release
from etl.schema import load_yaml
from etl.wiki.revisions import Tree

from .conftest import BIN, FIXTURE_WIKI, REAL_WIKI, ROOT, git, served
from .test_accessibility import BLOCKING, _axe_violations, describe
from .test_feed import check_commit_entries

KINASE = "molecules/proteins/demo-kinase.md"
PAGE = "molecules/proteins/demo-kinase"
UNSOURCED = "- A claim with no source at all #gap/unsourced\n"
HISTORY_TABLES = ("commits", "changes", "page_history", "gap_events")
BUNDLE = REAL_WIKI.parent / "aging_wiki_history.bundle"


def only_history_and_snapshot_differ(found: list[str]) -> bool:
    """The history tables (with their full-text indexes and statistics) and
    the snapshot row (its git commit) are all that differ."""
    names = (*HISTORY_TABLES, "snapshots")
    # A table's Parquet and NDJSON files are its CSV's rows; the descriptor names each Parquet file's hash.
    allowed = {f"package/{t}.{kind} differs" for t in names for kind in ("csv", "parquet", "ndjson")}
    allowed |= {"agingkb.db: sqlite_stat1 differs", "package/datapackage.json differs (apart from created)"}
    # croissant.json gives each CSV's SHA-256, the history tables' among them.
    allowed.add("package/croissant.json differs (apart from dateModified)")
    return all(d in allowed or any(d.startswith(f"agingkb.db: {t}") for t in names) for d in found)


def _descriptor_apart_from_history(out):
    """datapackage.json without its time and the sizes and hashes of the
    history tables' and the snapshot's Parquet files."""
    descriptor = json.loads((out / "package" / "datapackage.json").read_text(encoding="utf-8"))
    descriptor.pop("created")
    for resource in descriptor["resources"]:
        if resource["name"] in {f"{t}_parquet" for t in (*HISTORY_TABLES, "snapshots")}:
            resource.pop("bytes"), resource.pop("hash")
    return descriptor


def edit(wiki, path, old, new):
    page = wiki / path
    text = page.read_text()
    assert old in text
    page.write_text(text.replace(old, new, 1))


def etl(*args):
    return subprocess.run([str(BIN / "etl"), *args], capture_output=True, text=True)


def rows(db, sql, *params):
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in connection.execute(sql, params)]
    finally:
        connection.close()


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    """The fixture wiki as a git repository of four commits."""
    wiki = tmp_path_factory.mktemp("history") / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    git(wiki, "init", "-q", "-b", "main")
    git(wiki, "add", "-A")
    git(wiki, "commit", "-q", "-m", "First pages")
    edit(wiki, KINASE, UNSOURCED, "")
    git(wiki, "commit", "-q", "-am", "Drop the unsourced claim")
    git(wiki, "mv", "pathways/demo-pathway.md", "pathways/demo-signalling.md")
    git(wiki, "commit", "-q", "-m", "Rename the pathway")
    edit(wiki, KINASE, "verified: false\nverified-date: null", "verified: true\nverified-date: 2026-02-01")
    edit(
        wiki,
        KINASE,
        "| Replicated in humans? | in-progress — a second trial runs |",
        "| Replicated in humans? | yes — the second trial agreed |",
    )
    git(wiki, "commit", "-q", "-am", "Verify the kinase")
    return wiki


@pytest.fixture(scope="module")
def history(repository, tmp_path_factory):
    out = tmp_path_factory.mktemp("history-out")
    completed = etl("history", "--wiki", str(repository), "--out", str(out), "--jobs", "1")
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return out


def test_every_commit_is_recorded_oldest_first(history, repository):
    commits = rows(history / "agingkb.db", "select * from commits order by seq")
    assert [(c["seq"], c["status"], c["subject"]) for c in commits] == [
        (1, "baseline", "First pages"),
        (2, "built", "Drop the unsourced claim"),
        (3, "built", "Rename the pathway"),
        (4, "built", "Verify the kinase"),
    ]
    hashes = git(repository, "log", "--reverse", "--format=%H").split()
    assert [c["hash"] for c in commits] == hashes
    assert [c["upstream_commit"] for c in commits] == hashes  # no Upstream-commit trailers here
    assert [c["files_changed"] for c in commits] == [0, 1, 2, 1]
    assert all(c["author"] == "Curator" and c["pages_held"] == 0 for c in commits)


def test_every_change_of_one_commit(history):
    commit = rows(history / "agingkb.db", "select hash from commits where seq = 2")[0]["hash"]
    changes = rows(
        history / "agingkb.db",
        "select table_name, key, kind, [column], old_value, new_value, page, source_path from changes "
        "where commit_hash = ? order by change",
        commit,
    )
    by_what = {(c["table_name"], c["kind"], c["column"]): c for c in changes}
    assert sorted(by_what) == [
        ("gaps", "removed", None),
        ("pages", "changed", "gap_count"),
        ("pages", "changed", "word_count"),
        ("sections", "changed", "text"),
    ]
    assert len(changes) == 4
    gap = by_what["gaps", "removed", None]
    assert gap["key"] == f"{PAGE} · gap/unsourced · A claim with no source at all #gap/unsourced"
    assert (gap["page"], gap["source_path"]) == (PAGE, KINASE)
    gap_count = by_what["pages", "changed", "gap_count"]
    assert int(gap_count["old_value"]) - int(gap_count["new_value"]) == 1
    words = by_what["pages", "changed", "word_count"]
    assert int(words["old_value"]) - int(words["new_value"]) == len(UNSOURCED.split())
    section = by_what["sections", "changed", "text"]
    assert section["key"] == f"{PAGE} · activity"
    assert UNSOURCED.strip() in section["old_value"] and UNSOURCED.strip() not in section["new_value"]
    assert all(c["page"] == PAGE for c in changes)
    [page] = rows(history / "agingkb.db", "select * from page_history where commit_hash = ?", commit)
    assert (
        page["page"],
        page["change"],
        page["rows_added"],
        page["rows_removed"],
        page["rows_changed"],
        page["gaps_opened"],
        page["gaps_closed"],
    ) == (PAGE, "changed", 0, 1, 2, 0, 1)
    [counts] = rows(
        history / "agingkb.db",
        "select pages_changed, rows_added, rows_removed, rows_changed, gaps_opened, gaps_closed "
        "from commits where hash = ?",
        commit,
    )
    assert counts == {
        "pages_changed": 1,
        "rows_added": 0,
        "rows_removed": 1,
        "rows_changed": 2,
        "gaps_opened": 0,
        "gaps_closed": 1,
    }


def test_a_rename_and_a_verification_in_page_history(history):
    db = history / "agingkb.db"
    renamed = rows(
        db,
        "select page, change from page_history join commits on hash = commit_hash "
        "where seq = 3 and page like 'pathways/%' order by page",
    )
    assert renamed == [
        {"page": "pathways/demo-pathway", "change": "removed"},
        {"page": "pathways/demo-signalling", "change": "added"},
    ]
    verified = rows(
        db,
        "select old_value, new_value from changes join commits on hash = commit_hash "
        "where seq = 4 and table_name = 'pages' and [column] = 'verified'",
    )
    assert verified == [{"old_value": "0", "new_value": "1"}]
    baseline = rows(
        db,
        "select count(*) as pages, sum(change = 'added') as added "
        "from page_history join commits on hash = commit_hash where seq = 1",
    )[0]
    assert baseline["pages"] == baseline["added"] == len(rows(db, "select page from pages"))  # a rename keeps the count


def test_the_last_commit_is_built_as_etl_build_builds_it(history, repository, tmp_path):
    plain = tmp_path / "plain"
    build(repository, plain, options=BuildOptions(jobs=1))
    found = differences(history, plain)
    assert found and only_history_and_snapshot_differ(found), found
    assert _descriptor_apart_from_history(history) == _descriptor_apart_from_history(plain)
    head = git(repository, "rev-parse", "HEAD").strip()
    assert rows(history / "agingkb.db", "select git_commit from snapshots") == [{"git_commit": head}]
    assert (
        etl("build", "--wiki", str(repository), "--out", str(plain)).returncode == 0
    )  # a plain build has empty history tables
    assert rows(plain / "agingkb.db", "select count(*) as n from commits") == [{"n": 0}]


def test_the_stored_history_queries(history):
    queries = load_yaml(ROOT / "data" / "site.yml")["queries"]
    db = sqlite3.connect(history / "agingkb.db")
    closed = db.execute(queries["gaps_closed_recently"]["sql"], {"days": ""}).fetchall()
    assert [(page, tag, claim) for _, page, tag, claim, *_ in closed] == [
        (PAGE, "gap/unsourced", "A claim with no source at all #gap/unsourced")
    ]
    upgraded = db.execute(queries["grades_upgraded"]["sql"]).fetchall()
    assert [row[1:5] for row in upgraded] == [(PAGE, "Replicated in humans?", "in-progress", "yes")]
    weeks = db.execute(queries["pages_verified_per_week"]["sql"]).fetchall()
    assert sum(row[1] for row in weeks) == 1  # the kinase; the baseline is left out
    db.close()


def _package_bytes(out):
    return {p.name: p.read_bytes() for p in sorted((out / "package").iterdir())}


def test_bad_input_gets_a_message_and_keeps_the_previous_output(repository, tmp_path):
    wiki = tmp_path / "wiki"
    shutil.copytree(repository, wiki)
    out = tmp_path / "out"
    build(wiki, out, options=BuildOptions(jobs=1))
    before = _package_bytes(out)

    unknown = etl("history", "--wiki", str(wiki), "--out", str(out), "--since", "no-such-tag")
    assert unknown.returncode == 2 and "no commit 'no-such-tag'" in unknown.stderr

    (wiki / "notes.md").write_text("# Draft\n")
    dirty = etl("history", "--wiki", str(wiki), "--out", str(out))
    assert dirty.returncode == 2 and "uncommitted changes (notes.md)" in dirty.stderr
    (wiki / "notes.md").unlink()

    edit(wiki, KINASE, "type: protein\n", "type: protein\nbroken: [unclosed\n")
    git(wiki, "commit", "-q", "-am", "Break the kinase frontmatter")
    edit(wiki, KINASE, "broken: [unclosed\n", "")
    git(wiki, "commit", "-q", "-am", "Mend it")
    broken = etl("history", "--wiki", str(wiki), "--out", str(out), "--jobs", "1")
    assert broken.returncode == 1
    assert (
        "(Break the kinase frontmatter) does not build" in broken.stderr
        and f"{KINASE}:" in broken.stderr
        and "--hold-blocked" in broken.stderr
    )
    assert _package_bytes(out) == before

    held = etl("history", "--wiki", str(wiki), "--out", str(out), "--jobs", "1", "--hold-blocked")
    assert held.returncode == 0, held.stderr
    commits = rows(out / "agingkb.db", "select subject, pages_held, problem, rows_changed from commits order by seq")
    assert [(c["subject"], c["pages_held"]) for c in commits][-2:] == [
        ("Break the kinase frontmatter", 1),
        ("Mend it", 0),
    ]
    assert (
        commits[-2]["problem"].startswith(f"{KINASE}:") and commits[-2]["rows_changed"] == 0
    )  # the page kept its last good rows


# --- the wiki's real history ----------------------------------------------


@pytest.fixture(scope="module")
def real_history(tmp_path_factory):
    if not BUNDLE.is_file():
        pytest.fail(f"the history bundle is missing at {BUNDLE}; CI provides ../shared/aging_wiki_history.bundle")
    scratch = tmp_path_factory.mktemp("real-history")
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(scratch / "wiki")], check=True)
    completed = etl("history", "--wiki", str(scratch / "wiki"), "--out", str(scratch / "out"), "--hold-blocked")
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return scratch / "out", completed.stdout


def test_the_real_history_has_every_commit_and_ends_at_the_snapshot(real_history, real_build):
    out, report = real_history
    commits = rows(out / "agingkb.db", "select * from commits order by seq")
    assert len(commits) == 108
    assert commits[0]["subject"] == "Initial public release: aging research wiki" and commits[0]["status"] == "baseline"
    assert commits[-1]["upstream_commit"] == "a100dc32d825b9b9536da5df20631b86f8e64254"
    assert "commits: 108" in report
    plain, _ = real_build
    found = differences(out, plain)
    # The descriptor names the source version: the bundle's commit here, the upstream commit there.
    assert only_history_and_snapshot_differ(
        [d for d in found if d != "package/datapackage.json differs (apart from created)"]
    ), found
    descriptors = [_descriptor_apart_from_history(o) for o in (out, plain)]
    for descriptor in descriptors:
        descriptor["sources"][0].pop("version")
    assert descriptors[0] == descriptors[1]


def _change(out, upstream_prefix, table, kind, key, column=None):
    return rows(
        out / "agingkb.db",
        "select changes.* from changes join commits on hash = commit_hash "
        "where upstream_commit like ? and table_name = ? and kind = ? and key = ? and [column] is ?",
        upstream_prefix + "%",
        table,
        kind,
        key,
        column,
    )


def _upstream(subject, out):
    return rows(out / "agingkb.db", "select upstream_commit from commits where subject = ?", subject)[0][
        "upstream_commit"
    ][:12]


def test_five_real_changes_checked_against_git_show(real_history):
    """Each was read in `git show` of its commit (subjects quoted below)."""
    out, _ = real_history
    # A page created: "Add microneedling intervention page; neutral evidence appraisal" adds
    # interventions/procedural/microneedling.md.
    created = _upstream("Add microneedling intervention page; neutral evidence appraisal", out)
    assert _change(out, created, "pages", "added", "interventions/procedural/microneedling")
    # A gap tag closed: "wiki: thymic health (Bernatz/Aerts 2026 Nature companion papers)" removes
    # the line "#stub — Seeded as a structural anchor for the [[immune-system]]; not yet written out."
    thymus = rows(out / "agingkb.db", "select upstream_commit from commits where subject like 'wiki: thymic health%'")[
        0
    ]["upstream_commit"][:12]
    assert _change(
        out,
        thymus,
        "gaps",
        "removed",
        "tissues/thymus · stub · #stub — Seeded as a structural anchor for the [[immune-system]]; not yet written out.",
    )
    # A grade changed: "Adjudicate taurine aging evidence" rewrites the taurine status row
    # "Biomarker premise (taurine declines with aging) | **Disputed** — ..." to
    # "**Not universal / likely cohort-dependent** — ...".
    taurine = _upstream("Adjudicate taurine aging evidence", out)
    [grade] = _change(
        out,
        taurine,
        "status_assessments",
        "changed",
        "molecules/compounds/taurine · Biomarker premise (taurine declines with aging)",
        "status_text",
    )
    assert grade["old_value"].startswith("**Disputed**") and grade["new_value"].startswith(
        "**Not universal / likely cohort-dependent**"
    )
    # A page verified: in db8ee6cf's upstream commit tissues/liver.md goes from "verified: false" to
    # "verified: true" with "verified-date: 2026-06-05".
    liver = rows(
        out / "agingkb.db",
        "select upstream_commit from commits join changes on hash = commit_hash where table_name = 'pages' "
        "and key = 'tissues/liver' and [column] = 'verified' and new_value = '1'",
    )
    assert len(liver) == 1
    [date] = _change(out, liver[0]["upstream_commit"][:12], "pages", "changed", "tissues/liver", "verified_date")
    assert (date["old_value"], date["new_value"]) == (None, "2026-06-05")
    # A footnote added: "wiki+sim: propagate Yoshida 2020; ..." adds [^yoshida2020] to
    # processes/somatic-mutation-accumulation.md.
    yoshida = rows(
        out / "agingkb.db", "select upstream_commit from commits where subject like 'wiki+sim: propagate Yoshida 2020%'"
    )[0]["upstream_commit"][:12]
    assert _change(out, yoshida, "footnotes", "added", "processes/somatic-mutation-accumulation · yoshida2020")


# --- the history on the site ------------------------------------------------


@pytest.fixture(scope="module")
def history_url(real_history, tmp_path_factory):
    out, _ = real_history
    with served(out / "agingkb.db", tmp_path_factory.mktemp("history-site") / "datasette.log") as url:
        yield url


def test_what_changed_draws_the_weeks_and_lists_the_latest_changes(history_url, real_history):
    out, _ = real_history
    response = httpx.get(history_url + "/-/what-changed", timeout=30)
    assert response.status_code == 200
    html = response.text
    for title in (
        "Pages added per week",
        "Gap tags opened per week",
        "Gap tags closed per week",
        "Pages verified per week",
        "Evidence grades changed per week",
    ):
        assert title in html
    assert "108 commits from 2026-06-01 to 2026-07-15" in html
    newest = rows(
        out / "agingkb.db",
        "select change, row_filter, table_name from changes "
        "where table_name != 'sections' and kind != 'removed' order by change desc limit 1",
    )[0]
    assert f'/agingkb/changes/{newest["change"]}"' in html
    assert f"/agingkb/{newest['table_name']}?{newest['row_filter']}" in html.replace("&amp;", "&")
    # the row link finds the row
    found = httpx.get(
        f"{history_url}/agingkb/{newest['table_name']}.json?{newest['row_filter']}&_shape=array", timeout=30
    ).json()
    assert len(found) >= 1


def test_a_page_row_shows_the_commits_that_touched_it(history_url):
    response = httpx.get(history_url + "/agingkb/pages/tissues~2Fthymus", timeout=30)
    assert response.status_code == 200
    html = response.text
    assert 'id="history"' in html and "wiki: thymic health (Bernatz/Aerts 2026 Nature companion papers)" in html
    assert (
        "gaps</a> · stub · #stub — Seeded as a structural anchor for the [[immune-system]]; "
        "not yet written out. · removed" in html
    )


def test_the_feed_of_the_real_history(history_url, real_history):
    """/-/changes.atom on the wiki's 108 commits: the newest 100 and the
    release, each commit's counts equal to the history tables'."""
    out, _ = real_history
    feed = feedparser.parse(httpx.get(history_url + "/-/changes.atom", timeout=60).content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert check_commit_entries(feed, out / "agingkb.db") == FEED_COMMITS == len(feed.entries) - 1
    newest = rows(out / "agingkb.db", "select upstream_commit from commits order by seq desc limit 1")[0]
    assert feed.entries[1].id.endswith("/commit/" + newest["upstream_commit"])  # after the release, built later


def test_the_history_pages_pass_axe(browser, history_url):
    for path in ("/-/what-changed", "/agingkb/pages/tissues~2Fthymus"):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        assert page.goto(history_url + path).status == 200
        violations = [v for v in _axe_violations(page) if v["impact"] in BLOCKING]
        page.close()
        assert not violations, (path, describe(violations))


def test_the_release_changelog_on_the_real_history(real_history, tmp_path, monkeypatch):
    """Two releases of the real wiki: "Fix beta-arrestin2 frontmatter", then
    the last commit. `git diff --name-status` between them adds 24 pages
    (molecules/proteins/p16.md among them) and removes none."""
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    out, _ = real_history
    checkout = out.parent / "wiki"
    older = rows(out / "agingkb.db", "select hash from commits where subject = 'Fix beta-arrestin2 frontmatter'")[0][
        "hash"
    ]
    tree = Tree(checkout, tmp_path / "tree")
    build(tree.show(older), tmp_path / "build", git_commit=older)
    first = make_release(tmp_path / "build", tmp_path / "dist", app="agingkb-test")
    result = build(
        tree.show(git(checkout, "rev-parse", "HEAD").strip()),
        tmp_path / "build",
        previous=tmp_path / "dist" / first.version,
    )
    assert result.compared_with == first.version and result.rows["changes"] > 0
    second = make_release(tmp_path / "build", tmp_path / "dist", app="agingkb-test")
    changelog = (second.directory / "CHANGELOG.md").read_text()
    assert changelog.startswith(f"# agingkb {second.version}: changes since {first.version}")
    assert "A patch release" in changelog
    assert "- Pages: 24 added, 0 removed, 0 renamed" in changelog and "- added `molecules/proteins/p16`" in changelog

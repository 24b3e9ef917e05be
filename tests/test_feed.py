"""/-/changes.atom (agingkb_site/feed.py), read by feedparser as a feed
reader reads it, from real servers of three builds of one small wiki: the
history of a git repository of three commits, a build compared with the
previous one (--previous) and a plain build. Every count an entry states
is checked against the history tables and by following its link."""

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest

from etl.options import BuildOptions
from etl.pipeline.build import build

from .conftest import fixture_repository, git, history_build, query, served
from .test_accessibility import BLOCKING, NARROW, WIDE, _axe_violations, describe
from .test_history_site import replicate_the_kinase

KINASE = "molecules/proteins/demo-kinase.md"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ALTERNATE = '<link rel="alternate" type="application/atom+xml"'


def verify_the_kinase(wiki):
    page = wiki / KINASE
    text = page.read_text()
    assert "verified: false\nverified-date: null" in text
    page.write_text(text.replace("verified: false\nverified-date: null", "verified: true\nverified-date: 2026-02-01"))


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Output directory per build: history (three commits), compared, plain."""
    scratch = tmp_path_factory.mktemp("feed")
    wiki = fixture_repository(scratch)
    build(wiki, scratch / "plain", options=BuildOptions(jobs=1))
    replicate_the_kinase(wiki)
    git(wiki, "commit", "-q", "-am", "The kinase replicated")
    verify_the_kinase(wiki)
    git(wiki, "commit", "-q", "-am", "Verify the kinase")
    build(wiki, scratch / "compared", options=BuildOptions(jobs=1), previous=scratch / "plain")
    history_build(wiki, scratch / "history")
    return {name: scratch / name for name in ("history", "compared", "plain")}


@pytest.fixture(scope="module")
def sites(builds, tmp_path_factory):
    logs = tmp_path_factory.mktemp("feed-logs")
    with (
        served(builds["history"] / "agingkb.db", logs / "history.log") as history,
        served(builds["compared"] / "agingkb.db", logs / "compared.log") as compared,
        served(builds["plain"] / "agingkb.db", logs / "plain.log") as plain,
    ):
        yield {"history": history, "compared": compared, "plain": plain}


def read_feed(url, headers=None):
    response = httpx.get(url + "/-/changes.atom", timeout=30, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed, response.text


def rows_behind(href: str) -> int:
    """The rows a link to a filtered table shows, read as JSON."""
    parts = urlsplit(href)
    found = httpx.get(
        f"{parts.scheme}://{parts.netloc}{parts.path}.json?{parts.query}&_shape=array&_size=max", timeout=30
    ).json()
    return len(found)


def stated(entry) -> dict[str, tuple[int, str]]:
    """Each linked count the entry's content states: words -> (n, href)."""
    found = {}
    for href, n, words in re.findall(r'<a href="([^"]+)">([\d,]+) ([^<]+)</a>', entry.content[0].value):
        found[words] = (int(n.replace(",", "")), href.replace("&amp;", "&"))
    return found


VERIFIED_BY_COMMIT = (
    "select count(*) from page_history h where h.commit_hash = ? and h.verified = 1 and (h.change = 'added' or "
    "exists (select 1 from changes v where v.commit_hash = h.commit_hash and v.page = h.page "
    "and v.table_name = 'pages' and v.[column] = 'verified'))"
)


def shown(counts: dict, one: str, many: str) -> int:
    return counts.get(many, counts.get(one, (0, "")))[0]


def check_commit_entries(feed, db) -> int:
    """Every commit entry's counts against the history tables, counted here
    from the tables themselves; the number of commit entries checked."""
    by_upstream = {e.id.rsplit("/commit/", 1)[1]: e for e in feed.entries if "/commit/" in e.id}
    checked = len(by_upstream)
    commits = query(db, "select hash, upstream_commit, date, pages_changed from commits order by seq desc")
    for commit_hash, upstream, date, pages_changed in commits[:checked]:  # the newest, as the feed has them
        entry = by_upstream.pop(upstream)
        expected = datetime.fromisoformat(date).astimezone(UTC)
        assert datetime.fromisoformat(entry.updated.replace("Z", "+00:00")) == expected
        counts = stated(entry)
        assert shown(counts, "page with rows changed", "pages with rows changed") == pages_changed
        for change in ("added", "removed"):
            sql = "select count(*) from page_history where commit_hash = ? and change = ?"
            assert shown(counts, f"page {change}", f"pages {change}") == query(db, sql, commit_hash, change)[0][0]
        for event, words in (("opened", "opened"), ("closed", "closed"), ("changed", "reworded")):
            sql = "select count(*) from gap_events where commit_hash = ? and event = ?"
            n = query(db, sql, commit_hash, event)[0][0]
            assert shown(counts, f"gap tag {words}", f"gap tags {words}") == n, (entry.title, words)
        sql = (
            "select count(distinct key) from changes where commit_hash = ? and table_name = 'status_assessments' "
            "and [column] in ('status', 'status_text')"
        )
        grades = query(db, sql, commit_hash)[0][0]
        assert shown(counts, "evidence grade changed", "evidence grades changed") == grades
        verified = query(db, VERIFIED_BY_COMMIT, commit_hash)[0][0]
        assert (f"{verified:,} page{'s' if verified != 1 else ''} verified" in entry.content[0].value) == bool(verified)
    assert not by_upstream  # every commit entry is a commit of the history
    return checked


def test_the_feed_is_valid_atom_with_the_required_elements(sites):
    feed, text = read_feed(sites["history"])
    assert feed.feed.id.startswith("tag:github.com,2026:") and feed.feed.title and feed.feed.author
    assert RFC3339.match(feed.feed.updated)
    assert feed.feed.updated == max(entry.updated for entry in feed.entries)
    assert any(link.rel == "self" and link.href.endswith("/-/changes.atom") for link in feed.feed.links)
    for entry in feed.entries:
        assert entry.id.startswith("tag:") and entry.title and RFC3339.match(entry.updated)
        assert entry.link.startswith(sites["history"]) and httpx.get(entry.link, timeout=30).status_code == 200
    assert len({entry.id for entry in feed.entries}) == len(feed.entries)


def test_one_entry_per_commit_with_what_it_changed(sites, builds):
    db = builds["history"] / "agingkb.db"
    feed, _ = read_feed(sites["history"])
    commits = query(db, "select hash, upstream_commit, subject, date, gaps_opened, gaps_closed from commits")
    by_id = {entry.id: entry for entry in feed.entries}
    assert len(feed.entries) == len(commits) + 1  # and the release
    assert check_commit_entries(feed, db) == len(commits)
    for commit_hash, upstream, subject, date, opened, closed in commits:
        entry = next(e for i, e in by_id.items() if i.endswith(f"/commit/{upstream}"))
        assert entry.title.startswith(subject)
        expected = datetime.fromisoformat(date).astimezone(UTC)
        assert datetime.fromisoformat(entry.updated.replace("Z", "+00:00")) == expected
        counts = stated(entry)
        (added,) = query(
            db, "select count(*) from page_history where commit_hash = ? and change = 'added'", commit_hash
        )[0]
        assert counts.get("pages added", counts.get("page added", (0, "")))[0] == added
        for words, n in (("opened", opened), ("closed", closed)):
            shown = counts.get(f"gap tags {words}", counts.get(f"gap tag {words}", (0, "")))
            assert shown[0] == n
            if n:
                assert rows_behind(shown[1]) == n  # the link shows exactly those tags
    replicated = next(e for e in feed.entries if e.title == "The kinase replicated")
    counts = stated(replicated)
    assert counts["gap tag closed"][0] == 1 and counts["evidence grade changed"][0] == 1
    assert rows_behind(counts["evidence grade changed"][1]) == 1
    verified = next(e for e in feed.entries if e.title == "Verify the kinase")
    assert "1 page verified" in verified.content[0].value and "molecules/proteins/demo-kinase" in verified.summary


def test_ids_and_dates_are_stable_across_renders(sites):
    first, _ = read_feed(sites["history"])
    second, _ = read_feed(sites["history"])
    assert [(e.id, e.updated, e.title) for e in first.entries] == [(e.id, e.updated, e.title) for e in second.entries]
    # The ids name what they describe, not the host that served them.
    other, _ = read_feed(sites["history"], headers={"Host": "data.example.org"})
    assert [e.id for e in other.entries] == [e.id for e in first.entries]
    assert all(e.link.startswith("http://data.example.org/") for e in other.entries)


def test_what_changed_links_the_feed(sites):
    html = httpx.get(sites["history"] + "/-/what-changed", timeout=30).text
    head = html.split("</head>", 1)[0]
    assert f'{ALTERNATE} title="What changed: Atom feed" href="/-/changes.atom">' in head
    body = html.split("</head>", 1)[1]
    assert 'href="/-/changes.atom" type="application/atom+xml">the Atom feed of what changed</a>' in body


def test_a_build_compared_with_the_previous_release_has_a_release_entry(sites, builds):
    feed, _ = read_feed(sites["compared"])
    (version,) = query(builds["compared"] / "agingkb.db", "select dataset_version from snapshots")[0]
    (release,) = feed.entries  # no commits: the release alone
    assert release.id.endswith(f"/release/{version}") and release.title == f"agingkb {version}"
    counts = stated(release)
    db = builds["compared"] / "agingkb.db"
    (closed,) = query(db, "select count(*) from gap_events where commit_hash is null and event = 'closed'")[0]
    (changes,) = query(db, "select count(*) from changes where commit_hash is null")[0]
    assert closed == 1 and counts["gap tag closed"][0] == closed and rows_behind(counts["gap tag closed"][1]) == 1
    assert counts["changes since the previous release"][0] == changes
    assert counts["evidence grade changed"][0] == 1


def test_a_build_without_history_has_a_feed_of_its_release(sites, builds):
    """As /-/what-changed, the feed is answered without a history (and
    nothing links it then): it holds the release the site serves."""
    feed, _ = read_feed(sites["plain"])
    (version, snapshot) = query(builds["plain"] / "agingkb.db", "select dataset_version, snapshot from snapshots")[0]
    (release,) = feed.entries
    assert release.title == f"agingkb {version}" and snapshot in release.summary
    home = httpx.get(sites["plain"] + "/", timeout=30).text
    assert "changes.atom" not in home and "/-/what-changed" not in home
    page = httpx.get(sites["plain"] + "/-/what-changed", timeout=30).text
    assert "This build has no history" in page and ALTERNATE in page


@pytest.mark.parametrize("width", [WIDE, NARROW])
def test_what_changed_with_its_feed_link_passes_axe(browser, sites, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    assert page.goto(sites["history"] + "/-/what-changed").status == 200
    assert page.locator('a[href="/-/changes.atom"]').count() == 1
    violations = [v for v in _axe_violations(page) if v["impact"] in BLOCKING]
    page.close()
    assert not violations, describe(violations)

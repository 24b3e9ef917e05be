"""Serve stage: /-/changes.atom, an Atom feed (RFC 4287) of what changed.

One entry per commit of the history (`etl history`: the newest
FEED_COMMITS), summarising the pages added and removed, gap tags opened,
closed and reworded, evidence grades changed and pages verified, each
count linking to its rows; and one entry for the release this site serves
(its dataset version), with what changed since the previous release when
the build was compared with one (`--previous`).

Counted as /-/what-changed counts them (charts.py): gap tags from
gap_events, grades as the distinct Dimension | Status rows whose status
changed, a page verified when it became verified or was added verified.

A build without history still has its release, so the feed is always
there and always valid: it then holds the release entry alone. (The
What-changed page is likewise always answered, and linked only when there
is a history: history.py.)

Entry ids are tag: URIs (RFC 4151) that depend on nothing but what they
name, the upstream commit or the dataset version, so a reader sees the same
entry however often the feed is rendered or the site moves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree as ET

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import Response

from .home import dataset_created
from .names import DATABASE

ATOM = "http://www.w3.org/2005/Atom"
PATH = "/-/changes.atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
FEED_COMMITS = 100  # the newest commits; the history tables hold them all
TAG_DATE = "2026"  # the tag: URIs' date (RFC 4151): fixed, so that ids never change

COMMITS_SQL = (
    "select hash, upstream_commit, date, subject, author, status, pages_changed, gaps_opened, gaps_closed, "
    "gaps_changed, pages_held from commits order by seq desc limit ?"
)
NEWEST = "(select hash from commits order by seq desc limit :limit)"
PAGES_SQL = (
    "select commit_hash, sum(change = 'added'), sum(change = 'removed') from page_history "
    f"where commit_hash in {NEWEST} group by commit_hash"
)
GRADES_SQL = (
    "select commit_hash, count(distinct key) from changes where table_name = 'status_assessments' "
    "and [column] in ('status', 'status_text') and commit_hash {scope} group by commit_hash"
)
VERIFIED_SQL = (
    "select h.commit_hash, h.page from page_history h where h.commit_hash in "
    + NEWEST
    + " and h.verified = 1 and (h.change = 'added' or exists (select 1 from changes v where "
    "v.commit_hash = h.commit_hash and v.page = h.page and v.table_name = 'pages' and v.[column] = 'verified')) "
    "order by h.page"
)
RELEASE_SQL = (
    "select (select count(*) from changes where commit_hash is null) as changes, "
    "(select count(*) from changes where commit_hash is null and table_name = 'pages' and kind = 'added') as added, "
    "(select count(*) from changes where commit_hash is null and table_name = 'pages' and kind = 'removed') "
    "as removed, (select count(*) from gap_events where commit_hash is null and event = 'opened') as opened, "
    "(select count(*) from gap_events where commit_hash is null and event = 'closed') as closed, "
    "(select count(*) from gap_events where commit_hash is null and event = 'changed') as reworded"
)

# What the release entry counts (RELEASE_SQL's columns, and the grades): the
# words for one and for many, and the rows each count links to.
RELEASE_COUNTS = [
    ("changes", "change since the previous release", "changes since the previous release", "changes", {}),
    ("added", "page added", "pages added", "changes", {"table_name": "pages", "kind": "added"}),
    ("removed", "page removed", "pages removed", "changes", {"table_name": "pages", "kind": "removed"}),
    ("opened", "gap tag opened", "gap tags opened", "gap_events", {"event": "opened"}),
    ("closed", "gap tag closed", "gap tags closed", "gap_events", {"event": "closed"}),
    ("reworded", "gap tag reworded", "gap tags reworded", "gap_events", {"event": "changed"}),
    (
        "grades",
        "evidence grade changed",
        "evidence grades changed",
        "changes",
        {"table_name": "status_assessments", "column": "status_text"},
    ),
]


def rfc3339(moment: str) -> str:
    """An ISO 8601 date or time as RFC 3339 in UTC (a date alone: its midnight)."""
    parsed = datetime.fromisoformat(moment)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def tag_uri(source_url: str, specific: str) -> str:
    """tag:host,TAG_DATE:path/specific, the host and path of the dataset's source."""
    parts = urlsplit(source_url)
    return f"tag:{parts.hostname},{TAG_DATE}:{parts.path.strip('/')}/agingkb/{specific}"


def count_line(n: int, one: str, many: str, href: str | None) -> str | None:
    """'3 gap tags opened', linked to its rows; None for none."""
    if not n:
        return None
    text = f"{n:,} {one if n == 1 else many}"
    return f'<a href="{escape(href)}">{text}</a>' if href else text


def table_url(base: str, table: str, filters: dict) -> str:
    return f"{base}/{DATABASE}/{table}?{urlencode(filters)}"


def page_url(base: str, page: str) -> str:
    return f"{base}/{DATABASE}/pages/{tilde_encode(page)}"


def commit_lines(base: str, commit: dict, pages: tuple[int, int], grades: int, verified: list[str]) -> list[str]:
    """What one commit changed, a line per measure, each linked to its rows."""
    scope = {"commit_hash": commit["hash"]}
    lines = [
        count_line(
            commit["pages_changed"],
            "page with rows changed",
            "pages with rows changed",
            table_url(base, "page_history", scope),
        ),
        count_line(
            pages[0], "page added", "pages added", table_url(base, "page_history", {**scope, "change": "added"})
        ),
        count_line(
            pages[1], "page removed", "pages removed", table_url(base, "page_history", {**scope, "change": "removed"})
        ),
    ]
    for event, column in (("opened", "gaps_opened"), ("closed", "gaps_closed"), ("changed", "gaps_changed")):
        words = "reworded" if event == "changed" else event
        href = table_url(base, "gap_events", {**scope, "event": event})
        lines.append(count_line(commit[column], f"gap tag {words}", f"gap tags {words}", href))
    grades_href = table_url(base, "changes", {**scope, "table_name": "status_assessments", "column": "status_text"})
    lines.append(count_line(grades, "evidence grade changed", "evidence grades changed", grades_href))
    if verified:
        named = ", ".join(f'<a href="{escape(page_url(base, page))}">{escape(page)}</a>' for page in verified)
        lines.append(f"{len(verified):,} {'page' if len(verified) == 1 else 'pages'} verified: {named}")
    if commit["pages_held"]:
        held = commit["pages_held"]
        lines.append(f"{held:,} {'page' if held == 1 else 'pages'} held at their last version that built")
    return [line for line in lines if line]


def summary_text(lines: list[str]) -> str:
    """The lines without their markup, for readers that show the summary alone."""
    plain = []
    for line in lines:
        element = ET.fromstring(f"<p>{line}</p>")
        plain.append("".join(element.itertext()))
    return "; ".join(plain) if plain else "No change to the tables"


def entry(feed: ET.Element, *, id_: str, title: str, updated: str, link: str, lines: list[str], author: str | None):
    item = ET.SubElement(feed, f"{{{ATOM}}}entry")
    ET.SubElement(item, f"{{{ATOM}}}id").text = id_
    ET.SubElement(item, f"{{{ATOM}}}title").text = title
    ET.SubElement(item, f"{{{ATOM}}}updated").text = updated
    ET.SubElement(item, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=link)
    if author:
        ET.SubElement(ET.SubElement(item, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = author
    ET.SubElement(item, f"{{{ATOM}}}summary").text = summary_text(lines)
    html = "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>" if lines else "<p>No change.</p>"
    ET.SubElement(item, f"{{{ATOM}}}content", type="html").text = html


async def commit_entries(database, base: str) -> list[dict]:
    """The newest FEED_COMMITS commits, newest first, with what each changed."""
    commits = [dict(row) for row in (await database.execute(COMMITS_SQL, [FEED_COMMITS])).rows]
    if not commits:
        return []
    pages = {h: (a or 0, r or 0) for h, a, r in (await database.execute(PAGES_SQL, {"limit": FEED_COMMITS})).rows}
    grades_sql = GRADES_SQL.format(scope=f"in {NEWEST}")
    grades = dict((await database.execute(grades_sql, {"limit": FEED_COMMITS})).rows)
    verified: dict[str, list[str]] = {}
    for commit_hash, page in (await database.execute(VERIFIED_SQL, {"limit": FEED_COMMITS})).rows:
        verified.setdefault(commit_hash, []).append(page)
    entries = []
    for commit in commits:
        lines = commit_lines(
            base,
            commit,
            pages.get(commit["hash"], (0, 0)),
            grades.get(commit["hash"], 0),
            verified.get(commit["hash"], []),
        )
        baseline = " (the baseline: its pages are the history's first)" if commit["status"] == "baseline" else ""
        entries.append(
            {
                "key": f"commit/{commit['upstream_commit']}",
                "title": commit["subject"] + baseline,
                "updated": rfc3339(commit["date"]),
                "link": f"{base}/{DATABASE}/commits/{tilde_encode(commit['hash'])}",
                "lines": lines,
                "author": commit["author"],
            }
        )
    return entries


async def release_entry(database, base: str, snapshot: dict, built: str) -> dict:
    """The release this site serves, with what changed since the previous
    release when the build was compared with one."""
    counts = dict((await database.execute(RELEASE_SQL)).first())
    lines = [
        f"Dataset version {escape(snapshot['dataset_version'])}, snapshot {escape(snapshot['snapshot'])}"
        + (f" ({escape(snapshot['commit_statement'])})" if snapshot.get("commit_statement") else "")
        + f": {snapshot['pages']:,} pages"
    ]
    if counts["changes"]:
        grades = dict((await database.execute(GRADES_SQL.format(scope="is null"))).rows)
        counts["grades"] = next(iter(grades.values()), 0)
        for key, one, many, table, filters in RELEASE_COUNTS:
            href = table_url(base, table, {"commit_hash__isnull": "1", **filters})
            lines.append(count_line(counts[key], one, many, href))
    return {
        "key": f"release/{snapshot['dataset_version']}",
        "title": f"agingkb {snapshot['dataset_version']}",
        "updated": built,
        "link": f"{base}/",
        "lines": [line for line in lines if line],
        "author": None,
    }


async def feed_xml(datasette, request) -> bytes:
    """The whole feed, its entries newest first."""
    database = datasette.get_database(DATABASE)
    base = datasette.absolute_url(request, "/").rstrip("/")
    metadata = datasette.metadata() or {}
    source = metadata.get("source_url") or metadata.get("about_url")
    snapshot = dict((await database.execute("select * from snapshots")).first())
    built = rfc3339(dataset_created(datasette))
    entries = [*await commit_entries(database, base), await release_entry(database, base, snapshot, built)]
    entries.sort(key=lambda item: item["updated"], reverse=True)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = tag_uri(source, "changes")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"{metadata.get('title') or 'agingkb'}: what changed"
    ET.SubElement(feed, f"{{{ATOM}}}subtitle").text = (
        "Per commit of the wiki's history and per release: pages added, gap tags opened and closed, "
        "evidence grades changed, pages verified."
    )
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = entries[0]["updated"]
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = metadata.get("about") or "agingkb"
    if metadata.get("about_url"):
        ET.SubElement(author, f"{{{ATOM}}}uri").text = metadata["about_url"]
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml", href=base + PATH)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=base + "/-/what-changed")
    if metadata.get("license_url"):
        ET.SubElement(feed, f"{{{ATOM}}}rights").text = metadata.get("license") or metadata["license_url"]
    for item in entries:
        entry(
            feed,
            id_=tag_uri(source, item["key"]),
            title=item["title"],
            updated=item["updated"],
            link=item["link"],
            lines=item["lines"],
            author=item["author"],
        )
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


async def changes_feed(datasette, request):
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    return Response(await feed_xml(datasette, request), content_type=CONTENT_TYPE)


@hookimpl
def register_routes():
    return [(r"^/-/changes\.atom$", changes_feed)]

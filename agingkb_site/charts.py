"""Serve stage: /-/charts, pictures of the dataset a reader would rather
look at than read: knowledge-gap tags by page type, evidence grades by
dimension, and verification passes by month; and /-/what-changed, the
wiki's history per week (pages added, gap tags opened and closed, pages
verified, grades changed) with the latest changes. Stacked bars drawn as
SVG on the server from SQL over the immutable database; every label is
escaped. Their style is static/charts.css."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from .assets import static_url
from .feed import PATH as FEED_PATH
from .names import DATABASE

PALETTE = ["#1f5f99", "#d9822b", "#3d9970", "#b03a2e", "#7d3c98", "#8d8d8d", "#c9a227", "#17a2b8"]
LABEL_WIDTH, BAR_WIDTH, BAR_HEIGHT = 170, 620, 18
LEGEND_Y, LEGEND_COLUMNS = 4, 4
STYLESHEET = "charts.css"

CHARTS = [
    {
        "id": "gaps-by-type",
        "title": "Knowledge-gap tags by page type",
        "about": "Every #gap/..., #stub and #unsourced tag, counted by the type of page it is on; "
        "the five commonest tags get their own colour.",
        "sql": "select coalesce(p.type, '(none)') as category, g.tag as series, count(*) as n "
        "from gaps g join pages p on p.page = g.page group by 1, 2",
        "top_series": 5,
        "link": lambda category, series: ("gaps", {"tag": series} if series != "other" else {"_facet": "tag"}),
    },
    {
        "id": "grades-by-dimension",
        "title": "Evidence grades by dimension",
        "about": "Rows of the wiki's Dimension | Status tables: "
        "how far findings on each dimension are shown to hold in humans.",
        "sql": "select dimension as category, coalesce(status, '(unrecognised)') as series, count(*) as n "
        "from status_assessments group by 1, 2",
        "top_series": 7,
        "link": lambda category, series: ("status_assessments", {"dimension": category, "_facet": "status"}),
    },
    {
        "id": "verification-by-month",
        "title": "Verification passes by month",
        "about": "Pages by the month of their last verification pass (verified-date), "
        "split by whether the page is marked verified.",
        "sql": "select substr(verified_date, 1, 7) as category, "
        "case verified when 1 then 'verified' else 'not verified' end as series, count(*) as n "
        "from pages where verified_date is not null group by 1, 2",
        "top_series": 2,
        "sort": "category",
        "link": lambda category, series: ("pages", {"verified_date__startswith": category}),
    },
]


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _series_kept(counts: list[tuple[str, str, int]], top_series: int) -> list[str]:
    """The top_series commonest series, then 'other' if any is left out."""
    totals: dict[str, int] = {}
    for _, series, n in counts:
        totals[series] = totals.get(series, 0) + n
    kept = [s for s, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top_series]]
    if len(kept) < len(totals):
        kept.append("other")
    return kept


def _legend(kept: list[str]) -> tuple[list[str], int]:
    """The legend's parts, and the y where the bars start."""
    parts = []
    for index, series in enumerate(kept):
        x, y = (index % LEGEND_COLUMNS) * 200, LEGEND_Y + (index // LEGEND_COLUMNS) * 18
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{_colour(index)}"/>')
        parts.append(f'<text x="{x + 18}" y="{y + 11}" class="legend">{escape(series)}</text>')
    return parts, LEGEND_Y + ((len(kept) + LEGEND_COLUMNS - 1) // LEGEND_COLUMNS) * 18 + 10


def _bar(category: str, counts: dict[str, int], kept: list[str], y: int, largest: int, link) -> str:
    """One category's bar: a segment per series, each a link to its rows."""
    x = LABEL_WIDTH
    parts = [f'<g class="bar" data-category="{escape(category)}">']
    parts.append(f'<text x="0" y="{y + 13}" class="category">{escape(category)}</text>')
    for index, series in enumerate(kept):
        n = counts.get(series, 0)
        if not n:
            continue
        width = n / largest * BAR_WIDTH
        name = f"{category} · {series}: {n:,}"
        segment = (
            f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{_colour(index)}" '
            f'class="segment"><title>{escape(name)}</title></rect>'
        )
        if link:
            table, params = link(category, series)
            href = f"/{DATABASE}/{table}?{escape(urlencode(params))}"
            segment = f'<a href="{href}" aria-label="{escape(name)}">{segment}</a>'
        parts.append(segment)
        x += width
    parts.append(f'<text x="{x + 6:.1f}" y="{y + 13}" class="total">{sum(counts.values()):,}</text></g>')
    return "".join(parts)


def stacked_bars_svg(
    chart_id: str, title: str, counts: list[tuple[str, str, int]], top_series: int, sort: str = "total", link=None
) -> str:
    """Horizontal stacked bars: one bar per category, one colour per series
    (the top_series commonest; the rest together as 'other')."""
    kept = _series_kept(counts, top_series)
    bars: dict[str, dict[str, int]] = {}
    for category, series, n in counts:
        key = series if series in kept else "other"
        bars.setdefault(category, {}).setdefault(key, 0)
        bars[category][key] += n
    categories = sorted(bars, key=lambda c: (-sum(bars[c].values()), c)) if sort == "total" else sorted(bars)
    largest = max((sum(b.values()) for b in bars.values()), default=1)
    parts, y = _legend(kept)
    for category in categories:
        parts.append(_bar(category, bars[category], kept, y, largest, link))
        y += BAR_HEIGHT + 6
    width = LABEL_WIDTH + BAR_WIDTH + 70
    # A group, not an image: its bars are links a keyboard and a screen reader reach.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="group" aria-label="{escape(title)}" id="{chart_id}" '
        f'width="{width}" height="{y + 4}" viewBox="0 0 {width} {y + 4}">{"".join(parts)}</svg>'
    )


def chart_section(title: str, about_html: str, sql_link: str, svg: str) -> str:
    return (
        f'<section class="chart"><h2>{escape(title)}</h2><p>{about_html}'
        f'<a href="{escape(sql_link)}">The numbers behind it</a>.</p>'
        f'<div class="scroll-box" data-label="{escape(title)}">{svg}</div></section>'
    )


async def picture(datasette, request, body: str, title: str, feed: str | None = None) -> Response:
    """A page of pictures (templates/picture.html) with the charts' style,
    and the Atom feed it is also offered as, if any."""
    context = {"body_html": body, "stylesheet": static_url(datasette, STYLESHEET), "page_title": title, "feed": feed}
    return Response.html(await datasette.render_template("picture.html", context, request=request))


async def charts(datasette, request):
    database = datasette.get_database(DATABASE)
    sections = []
    for chart in CHARTS:
        rows = (await database.execute(chart["sql"])).rows
        counts = [(str(r[0]), str(r[1]), int(r[2])) for r in rows]
        svg = (
            stacked_bars_svg(
                chart["id"], chart["title"], counts, chart["top_series"], chart.get("sort", "total"), chart["link"]
            )
            if counts
            else "<p>No data.</p>"
        )
        sql_link = f"/{DATABASE}?" + urlencode({"sql": chart["sql"]})
        sections.append(chart_section(chart["title"], f"{escape(chart['about'])} ", sql_link, svg))
    body = (
        "<h1>Charts</h1><p>Pictures of the dataset, drawn from the same tables the site serves. "
        "Click a bar for its rows.</p>" + "".join(sections)
    )
    return await picture(datasette, request, body, "Charts")


# --- /-/what-changed: the history of the wiki, per week ----------------------

WEEK = "date(c.day, '-6 days', 'weekday 1')"  # the Monday of the commit's week, as gap_events.week
# Gap tags are counted from gap_events alone, as every other route counts
# them (etl/compare/gap_events.py): a claim reworded is changed, not closed.
GAP_EVENTS_PER_WEEK = (
    "select week, count(*) from gap_events where event = '{event}' and commit_hash is not null group by 1"
)
WEEKLY = [
    (
        "pages-added",
        "Pages added",
        "select {week} as week, count(*) from page_history h join commits c on c.hash = h.commit_hash "
        "where c.status = 'built' and h.change = 'added' group by 1",
        "page_history",
        {"change": "added"},
    ),
    (
        "gaps-opened",
        "Gap tags opened",
        GAP_EVENTS_PER_WEEK.format(event="opened"),
        "gap_events",
        {"event": "opened"},
    ),
    (
        "gaps-closed",
        "Gap tags closed",
        GAP_EVENTS_PER_WEEK.format(event="closed"),
        "gap_events",
        {"event": "closed"},
    ),
    (
        "pages-verified",
        "Pages verified",
        "select {week} as week, count(*) from page_history h join commits c on c.hash = h.commit_hash "
        "where c.status = 'built' and h.verified = 1 and (h.change = 'added' or exists "
        "(select 1 from changes v where v.commit_hash = h.commit_hash "
        "and v.page = h.page and v.table_name = 'pages' and v.[column] = 'verified')) group by 1",
        "page_history",
        {"verified": "1"},
    ),
    (
        "grades-changed",
        "Evidence grades changed",
        "select {week} as week, count(distinct ch.key || ch.commit_hash) from changes ch "
        "join commits c on c.hash = ch.commit_hash where ch.table_name = 'status_assessments' "
        "and ch.[column] in ('status', 'status_text') group by 1",
        "changes",
        {"table_name": "status_assessments", "column": "status_text"},
    ),
]
LATEST = 100  # changes listed on the page, newest first
LATEST_SQL = (
    "select ch.change, ch.table_name, ch.key, ch.kind, ch.[column], ch.old_value, ch.new_value, ch.row_filter, c.day "
    "from changes ch left join commits c on c.hash = ch.commit_hash where ch.table_name != 'sections' "
    "order by ch.change desc limit ?"
)
NO_HISTORY = (
    "<h1>What changed</h1><p>This build has no history. <code>etl history --wiki CHECKOUT</code> builds every "
    "commit of a wiki checkout and records what each changed, and a release built with <code>--previous</code> "
    "records what changed since the release before it; the site then shows it here.</p>"
)

# The same news as an Atom feed (feed.py), per commit and per release.
FEED_LINK = (
    f'<p class="feed">Follow it in a feed reader: <a href="{FEED_PATH}" type="application/atom+xml">'
    "the Atom feed of what changed</a>, an entry per commit and per release.</p>"
)


def _week_link(table: str, filters: dict):
    return lambda week, series: (table, {**filters, **_week_filter(table, week)})


async def weekly_sections(database, base: str) -> list[str]:
    """A chart per WEEKLY measure, each bar a week."""
    sections = []
    for chart_id, title, sql, table, filters in WEEKLY:
        sql = sql.format(week=WEEK)
        counts = [(str(week), title, int(n or 0)) for week, n in (await database.execute(sql)).rows]
        svg = (
            stacked_bars_svg(chart_id, f"{title} per week", counts, 1, "category", _week_link(table, filters))
            if counts
            else "<p>None.</p>"
        )
        sql_link = f"{base}?" + urlencode({"sql": sql})
        sections.append(chart_section(f"{title} per week", "Weeks start on Monday. ", sql_link, svg))
    return sections


def change_item(base: str, change, table, key, kind, column, old, new, row_filter, day) -> str:
    """One row of the changes table as a list item."""
    what = f"{escape(kind)} {escape(column)}: {escape(_short(old))} → {escape(_short(new))}" if column else escape(kind)
    row_link = (
        f' · <a href="{escape(base)}/{escape(table)}?{escape(row_filter)}">the row now</a>' if kind != "removed" else ""
    )
    when = f"{escape(day)} · " if day else ""
    link = f'<a href="{escape(base)}/changes/{change}">{escape(table)} · {escape(_short(key, 120))}</a>'
    return f"<li>{when}{link} · {what}{row_link}</li>"


async def what_changed(datasette, request):
    database = datasette.get_database(DATABASE)
    base = datasette.urls.database(DATABASE)
    commits = (await database.execute("select count(*), min(day), max(day) from commits")).first()
    changes = (await database.execute("select count(*), count(commit_hash) from changes")).first()
    if not commits[0] and not changes[0]:
        return await picture(datasette, request, NO_HISTORY + FEED_LINK, "What changed", FEED_PATH)
    sections = []
    if commits[0]:
        intro = (
            f"The wiki's history as this build recorded it: {commits[0]:,} commits "
            f"from {escape(commits[1])} to {escape(commits[2])}. "
            f'Per commit in the <a href="{escape(base)}/commits">commits</a> table, '
            f'per page in <a href="{escape(base)}/page_history">page history</a>, '
            f'row by row in <a href="{escape(base)}/changes">changes</a>, and tag by tag in '
            f'<a href="{escape(base)}/gap_events">gap events</a> (a claim reworded is a gap changed, '
            "not one closed and one opened). Click a bar for its rows."
        )
        sections = await weekly_sections(database, base)
        listed = "Latest changes"
    else:
        intro = (
            f"What changed since the previous release, row by row: {changes[0]:,} changes "
            f'in the <a href="{escape(base)}/changes">changes</a> table.'
        )
        listed = "Changes since the previous release"
    items = [change_item(base, *row) for row in (await database.execute(LATEST_SQL, [LATEST])).rows]
    body = (
        f"<h1>What changed</h1><p>{intro}</p>{FEED_LINK}"
        + "".join(sections)
        + f"<section><h2>{listed}</h2><p>The newest {len(items)} changes "
        "(section texts left out; they change with every edit in them).</p>"
        + f'<ol class="latest-changes" reversed>{"".join(items)}</ol></section>'
    )
    return await picture(datasette, request, body, "What changed", FEED_PATH)


def _week_filter(table: str, monday: str) -> dict:
    """A bar links to its own week: gap_events has the week, page_history
    the commit's day."""
    if table == "gap_events":
        return {"week": monday}
    if table != "page_history":
        return {}
    return {"day__gte": monday, "day__lt": (date.fromisoformat(monday) + timedelta(days=7)).isoformat()}


def _short(text, limit: int = 80) -> str:
    text = " ".join(str(text or "(empty)").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@hookimpl
def register_routes():
    return [(r"^/-/charts$", charts), (r"^/-/what-changed$", what_changed)]

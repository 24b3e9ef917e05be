"""Serve stage: /-/charts, pictures of the dataset a reader would rather
look at than read: knowledge-gap tags by page type, evidence grades by
dimension, and verification passes by month; and /-/what-changed, the
wiki's history per week (pages added, gap tags opened and closed, pages
verified, grades changed) with the latest changes. Stacked bars drawn as
SVG on the server from SQL over the immutable database; every label is
escaped."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

DATABASE = "agingkb"
PALETTE = ["#1f5f99", "#d9822b", "#3d9970", "#b03a2e", "#7d3c98", "#8d8d8d", "#c9a227", "#17a2b8"]
LABEL_WIDTH, BAR_WIDTH, BAR_HEIGHT = 170, 620, 18

CHARTS = [
    {
        "id": "gaps-by-type",
        "title": "Knowledge-gap tags by page type",
        "about": "Every #gap/..., #stub and #unsourced tag, counted by the type of page it is on; the five commonest tags get their own colour.",
        "sql": "select coalesce(p.type, '(none)') as category, g.tag as series, count(*) as n from gaps g join pages p on p.page = g.page group by 1, 2",
        "top_series": 5,
        "link": lambda category, series: ("gaps", {"tag": series} if series != "other" else {"_facet": "tag"}),
    },
    {
        "id": "grades-by-dimension",
        "title": "Evidence grades by dimension",
        "about": "Rows of the wiki's Dimension | Status tables: how far findings on each dimension are shown to hold in humans.",
        "sql": "select dimension as category, coalesce(status, '(unrecognised)') as series, count(*) as n from status_assessments group by 1, 2",
        "top_series": 7,
        "link": lambda category, series: ("status_assessments", {"dimension": category, "_facet": "status"}),
    },
    {
        "id": "verification-by-month",
        "title": "Verification passes by month",
        "about": "Pages by the month of their last verification pass (verified-date), split by whether the page is marked verified.",
        "sql": "select substr(verified_date, 1, 7) as category, case verified when 1 then 'verified' else 'not verified' end as series, count(*) as n "
        "from pages where verified_date is not null group by 1, 2",
        "top_series": 2,
        "sort": "category",
        "link": lambda category, series: ("pages", {"verified_date__startswith": category}),
    },
]


def stacked_bars_svg(
    chart_id: str, title: str, counts: list[tuple[str, str, int]], top_series: int, sort: str = "total", link=None
) -> str:
    """Horizontal stacked bars: one bar per category, one colour per series
    (the top_series commonest; the rest together as 'other')."""
    totals_by_series: dict[str, int] = {}
    for _, series, n in counts:
        totals_by_series[series] = totals_by_series.get(series, 0) + n
    kept = [s for s, _ in sorted(totals_by_series.items(), key=lambda kv: (-kv[1], kv[0]))[:top_series]]
    if len(kept) < len(totals_by_series):
        kept.append("other")
    bars: dict[str, dict[str, int]] = {}
    for category, series, n in counts:
        key = series if series in kept else "other"
        bars.setdefault(category, {}).setdefault(key, 0)
        bars[category][key] += n
    categories = sorted(bars, key=lambda c: (-sum(bars[c].values()), c)) if sort == "total" else sorted(bars)
    largest = max((sum(b.values()) for b in bars.values()), default=1)
    parts, y = [], 0
    legend_y = 4
    for index, series in enumerate(kept):
        x = (index % 4) * 200
        row = index // 4
        parts.append(
            f'<rect x="{x}" y="{legend_y + row * 18}" width="12" height="12" fill="{PALETTE[index % len(PALETTE)]}"/>'
        )
        parts.append(f'<text x="{x + 18}" y="{legend_y + row * 18 + 11}" class="legend">{escape(series)}</text>')
    y = legend_y + ((len(kept) + 3) // 4) * 18 + 10
    for category in categories:
        x = LABEL_WIDTH
        parts.append(f'<g class="bar" data-category="{escape(category)}">')
        parts.append(f'<text x="0" y="{y + 13}" class="category">{escape(category)}</text>')
        for index, series in enumerate(kept):
            n = bars[category].get(series, 0)
            if not n:
                continue
            width = n / largest * BAR_WIDTH
            name = f"{category} · {series}: {n:,}"
            segment = f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{PALETTE[index % len(PALETTE)]}" class="segment"><title>{escape(name)}</title></rect>'
            if link:
                table, params = link(category, series)
                segment = f'<a href="/{DATABASE}/{table}?{escape(urlencode(params))}" aria-label="{escape(name)}">{segment}</a>'
            parts.append(segment)
            x += width
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 13}" class="total">{sum(bars[category].values()):,}</text></g>')
        y += BAR_HEIGHT + 6
    width = LABEL_WIDTH + BAR_WIDTH + 70
    # A group, not an image: its bars are links a keyboard and a screen reader reach.
    return f'<svg xmlns="http://www.w3.org/2000/svg" role="group" aria-label="{escape(title)}" id="{chart_id}" width="{width}" height="{y + 4}" viewBox="0 0 {width} {y + 4}">{"".join(parts)}</svg>'


STYLE = """
.chart text { font: 12px sans-serif; fill: #333; }
.chart .total { fill: #666; }
.chart .segment:hover { opacity: 0.8; }
"""


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
        sections.append(
            f'<section class="chart"><h2>{escape(chart["title"])}</h2><p>{escape(chart["about"])} '
            f'<a href="{escape(sql_link)}">The numbers behind it</a>.</p><div class="scroll-box" data-label="{escape(chart["title"])}">{svg}</div></section>'
        )
    body = (
        "<h1>Charts</h1><p>Pictures of the dataset, drawn from the same tables the site serves. Click a bar for its rows.</p>"
        + "".join(sections)
    )
    html = await datasette.render_template(
        "picture.html", {"body_html": body, "style": STYLE, "page_title": "Charts"}, request=request
    )
    return Response.html(html)


# --- /-/what-changed: the history of the wiki, per week ----------------------

WEEK = "date(c.day, '-6 days', 'weekday 1')"  # the Monday of the commit's week
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
        "select {week} as week, sum(c.gaps_opened) from commits c where c.status = 'built' group by 1",
        "changes",
        {"table_name": "gaps", "kind": "added"},
    ),
    (
        "gaps-closed",
        "Gap tags closed",
        "select {week} as week, sum(c.gaps_closed) from commits c where c.status = 'built' group by 1",
        "changes",
        {"table_name": "gaps", "kind": "removed"},
    ),
    (
        "pages-verified",
        "Pages verified",
        "select {week} as week, count(*) from page_history h join commits c on c.hash = h.commit_hash "
        "where c.status = 'built' and h.verified = 1 and (h.change = 'added' or exists (select 1 from changes v where v.commit_hash = h.commit_hash "
        "and v.page = h.page and v.table_name = 'pages' and v.[column] = 'verified')) group by 1",
        "page_history",
        {"verified": "1"},
    ),
    (
        "grades-changed",
        "Evidence grades changed",
        "select {week} as week, count(distinct ch.key || ch.commit_hash) from changes ch "
        "join commits c on c.hash = ch.commit_hash where ch.table_name = 'status_assessments' and ch.[column] in ('status', 'status_text') group by 1",
        "changes",
        {"table_name": "status_assessments", "column": "status_text"},
    ),
]
LATEST = 100  # changes listed on the page, newest first


async def what_changed(datasette, request):
    database = datasette.get_database(DATABASE)
    base = datasette.urls.database(DATABASE)
    commits = (await database.execute("select count(*), min(day), max(day) from commits")).first()
    changes = (await database.execute("select count(*), count(commit_hash) from changes")).first()
    if not commits[0] and not changes[0]:
        body = (
            "<h1>What changed</h1><p>This build has no history. <code>etl history --wiki CHECKOUT</code> builds every commit of a "
            "wiki checkout and records what each changed, and a release built with <code>--previous</code> records what changed "
            "since the release before it; the site then shows it here.</p>"
        )
        html = await datasette.render_template(
            "picture.html", {"body_html": body, "style": STYLE, "page_title": "What changed"}, request=request
        )
        return Response.html(html)
    sections = []
    if commits[0]:
        intro = (
            f"The wiki's history as this build recorded it: {commits[0]:,} commits from {escape(commits[1])} to {escape(commits[2])}. "
            f'Per commit in the <a href="{escape(base)}/commits">commits</a> table, per page in <a href="{escape(base)}/page_history">page history</a>, '
            f'row by row in <a href="{escape(base)}/changes">changes</a>. Click a bar for its rows.'
        )
        for chart_id, title, sql, table, filters in WEEKLY:
            sql = sql.format(week=WEEK)
            counts = [(str(week), title, int(n or 0)) for week, n in (await database.execute(sql)).rows]
            link = lambda week, series, table=table, filters=filters: (table, {**filters, **_week_filter(table, week)})
            svg = (
                stacked_bars_svg(chart_id, f"{title} per week", counts, 1, "category", link)
                if counts
                else "<p>None.</p>"
            )
            sql_link = f"{base}?" + urlencode({"sql": sql})
            sections.append(
                f'<section class="chart"><h2>{escape(title)} per week</h2><p>Weeks start on Monday. '
                f'<a href="{escape(sql_link)}">The numbers behind it</a>.</p><div class="scroll-box" data-label="{escape(title)} per week">{svg}</div></section>'
            )
        listed = "Latest changes"
    else:
        intro = f'What changed since the previous release, row by row: {changes[0]:,} changes in the <a href="{escape(base)}/changes">changes</a> table.'
        listed = "Changes since the previous release"
    latest = (
        await database.execute(
            "select ch.change, ch.table_name, ch.key, ch.kind, ch.[column], ch.old_value, ch.new_value, ch.row_filter, c.day "
            "from changes ch left join commits c on c.hash = ch.commit_hash where ch.table_name != 'sections' order by ch.change desc limit ?",
            [LATEST],
        )
    ).rows
    items = []
    for change, table, key, kind, column, old, new, row_filter, day in latest:
        what = (
            f"{escape(kind)} {escape(column)}: {escape(_short(old))} → {escape(_short(new))}"
            if column
            else escape(kind)
        )
        row_link = (
            f' · <a href="{escape(base)}/{escape(table)}?{escape(row_filter)}">the row now</a>'
            if kind != "removed"
            else ""
        )
        when = f"{escape(day)} · " if day else ""
        items.append(
            f'<li>{when}<a href="{escape(base)}/changes/{change}">{escape(table)} · {escape(_short(key, 120))}</a> · {what}{row_link}</li>'
        )
    body = (
        f"<h1>What changed</h1><p>{intro}</p>"
        + "".join(sections)
        + f"<section><h2>{listed}</h2><p>The newest {len(items)} changes (section texts left out; they change with every edit in them).</p>"
        + f'<ol class="latest-changes" reversed>{"".join(items)}</ol></section>'
    )
    html = await datasette.render_template(
        "picture.html", {"body_html": body, "style": STYLE, "page_title": "What changed"}, request=request
    )
    return Response.html(html)


def _week_filter(table: str, monday: str) -> dict:
    """page_history has the commit's day: a bar links to its own week."""
    if table != "page_history":
        return {}
    return {"day__gte": monday, "day__lt": (date.fromisoformat(monday) + timedelta(days=7)).isoformat()}


def _short(text, limit: int = 80) -> str:
    text = " ".join(str(text or "(empty)").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@hookimpl
def register_routes():
    return [(r"^/-/charts$", charts), (r"^/-/what-changed$", what_changed)]

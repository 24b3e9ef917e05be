"""Serve stage: a forest plot of trial outcomes at /-/forest-plot.

Each outcome with a confidence interval is a row: a line from the lower to
the upper limit and a square at the effect. Effects on different scales
cannot share an axis, so the plot has one panel per scale: ratios (HR, OR,
RR, ...) on a log axis with a line at 1, and one panel per unit for
differences, with a line at 0. The SVG is drawn on the server, so the page
needs no script and every label is escaped text.
"""

from __future__ import annotations

import math
from html import escape
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from .assets import static_url
from .names import DATABASE

RATIO_METRICS = {"HR", "aHR", "OR", "aOR", "RR", "IRR"}
ROW_HEIGHT, LABEL_WIDTH, PLOT_WIDTH, VALUE_WIDTH = 22, 430, 360, 170
MAX_ROWS = 400

OUTCOMES_SQL = """
select o.trial, o.seq, o.measure, o.role, o.effect_metric, o.effect_value, o.effect_unit,
  o.ci_level, o.ci_low, o.ci_high, o.p_raw, o.page, o.source_path, o.source_line,
  t.acronym, t.n_randomised, t.intervention_page
from trial_outcomes o join trials t on t.trial = o.trial
where o.ci_low is not null and o.ci_high is not null
  and (:intervention = '' or t.intervention_page = :intervention)
  and (:trial = '' or o.trial = :trial)
  and (:role = '' or o.role = :role)
order by t.intervention_page, o.trial, o.seq
limit {limit}
"""


def scale_of(row: dict) -> str:
    """The panel an outcome belongs to."""
    if (row.get("effect_metric") or "") in RATIO_METRICS:
        return "Ratio (HR, OR, RR), log scale"
    return f"Difference, {row['effect_unit']}" if row.get("effect_unit") else "Difference, unit not stated"


def _axis(values: list[float], log: bool) -> tuple[float, float]:
    low, high = min(values), max(values)
    if log:
        low, high = math.log10(max(min(low, 1.0), 1e-6)), math.log10(max(high, 1.0))
    else:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high, low = high + 1, low - 1
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _number(value: float) -> str:
    return f"{value:.3g}"


class Axis:
    """A panel's horizontal axis: log10 for ratios, linear for differences."""

    def __init__(self, rows: list[dict], log: bool):
        self.log = log
        values = [
            v
            for r in rows
            for v in (r["ci_low"], r["ci_high"], r["effect_value"])
            if v is not None and (not log or v > 0)
        ]
        self.low, self.high = _axis(values or [0.0, 1.0], log)

    def x(self, value: float) -> float:
        if self.log:
            value = math.log10(max(value, 1e-6))
        return LABEL_WIDTH + (value - self.low) / (self.high - self.low) * PLOT_WIDTH

    def ticks(self, y: int) -> list[str]:
        parts = []
        for tick in (self.low, (self.low + self.high) / 2, self.high):
            value = 10**tick if self.log else tick
            x = LABEL_WIDTH + (tick - self.low) / (self.high - self.low) * PLOT_WIDTH
            parts.append(f'<text x="{x:.1f}" y="{y + 14}" class="tick">{escape(_number(value))}</text>')
        return parts


def _outcome(row: dict, axis: Axis, y: int) -> str:
    """One outcome's row: its label, interval, effect and values."""
    middle = y + ROW_HEIGHT / 2
    label = f"{row.get('acronym') or row['trial']} · {row['measure'] or '(measure not named)'}"
    if len(label) > 64:
        label = label[:63] + "…"
    ci = f"{_number(row['ci_low'])} to {_number(row['ci_high'])}"
    effect = _number(row["effect_value"]) if row["effect_value"] is not None else "–"
    tooltip = (
        f"{row['trial']} · {row['measure'] or '(measure not named)'}: "
        f"{effect} ({row.get('ci_level') or 95:g}% CI {ci}) "
        f"{row.get('p_raw') or ''} · {row['source_path']}:{row['source_line']}"
    )
    parts = [f'<g class="outcome" data-trial="{escape(row["trial"])}"><title>{escape(tooltip)}</title>']
    parts.append(f'<text x="0" y="{middle + 4}" class="label">{escape(label)}</text>')
    low, high = axis.x(row["ci_low"]), axis.x(row["ci_high"])
    parts.append(f'<line x1="{low:.1f}" x2="{high:.1f}" y1="{middle}" y2="{middle}" class="ci"/>')
    value = row["effect_value"]
    if value is not None and (not axis.log or value > 0):
        # An effect outside its own interval is drawn hollow: the source
        # states them with different signs (see trial-effect-outside-ci).
        outside = not min(row["ci_low"], row["ci_high"]) <= value <= max(row["ci_low"], row["ci_high"])
        parts.append(
            f'<rect x="{axis.x(value) - 4:.1f}" y="{middle - 4}" width="8" height="8" '
            f'class="effect{" outside" if outside else ""}"/>'
        )
    value_x = LABEL_WIDTH + PLOT_WIDTH + 10
    parts.append(f'<text x="{value_x}" y="{middle + 4}" class="value">{escape(effect)} [{escape(ci)}]</text></g>')
    return "".join(parts)


def _panel(title: str, panel: list[dict], y: int) -> tuple[str, int]:
    """One scale's panel from y: its SVG and the y below it."""
    axis = Axis(panel, title.startswith("Ratio"))
    count = f"{len(panel)} outcome{'s' if len(panel) != 1 else ''}"
    parts = [f'<g class="panel" data-scale="{escape(title)}">']
    parts.append(f'<text x="0" y="{y + 14}" class="panel-title">{escape(title)} · {count}</text>')
    y += 24
    top = y
    for row in panel:
        parts.append(_outcome(row, axis, y))
        y += ROW_HEIGHT
    reference = axis.x(1.0 if axis.log else 0.0)
    parts.append(f'<line x1="{reference:.1f}" x2="{reference:.1f}" y1="{top}" y2="{y}" class="reference"/>')
    parts.append(f'<line x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH + PLOT_WIDTH}" y1="{y}" y2="{y}" class="axis"/>')
    parts += axis.ticks(y)
    parts.append("</g>")
    return "".join(parts), y + 34


def forest_svg(rows: list[dict]) -> str:
    """One SVG with a panel per scale; rows are dicts of trial_outcomes
    columns plus the trial's acronym."""
    panels: dict[str, list[dict]] = {}
    for row in rows:
        panels.setdefault(scale_of(row), []).append(row)
    parts, y = [], 10
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    for title in sorted(panels, key=lambda t: (not t.startswith("Ratio"), t)):
        drawn, y = _panel(title, panels[title], y)
        parts.append(drawn)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Forest plot of trial outcomes" '
        f'width="{width}" height="{y}" viewBox="0 0 {width} {y}">{"".join(parts)}</svg>'
    )


STYLESHEET = "forest-plot.css"  # static/forest-plot.css


async def forest_plot(datasette, request):
    database = datasette.get_database(DATABASE)
    params = {name: request.args.get(name, "") for name in ("intervention", "trial", "role")}
    result = await database.execute(OUTCOMES_SQL.format(limit=MAX_ROWS + 1), params)
    rows = [dict(r) for r in result.rows]
    truncated = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    interventions = await database.execute(
        "select distinct t.intervention_page from trial_outcomes o join trials t on t.trial = o.trial "
        "where o.ci_low is not null and t.intervention_page is not null order by 1"
    )
    options = "".join(
        f'<option value="{escape(p)}"{" selected" if p == params["intervention"] else ""}>'
        f"{escape(p.rsplit('/', 1)[-1])}</option>"
        for (p,) in interventions.rows
    )
    roles = "".join(
        f'<option value="{r}"{" selected" if r == params["role"] else ""}>{r or "any"}</option>'
        for r in ("", "primary", "secondary")
    )
    table_link = (
        "/"
        + DATABASE
        + "/trial_outcomes?"
        + urlencode({"ci_low__notblank": "1", **({"trial": params["trial"]} if params["trial"] else {})})
    )
    count = f"{len(rows)} outcome{'s' if len(rows) != 1 else ''}{f' (the first {MAX_ROWS})' if truncated else ''}"
    plot = forest_svg(rows) if rows else "<p>No outcome with a confidence interval matches.</p>"
    body = f"""
<h1>Forest plot of trial outcomes</h1>
<p>Every trial outcome with a confidence interval, read from the wiki's footnotes, trial tables, study pages and
explicit trial blocks: the line is the interval, the square the effect. Panels group outcomes on one scale;
ratios use a log axis with a line at 1, differences a line at 0. A hollow red square is an effect that lies
outside its own interval as the wiki writes them (usually a signed change with an unsigned interval).
Hover a row for its source file and line.
<a href="{escape(table_link)}">These outcomes as a table</a>.</p>
<form action="/-/forest-plot" method="get">
<label>Intervention <select name="intervention"><option value="">any</option>{options}</select></label>
<label>Role <select name="role">{roles}</select></label>
<input type="hidden" name="trial" value="{escape(params["trial"])}">
<input type="submit" value="Show">
</form>
<p class="count">{count}.</p>
<div class="forest scroll-box" data-label="Forest plot">{plot}</div>
"""
    html = await datasette.render_template(
        "picture.html",
        {
            "body_html": body,
            "stylesheet": static_url(datasette, STYLESHEET),
            "page_title": "Forest plot of trial outcomes",
        },
        request=request,
    )
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/-/forest-plot$", forest_plot)]

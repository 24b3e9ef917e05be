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

DATABASE = "agingkb"
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


def forest_svg(rows: list[dict]) -> str:
    """One SVG with a panel per scale; rows are dicts of trial_outcomes
    columns plus the trial's acronym."""
    panels: dict[str, list[dict]] = {}
    for row in rows:
        panels.setdefault(scale_of(row), []).append(row)
    parts, y = [], 10
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    for title in sorted(panels, key=lambda t: (not t.startswith("Ratio"), t)):
        panel = panels[title]
        log = title.startswith("Ratio")
        values = [
            v
            for r in panel
            for v in (r["ci_low"], r["ci_high"], r["effect_value"])
            if v is not None and (not log or v > 0)
        ]
        low, high = _axis(values or [0.0, 1.0], log)

        def x(value: float) -> float:
            if log:
                value = math.log10(max(value, 1e-6))
            return LABEL_WIDTH + (value - low) / (high - low) * PLOT_WIDTH

        parts.append(f'<g class="panel" data-scale="{escape(title)}">')
        parts.append(
            f'<text x="0" y="{y + 14}" class="panel-title">{escape(title)} · {len(panel)} outcome{"s" if len(panel) != 1 else ""}</text>'
        )
        y += 24
        top = y
        for row in panel:
            middle = y + ROW_HEIGHT / 2
            label = f"{row.get('acronym') or row['trial']} · {row['measure']}"
            if len(label) > 64:
                label = label[:63] + "…"
            ci = f"{_number(row['ci_low'])} to {_number(row['ci_high'])}"
            effect = _number(row["effect_value"]) if row["effect_value"] is not None else "–"
            tooltip = f"{row['trial']} · {row['measure']}: {effect} ({row.get('ci_level') or 95:g}% CI {ci}) {row.get('p_raw') or ''} · {row['source_path']}:{row['source_line']}"
            parts.append(f'<g class="outcome" data-trial="{escape(row["trial"])}"><title>{escape(tooltip)}</title>')
            parts.append(f'<text x="0" y="{middle + 4}" class="label">{escape(label)}</text>')
            parts.append(
                f'<line x1="{x(row["ci_low"]):.1f}" x2="{x(row["ci_high"]):.1f}" y1="{middle}" y2="{middle}" class="ci"/>'
            )
            if row["effect_value"] is not None and (not log or row["effect_value"] > 0):
                # An effect outside its own interval is drawn hollow: the source
                # states them with different signs (see trial-effect-outside-ci).
                outside = (
                    not min(row["ci_low"], row["ci_high"]) <= row["effect_value"] <= max(row["ci_low"], row["ci_high"])
                )
                parts.append(
                    f'<rect x="{x(row["effect_value"]) - 4:.1f}" y="{middle - 4}" width="8" height="8" class="effect{" outside" if outside else ""}"/>'
                )
            parts.append(
                f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 10}" y="{middle + 4}" class="value">{escape(effect)} [{escape(ci)}]</text></g>'
            )
            y += ROW_HEIGHT
        reference = x(1.0 if log else 0.0)
        parts.append(f'<line x1="{reference:.1f}" x2="{reference:.1f}" y1="{top}" y2="{y}" class="reference"/>')
        parts.append(f'<line x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH + PLOT_WIDTH}" y1="{y}" y2="{y}" class="axis"/>')
        for tick in (low, (low + high) / 2, high):
            value = 10**tick if log else tick
            parts.append(
                f'<text x="{LABEL_WIDTH + (tick - low) / (high - low) * PLOT_WIDTH:.1f}" y="{y + 14}" class="tick">{escape(_number(value))}</text>'
            )
        parts.append("</g>")
        y += 34
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Forest plot of trial outcomes" '
        f'width="{width}" height="{y}" viewBox="0 0 {width} {y}">{"".join(parts)}</svg>'
    )


STYLE = """
.forest .panel-title { font: bold 13px sans-serif; fill: #222; }
.forest .label, .forest .value { font: 12px sans-serif; fill: #333; }
.forest .tick { font: 10px sans-serif; fill: #666; text-anchor: middle; }
.forest .ci { stroke: #1f5f99; stroke-width: 2; }
.forest .effect { fill: #1f5f99; }
.forest .effect.outside { fill: #fff; stroke: #b03a2e; stroke-width: 1.5; }
.forest .reference { stroke: #999; stroke-dasharray: 4 3; }
.forest .axis { stroke: #999; }
.forest .outcome:hover .label { fill: #000; font-weight: bold; }
"""


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
        f'<option value="{escape(p)}"{" selected" if p == params["intervention"] else ""}>{escape(p.rsplit("/", 1)[-1])}</option>'
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
<p class="count">{len(rows)} outcome{"s" if len(rows) != 1 else ""}{f" (the first {MAX_ROWS})" if truncated else ""}.</p>
<div class="forest scroll-box" data-label="Forest plot">{forest_svg(rows) if rows else "<p>No outcome with a confidence interval matches.</p>"}</div>
"""
    html = await datasette.render_template(
        "picture.html",
        {"body_html": body, "style": STYLE, "page_title": "Forest plot of trial outcomes"},
        request=request,
    )
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/-/forest-plot$", forest_plot)]

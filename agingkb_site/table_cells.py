"""Table and query result cells drawn in one Python call instead of a Jinja loop.

Datasette renders its templates with Jinja in async mode, where every loop
iteration is an awaited step: a stored query listing 700 rows of 10 columns
spent about half of its 80 ms in the two nested loops that draw the cells.
templates/_table.html and templates/query.html call these filters for the
<tbody> instead; the markup is the same as Datasette 0.65.5's templates
(tests/test_table_cells.py compares the two on real pages).
"""

from __future__ import annotations

from functools import lru_cache

from datasette import hookimpl
from datasette.utils import to_css_class
from jinja2 import pass_context
from markupsafe import Markup, escape

from .names import DATABASE

BODY_EXCERPT = 280  # characters of a page body shown in table views


@lru_cache(maxsize=4096)
def _column_class(column: str) -> str:
    return to_css_class(column)


def body_excerpt(body: str) -> Markup:
    return Markup(
        f"{escape(body[:BODY_EXCERPT])}… <em>({len(body.split()):,} words; the row page shows it rendered)</em>"
    )


def table_body(display_rows, excerpt_column: str | None = None) -> Markup:
    """The <tr> rows of a table or row view: each cell carries its column and
    its value's type as classes, as in Datasette's _table.html. A long value
    of excerpt_column is shown as an excerpt."""
    parts = []
    for row in display_rows:
        parts.append("<tr>")
        for cell in row:
            value, raw = cell["value"], cell["raw"]
            if cell["column"] == excerpt_column and isinstance(raw, str) and len(raw) > BODY_EXCERPT:
                value = body_excerpt(raw)
            parts.append(
                f'<td class="col-{_column_class(cell["column"])} type-{cell["value_type"]}">{escape(value)}</td>'
            )
        parts.append("</tr>\n")
    return Markup("".join(parts))


def query_body(display_rows, columns) -> Markup:
    """The <tr> rows of a query's results, as in Datasette's query.html."""
    classes = [f"col-{_column_class(column)}" for column in columns]
    parts = []
    for row in display_rows:
        parts.append("<tr>")
        for css_class, value in zip(classes, row):
            parts.append(f'<td class="{css_class}">{escape(value)}</td>')
        parts.append("</tr>\n")
    return Markup("".join(parts))


@pass_context
def _table_body_filter(context, display_rows) -> Markup:
    # A page body in a table or row view is an excerpt: the page's own row
    # view shows it rendered, and CSV and JSON keep it whole. (A render_cell
    # hook did this before; pluggy's call for every cell of every table cost
    # about 15% of a long listing.)
    is_pages = context.get("database") == DATABASE and context.get("table") == "pages"
    return table_body(display_rows, "body" if is_pages else None)


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["agingkb_table_body"] = _table_body_filter
    env.filters["agingkb_query_body"] = query_body

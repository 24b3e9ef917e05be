"""The result rows drawn by agingkb_site/table_cells.py are the rows Datasette's
own templates draw, and the template copies still match Datasette's."""

from __future__ import annotations

import re
from pathlib import Path

import datasette
import jinja2
from datasette.utils import to_css_class
from markupsafe import Markup

from agingkb_site import table_cells

TEMPLATES = Path(table_cells.__file__).parent / "templates"

DATASETTE_TEMPLATES = Path(datasette.__file__).parent / "templates"
TRICKY_VALUES = [
    Markup('<a href="/x">linked</a>'),
    "<script>alert(1)</script>",
    "a & b",
    Markup("&nbsp;"),
    42,
    0.5,
    None,
    "ünïcode",
]


def loop_of(template: str, start: str, end: str) -> str:
    return template[template.index(start) : template.index(end)]


def render(fragment: str, **context) -> str:
    environment = jinja2.Environment(autoescape=True)
    environment.filters["to_css_class"] = to_css_class
    return environment.from_string(fragment).render(zip=zip, **context)


def without_layout_whitespace(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def table_rows():
    columns = ["page", "line", "Odd Column!", "body"]
    rows = []
    for index in range(3):
        values = TRICKY_VALUES[index : index + len(columns)]
        rows.append(
            [
                {
                    "column": column,
                    "value": value,
                    "raw": value,
                    "value_type": "none" if value is None else type(value).__name__,
                }
                for column, value in zip(columns, values)
            ]
        )
    return rows


def test_table_body_draws_what_datasettes_loop_draws():
    original = (DATASETTE_TEMPLATES / "_table.html").read_text()
    loop = loop_of(original, "{% for row in display_rows %}", "</tbody>")
    rows = table_rows()
    expected = without_layout_whitespace(render(loop, display_rows=rows))
    assert "&lt;script&gt;" in expected and '<a href="/x">linked</a>' in expected  # the comparison sees escaping
    assert without_layout_whitespace(str(table_cells.table_body(rows))) == expected


def test_query_body_draws_what_datasettes_loop_draws():
    original = (DATASETTE_TEMPLATES / "query.html").read_text()
    loop = loop_of(original, "{% for row in display_rows %}", "</tbody>")
    columns = ["tag", "Claim text", "n"]
    rows = [TRICKY_VALUES[index : index + 3] for index in range(4)]
    expected = without_layout_whitespace(render(loop, display_rows=rows, columns=columns))
    assert "&lt;script&gt;" in expected
    assert without_layout_whitespace(str(table_cells.query_body(rows, columns))) == expected


def restored(copy: str, filter_line: str, original: str) -> str:
    """The project's copy of a Datasette template with the filter call put
    back as Datasette's loop and the project's header comment removed."""
    copy = re.sub(r"^\{#-.*?-#\}\n", "", copy, flags=re.S)
    loop = loop_of(original, "{% for row in display_rows %}", "</tbody>").rstrip(" ")
    return copy.replace(filter_line.lstrip(), loop)


def test_table_template_copy_matches_datasette():
    original = (DATASETTE_TEMPLATES / "_table.html").read_text()
    copy = (TEMPLATES / "_table.html").read_text()
    assert restored(copy, "        {{ display_rows|agingkb_table_body }}\n", original) == original


def test_query_template_copy_matches_datasette_apart_from_the_search_hint_and_the_tab_title():
    original = (DATASETTE_TEMPLATES / "query.html").read_text()
    copy = (TEMPLATES / "query.html").read_text()
    copy = restored(copy, "    {{ display_rows|agingkb_query_body(columns) }}\n", original)
    copy = re.sub(r"\n\{% if search_hint.*?\{% endif %\}", "", copy)
    # A stored query's tab is its title; any other query's is Datasette's.
    title = re.compile(r"\{% block title %\}.*?\{% endblock %\}")
    ours = "{% if canned_query %}{{ metadata.title or canned_query }} · {{ database }}{% else %}"
    assert ours in title.search(copy).group(0)
    copy = title.sub(lambda _: title.search(original).group(0), copy, count=1)
    assert copy == original


def test_a_long_page_body_is_an_excerpt_in_the_pages_table_only():
    body = "word " * 400
    cells = [
        {"column": "page", "value": "a/b", "raw": "a/b", "value_type": "str"},
        {"column": "body", "value": body, "raw": body, "value_type": "str"},
    ]
    drawn = str(table_cells.table_body([cells], "body"))
    assert "(400 words; the row page shows it rendered)" in drawn
    assert body not in drawn and ("word " * 50) in drawn
    assert body in str(table_cells.table_body([cells]))  # another table keeps its long text


def test_the_filter_excerpts_bodies_of_the_pages_table(tmp_path):
    environment = jinja2.Environment(autoescape=True)
    table_cells.prepare_jinja2_environment(environment)
    template = environment.from_string("{{ display_rows|agingkb_table_body }}")
    body = "x " * 400
    rows = [[{"column": "body", "value": body, "raw": body, "value_type": "str"}]]
    assert "400 words" in template.render(display_rows=rows, database="agingkb", table="pages")
    assert "400 words" not in template.render(display_rows=rows, database="agingkb", table="works")

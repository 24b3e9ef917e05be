"""Serve stage: a page row's Markdown body as sanitised HTML.

Each [[wikilink]] becomes a link to the row of the page the build resolved
it to: the links table holds, for every wikilink on the page, its target as
written and links.target_page. The site does not resolve targets itself,
so the rendered page links where the tables say it links. A target the
build did not resolve is shown as emphasised text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

import nh3
from datasette.utils import tilde_encode
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from etl.wiki.syntax import CODE_SPAN, WIKILINK

from .names import DATABASE

FENCE = re.compile(r"^(\s{0,3})(```|~~~)")
PAGE_SQL = "select body from pages where page = ?"
# Every wikilink of the page, body and frontmatter text alike: a target
# resolves the same wherever it is written on one page.
TARGETS_SQL = """select distinct target, target_page from links
where page = ? and kind = 'wikilink' and target is not null and target_page is not null"""


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table").use(footnote_plugin)


def link_wikilinks(markdown: str, resolve) -> str:
    """[[target|alias]] -> a Markdown link to resolve(target), outside code
    fences and code spans; a target resolve() has no URL for becomes
    emphasised text."""
    lines, fenced = [], False
    for line in markdown.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
        if fenced or "[[" not in line:
            lines.append(line)
            continue
        # Wikilinks and code spans as the build reads them (etl/wiki/syntax.py):
        # the written target is what the links table is keyed by.
        parts, last = [], 0
        for span in CODE_SPAN.finditer(line):
            parts += [WIKILINK.sub(lambda m: _wikilink(m, resolve), line[last : span.start()]), span.group(0)]
            last = span.end()
        parts.append(WIKILINK.sub(lambda m: _wikilink(m, resolve), line[last:]))
        lines.append("".join(parts))
    return "\n".join(lines)


def _wikilink(match, resolve) -> str:
    target, alias = match.group(1).strip(), (match.group(3) or "").strip()
    anchor = "#" + match.group(2) if match.group(2) is not None else ""
    text = (alias or target).replace("[", "\\[").replace("]", "\\]")
    url = resolve(target)
    if not url:
        return f"*{text}*"
    return f"[{text}](<{url}{anchor}>)"


def render_body(markdown: str, resolve) -> str:
    """Markdown body to sanitised HTML: no script, no event handler, no
    javascript: URL survives nh3."""
    html = _markdown().render(link_wikilinks(markdown, resolve))
    cleaned = nh3.clean(
        html,
        tags=nh3.ALLOWED_TAGS | {"section", "sup", "sub", "hr"},
        attributes={
            **nh3.ALLOWED_ATTRIBUTES,
            "a": {"href", "title", "id", "class"},
            "sup": {"id", "class"},
            "li": {"id", "class"},
            "section": {"class"},
            "th": {"style"},
            "td": {"style"},
        },
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    # A wide table scrolls inside its own box, not the whole page on a phone.
    return cleaned.replace("<table>", '<div class="scroll-box" data-label="Table">' + "<table>").replace(
        "</table>", "</table></div>"
    )


@lru_cache(maxsize=128)
def render_linked_body(markdown: str, links: tuple[tuple[str, str], ...]) -> str:
    """render_body with wikilinks resolved by `links`, (target, URL) pairs.
    The database never changes under a server, so a body renders once."""
    return render_body(markdown, dict(links).get)


def page_links(conn, page: str, pages_url: str) -> tuple[tuple[str, str], ...]:
    """(target as written, URL of the row of the page the build resolved
    it to) for every resolved wikilink on the page."""
    rows = conn.execute(TARGETS_SQL, [page]).fetchall()
    return tuple(sorted((target, f"{pages_url}/{quote(tilde_encode(to), safe='~')}") for target, to in rows))


async def rendered_body(datasette, page: str) -> str | None:
    """The page's body as HTML, or None when it has none."""
    pages_url = datasette.urls.table(DATABASE, "pages")

    def read(conn):
        row = conn.execute(PAGE_SQL, [page]).fetchone()
        return (row[0], page_links(conn, page, pages_url)) if row and row[0] else None

    found = await datasette.get_database(DATABASE).execute_fn(read)
    return render_linked_body(*found) if found else None

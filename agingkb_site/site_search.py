"""Serve stage: /-/search, every full-text table searched at once, on a
page a reader can scan.

Each table with a full-text index (its `fts_table` in metadata.yml, from
the `fts` of data/tables.yml) is one group. A group lists its best
HITS_PER_GROUP matches by FTS5 rank (bm25), each as a title (the row's
label), where the row is, a short snippet with the matched words marked,
and a link to the row; past those, a link to the table's own search. The
groups come in GROUP_ORDER, then in the schema's order; a group with no
match is left out. An empty search says what is searched and how.

The search text is read as search_hints.fts_query reads it (malformed text
is searched as plain words). Snippets are the wiki's own text: it is
escaped, and only the marks FTS5 puts around a match become <mark>.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from etl.wiki.syntax import FOOTNOTE_REF, link_text

from .assets import static_url
from .names import DATABASE
from .queries import RowUrls, cached_titles, encode_key
from .search_hints import HOW_TO_SEARCH, SCOPE_KEY, fts_query, is_valid_fts5, search_hint

GROUP_ORDER = ("pages", "sections", "footnotes", "works", "trials", "trial_outcomes")  # then the schema's order
HITS_PER_GROUP = 5
SNIPPET_TOKENS = 24  # about two lines of text at 1366 px
OPEN, CLOSE = "\x02", "\x03"  # FTS5's marks around a match: characters no wiki text holds
MARKED = re.compile(f"{OPEN}([^{OPEN}{CLOSE}]*){CLOSE}")
# What Markdown writes around text: emphasis, heading marks, rules and table
# rulers, line breaks, and a link cut in two by the snippet's edge.
MARKDOWN_NOISE = re.compile(r"\*\*|__|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)|^#+\s|:?-{3,}:?|<br\s*/?>|\[\[|\]\]", re.M)
TABLE_RULES = re.compile(r"\|(?:\s*\|)+")  # the cells of a table ruler, once its dashes are gone
STYLESHEET = "search.css"

# How a trial is named (as queries.trial_name does, with its intervention
# and condition before the bare key, which is often a DOI), as SQL over `{t}`.
TRIAL_NAME = "coalesce({t}.acronym, {t}.title, {t}.intervention || coalesce(' in ' || {t}.condition, ''), {t}.trial)"
# A hit's title and where it is, as SQL over its row `t`, for the tables
# whose label column alone says too little; the title of the row's page is
# added in Python (from the titles every worker keeps).
HIT_SQL = {
    "pages": ("t.title", "t.type"),
    "footnotes": ("coalesce(t.title, t.label)", "'footnote ' || t.label"),
    "trials": (TRIAL_NAME.format(t="t"), "coalesce((select w.label from works w where w.work = t.work), t.trial)"),
    "trial_outcomes": (
        "coalesce(nullif(t.measure, ''), 'Outcome ' || t.seq)",
        f"(select 'trial: ' || {TRIAL_NAME.format(t='x')} from trials x where x.trial = t.trial)",
    ),
    "commits": ("t.subject", "t.day"),
    "changes": ("t.kind || ' ' || t.table_name || ' ' || t.key", "null"),
    "gap_events": ("t.tag || ' ' || t.event", "t.day"),
}


@dataclass(frozen=True)
class Group:
    """One full-text table, as the search page queries it."""

    table: str
    title: str
    fts: str
    keys: tuple[str, ...]
    title_sql: str
    context_sql: str
    has_page: bool
    last_column: int  # the full-text index's last column: a page's body, a section's text, ...
    has_source: bool = False  # source_path and source_line: the MCP search names them

    def hits_sql(self, limit: int = HITS_PER_GROUP) -> str:
        keys = ", ".join(f"t.[{key}]" for key in self.keys)
        page = ", t.page as hit_page" if self.has_page else ""
        page += ", t.source_path as hit_source_path, t.source_line as hit_source_line" if self.has_source else ""
        # The snippet from any column, and from the last (the long text):
        # a title that matches would otherwise be its own snippet.
        return (
            f"select {keys}, {self.title_sql} as hit_title, {self.context_sql} as hit_context{page}, "
            f"snippet([{self.fts}], -1, char(2), char(3), '…', {SNIPPET_TOKENS}) as hit_best, "
            f"snippet([{self.fts}], {self.last_column}, char(2), char(3), '…', {SNIPPET_TOKENS}) as hit_last "
            f"from [{self.fts}] join [{self.table}] t on t.rowid = [{self.fts}].rowid "
            f"where [{self.fts}] match :query order by [{self.fts}].rank limit {int(limit)}"
        )

    def count_sql(self) -> str:
        return f"select count(*) from [{self.fts}] where [{self.fts}] match :query"


def ordered_tables(tables: dict) -> list[str]:
    """Full-text tables in the order the page shows them."""
    # A hidden table (an empty history table, history.py) is not searched.
    searchable = [name for name, entry in tables.items() if entry.get("fts_table") and not entry.get("hidden")]
    first = [name for name in GROUP_ORDER if name in searchable]
    return first + [name for name in searchable if name not in first]


async def search_groups(datasette) -> list[Group]:
    """The groups, worked out once per server: metadata and schema never
    change while it runs."""
    cached = getattr(datasette, "_agingkb_search_groups", None)
    if cached is not None:
        return cached
    database = datasette.get_database(DATABASE)
    tables = (datasette.metadata(database=DATABASE) or {}).get("tables", {})
    groups = []
    for name in ordered_tables(tables):
        entry = tables[name]
        keys = tuple(await database.primary_keys(name)) or ("rowid",)
        label = entry.get("label_column")
        title_sql, context_sql = HIT_SQL.get(name, (f"t.[{label}]" if label else f"t.[{keys[0]}]", "null"))
        # table_info, not Datasette's table_columns: it lists the index's hidden columns (rank, ...) too.
        indexed = (await database.execute(f"select name from pragma_table_info('{entry['fts_table']}')")).rows
        columns = entry.get("columns", {})
        has_page, has_source = "page" in columns, "source_line" in columns
        title = entry.get("title", name)
        groups.append(
            Group(name, title, entry["fts_table"], keys, title_sql, context_sql, has_page, len(indexed) - 1, has_source)
        )
    datasette._agingkb_search_groups = groups
    return groups


def snippet_text(text: str | None) -> str:
    """A snippet's words: links as their text, no footnote references or
    emphasis marks, one line; FTS5's marks around the matches kept."""
    plain = TABLE_RULES.sub("|", MARKDOWN_NOISE.sub("", FOOTNOTE_REF.sub("", link_text(text or ""))))
    return " ".join(plain.split())


def snippet_html(text: str | None) -> Markup:
    """A snippet as a reader sees it: its words (snippet_text) escaped, the matches marked."""
    escaped = str(escape(snippet_text(text)))
    marked = MARKED.sub(r"<mark>\1</mark>", escaped)
    return Markup(marked.replace(OPEN, "").replace(CLOSE, ""))


def plain(text: str | None) -> str:
    return (text or "").replace(OPEN, "").replace(CLOSE, "")


def hit(group: Group, row, urls: RowUrls, titles: dict) -> dict:
    title = str(row["hit_title"] or "") or ", ".join(str(row[key]) for key in group.keys)
    # The snippet of the long text when only the title matched elsewhere; a
    # snippet that is the whole title marks the title instead.
    snippet = row["hit_best"]
    if plain(snippet).strip() == title.strip() and OPEN in (row["hit_last"] or ""):
        snippet = row["hit_last"]
    duplicate = plain(snippet).strip() == title.strip()
    where = [str(row["hit_context"])] if row["hit_context"] and row["hit_context"] != row["hit_title"] else []
    if group.has_page and group.table != "pages" and row["hit_page"]:
        where.append("on " + titles.get(row["hit_page"], row["hit_page"]))
    return {
        "title": snippet_html(snippet) if duplicate else title,
        "where": ", ".join(where),
        "snippet": None if duplicate else snippet_html(snippet),
        "url": urls.row(group.table, *(row[key] for key in group.keys)),
    }


def table_search_url(urls: RowUrls, table: str, text: str) -> str:
    """The table's own search for the same text, matching what this page
    counted: raw FTS5 when the text is valid FTS5, else plain words."""
    params = {"_search": text, **({"_searchmode": "raw"} if is_valid_fts5(text) else {})}
    return f"{urls.base}/{encode_key(table)}?{urlencode(params)}"


async def run_group(datasette, group: Group, query: str, text: str, urls: RowUrls, titles: dict) -> dict:
    database = datasette.get_database(DATABASE)
    found = {"table": group.table, "title": group.title, "more_url": table_search_url(urls, group.table, text)}
    try:
        count = (await database.execute(group.count_sql(), {"query": query})).rows[0][0]
        rows = (await database.execute(group.hits_sql(), {"query": query})).rows if count else []
    except QueryInterrupted:
        # Past the time limit (a prefix of a letter or two): the table's own search still pages through it.
        return {**found, "count": None, "hits": [], "more": None}
    hits = [hit(group, row, urls, titles) for row in rows]
    return {**found, "count": count, "hits": hits, "more": max(0, count - HITS_PER_GROUP)}


async def search_page(datasette, request):
    await datasette.ensure_permissions(request.actor, ["view-instance", ("view-database", DATABASE)])
    text = (request.args.get("q") or "").strip()
    groups = await search_groups(datasette)
    urls = RowUrls(datasette.urls.database(DATABASE))
    results = []
    if text:
        titles = await cached_titles(datasette)
        query = fts_query(text)
        found = await asyncio.gather(*(run_group(datasette, g, query, text, urls, titles) for g in groups))
        results = [group for group in found if group["count"] != 0]
    context = {
        "q": text,
        "hint": request.scope.get(SCOPE_KEY) or (search_hint(text) if text else None),
        "groups": results,
        "per_group": HITS_PER_GROUP,
        "searched": [{"title": g.title, "url": urls.table(g.table)} for g in groups],
        "how_to_search": HOW_TO_SEARCH,
        "stylesheet": static_url(datasette, STYLESHEET),
    }
    return Response.html(await datasette.render_template("site_search.html", context, request=request))


# tryfirst: this route wins over any other plugin's /-/search.
@hookimpl(tryfirst=True)
def register_routes():
    return [(r"^/-/search$", search_page)]


@hookimpl
def menu_links(datasette):
    return [{"href": datasette.urls.path("/-/search"), "label": "Search all tables"}]

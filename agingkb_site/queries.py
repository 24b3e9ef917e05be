"""Serve stage: what the row pages (page_view.py, entity_views.py) share:
row URLs, rows as dicts, identifier links as the build stored them, and
the page titles read once per server.

The query functions are plain functions of an SQLite connection, run on
Datasette's query thread with one hop per page.
"""

from __future__ import annotations

import json
from functools import lru_cache
from urllib.parse import urlencode

from datasette.utils import tilde_encode

from .names import DATABASE

# Keys repeat across the items of a page (hundreds of backlinks from the
# same few pages): encoding them once keeps a hub page's URLs cheap.
encode_key = lru_cache(maxsize=100_000)(tilde_encode)

IDENTIFIERS_ON_PAGES = "select scheme, value, url from identifiers where page in ({marks}) and url is not null"
# An identifier not found on the pages that cite it: the first row anywhere
# with its scheme and value, the value's own spelling first (DOIs are
# compared without case: a work's DOI is kept lower case).
IDENTIFIER_ANYWHERE = """select url from identifiers where scheme = ? and value = ? collate nocase and url is not null
order by value = ? desc, page, field, position limit 1"""


class RowUrls:
    """URLs of rows and filtered tables under the database's URL."""

    def __init__(self, database_url: str):
        self.base = database_url.rstrip("/")

    def row(self, table: str, *key) -> str:
        return f"{self.base}/{table}/" + ",".join(encode_key(str(part)) for part in key)

    def table(self, table: str, **filters) -> str:
        query = urlencode({name: value for name, value in filters.items() if value is not None})
        return f"{self.base}/{table}" + (f"?{query}" if query else "")


def fetch_rows(conn, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]


def fetch_one(conn, sql: str, params=()) -> dict | None:
    found = fetch_rows(conn, sql, params)
    return found[0] if found else None


def json_list(value) -> list:
    try:
        parsed = json.loads(value) if value else []
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def page_link(urls: RowUrls, page, title=None) -> dict | None:
    return {"page": page, "title": title or page, "url": urls.row("pages", page)} if page else None


def trial_name(trial: dict) -> str:
    """How a trial is named to a reader: acronym, title, the label of the
    work reporting it, else its key."""
    return trial.get("acronym") or trial.get("title") or trial.get("work_label") or trial["trial"]


def outcome_rows(conn, trials: list[str], urls: RowUrls, titles: dict) -> dict[str, list[dict]]:
    """trial -> its outcomes in order, each with its row URL."""
    if not trials:
        return {}
    marks = ", ".join("?" for _ in trials)
    found: dict[str, list[dict]] = {trial: [] for trial in trials}
    for row in fetch_rows(
        conn,
        f"""select trial, seq, measure, role, comparison, effect_metric, effect_value, effect_unit, effect_raw,
            direction, arm_raw, ci_raw, p_raw, page from trial_outcomes where trial in ({marks}) order by trial, seq""",
        trials,
    ):
        row["row_url"] = urls.row("trial_outcomes", row["trial"], row["seq"])
        row["page_url"] = urls.row("pages", row["page"])
        row["page_title"] = titles.get(row["page"], row["page"])
        # An 'A vs B' comparison is the effect itself when no effect number is given.
        row["effect_text"] = row["effect_raw"] or row["arm_raw"] or row["direction"] or ""
        row["versus"] = row["comparison"] if row["comparison"] and row["comparison"] not in row["effect_text"] else None
        found[row["trial"]].append(row)
    return found


class IdentifierLinks:
    """Links for identifiers (a footnote's DOI, a work's PMID, a trial's
    registration) with the URL the build stored in identifiers.url: looked
    up first among the identifiers of `pages` (one query), then anywhere."""

    def __init__(self, conn, pages=()):
        self.conn = conn
        self.labels = dict(conn.execute("select scheme, label from identifier_schemes").fetchall())
        self.exact: dict[tuple[str, str], str] = {}
        self.folded: dict[tuple[str, str], str | None] = {}
        pages = sorted({page for page in pages if page})
        if pages:
            sql = IDENTIFIERS_ON_PAGES.format(marks=", ".join("?" for _ in pages))
            for scheme, value, url in conn.execute(sql, pages).fetchall():
                self.exact.setdefault((scheme, value), url)
                self.folded.setdefault((scheme, value.lower()), url)

    def url(self, scheme: str, value: str) -> str | None:
        if (scheme, value) in self.exact:
            return self.exact[scheme, value]
        key = (scheme, value.lower())
        if key not in self.folded:
            found = self.conn.execute(IDENTIFIER_ANYWHERE, [scheme, value, value]).fetchone()
            self.folded[key] = found[0] if found else None
        return self.folded[key]

    def link(self, scheme: str, value) -> dict | None:
        """{scheme, label, value, url} for an identifier with a value; url is
        None when the build stored no URL for it."""
        if not value:
            return None
        value = str(value)
        return {
            "scheme": scheme,
            "label": self.labels.get(scheme, scheme),
            "value": value,
            "url": self.url(scheme, value),
        }

    def links(self, row: dict, schemes) -> list[dict]:
        """Links for the row's identifier columns named by `schemes`, in order."""
        return [link for scheme in schemes if (link := self.link(scheme, row[scheme]))]


def page_titles(conn) -> dict[str, str]:
    """page -> title. Page rows hold whole bodies, so a join to pages for
    each listed item costs a row read each; the database is immutable, so
    the map is read once per server."""
    return dict(conn.execute("select page, title from pages").fetchall())


async def cached_titles(datasette) -> dict[str, str]:
    cached = getattr(datasette, "_agingkb_titles", None)
    if cached is None:
        cached = datasette._agingkb_titles = await datasette.get_database(DATABASE).execute_fn(page_titles)
    return cached

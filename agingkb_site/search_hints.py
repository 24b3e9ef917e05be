"""Search that never answers with an SQLite message.

- `fts_query(q)`, an SQL function on every connection, turns what a reader
  typed into an FTS5 query that cannot fail: empty text matches nothing,
  valid FTS5 syntax (phrases, OR, NOT, prefix*) is kept, anything else
  (an unbalanced quote, a lone OR) is searched as plain words. The ranked
  search queries (search_pages, ...) match on fts_query(:q).
- A table's own search box (`?_search=`): text that holds no word (empty,
  or only quotes) is no search at all, as if the box were left empty, and
  `_searchmode=raw` text that is not valid FTS5 is searched as plain words.
  The site-wide /-/search treats such text as an empty search.
- Each of those cases shows the reader one plain-language hint.

`rewrite` is one layer of middleware.py's ASGI stack, not a hook of its own.
"""

from __future__ import annotations

import sqlite3
import threading
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils import escape_fts

HOW_TO_SEARCH = "use quotes for a phrase, OR between alternatives and a trailing * for a prefix"
EMPTY_HINT = f"Type one or more words to search for, then press Run SQL ({HOW_TO_SEARCH})."
NO_WORDS_HINT = "That search holds no words, so the whole table is shown. Type one or more words to search for."
NO_WORDS_SITE_HINT = "That search holds no words. Type one or more words to search for."
PLAIN_WORDS_HINT = (
    "Your search could not be read as a search expression (an unbalanced quote, or an operator such as "
    "OR, AND, NOT or NEAR with nothing on one side), so its words were searched for as plain words. "
    f"To combine words, {HOW_TO_SEARCH}."
)
SCOPE_KEY = "agingkb_search_hint"
_checker = threading.local()


def is_valid_fts5(text: str) -> bool:
    """Whether FTS5 accepts `text` as a query, asked of an empty in-memory
    FTS5 table (one per thread: SQLite connections are not shared)."""
    connection = getattr(_checker, "connection", None)
    if connection is None:
        connection = _checker.connection = sqlite3.connect(":memory:")
        connection.execute("create virtual table probe using fts5(text)")
    try:
        connection.execute("select 1 from probe where probe match ?", [text]).fetchall()
    except sqlite3.Error:
        return False
    return True


def fts_query(text: str | None) -> str:
    """A reader's search text as an FTS5 query that cannot fail."""
    text = (text or "").strip()
    if not text:
        return '""'  # an empty phrase: matches nothing, raises nothing
    if is_valid_fts5(text):
        return text
    return escape_fts(text) or '""'


def search_hint(text: str | None) -> str | None:
    """What to tell a reader about the search text of a ranked search query."""
    text = (text or "").strip()
    if not text:
        return EMPTY_HINT
    if not is_valid_fts5(text):
        return PLAIN_WORDS_HINT
    return None


def clean_query_string(path: str, query_string: str) -> tuple[str, str | None] | None:
    """The query string with searches that cannot run made harmless, and the
    hint for the reader; None when nothing needs changing."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    if path.rstrip("/") == "/-/search":
        if any(key == "q" and value.strip() and not escape_fts(value.strip()) for key, value in pairs):
            return urlencode([(key, "" if key == "q" else value) for key, value in pairs]), NO_WORDS_SITE_HINT
        return None
    raw = ("_searchmode", "raw") in pairs
    kept, hint, changed = [], None, False
    for key, value in pairs:
        if key == "_search" or key.startswith("_search_"):
            if not escape_fts(value.strip()):
                hint = hint or (NO_WORDS_HINT if value.strip() else None)
                changed = True
                continue  # no words: no search
            if raw and not is_valid_fts5(value):
                hint, raw, changed = PLAIN_WORDS_HINT, False, True
        kept.append((key, value))
    if not changed:
        return None
    if not raw:
        kept = [(key, value) for key, value in kept if key != "_searchmode"]
    return urlencode(kept), hint


@hookimpl
def prepare_connection(conn):
    conn.create_function("fts_query", 1, fts_query, deterministic=True)


def rewrite(datasette):
    """The ASGI layer: searches that cannot run made harmless, with a hint."""

    def wrap(app):
        async def searching(scope, receive, send):
            if scope["type"] == "http" and (
                b"_search" in scope.get("query_string", b"") or scope.get("path", "").startswith("/-/search")
            ):
                cleaned = clean_query_string(scope.get("path", ""), scope.get("query_string", b"").decode("latin-1"))
                if cleaned is not None:
                    scope = {**scope, "query_string": cleaned[0].encode("ascii"), SCOPE_KEY: cleaned[1]}
            await app(scope, receive, send)

        return searching

    return wrap


@hookimpl
def extra_template_vars(view_name, request):
    if request is None:
        return {}
    hint = request.scope.get(SCOPE_KEY)
    # A stored query page is served by the table view in Datasette 0.65.
    if view_name in ("query", "table") and request.path.rsplit("/", 1)[-1].startswith("search_"):
        hint = search_hint(request.args.get("q"))
    return {"search_hint": hint}

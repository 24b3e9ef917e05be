"""Serve stage: what the site adds to Datasette.

- Safe serving: a length limit on every SQLite connection, security headers
  on every response, no redirect that leaves the site (the robots policy is
  datasette-block-robots, configured in data/site.yml).
- Reading: a page row shows its Markdown body as sanitised HTML, with
  [[wikilinks]] turned into links to the linked page's row.
- The home page: what the dataset is, its version and snapshot, row counts,
  licence, attribution and how to cite it.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from urllib.parse import quote

import datasette.handle_exception as datasette_errors
import nh3
from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import Response
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

DATABASE = "agingkb"
# Longest string or blob any SQL may build: a query such as
# length(hex(zeroblob(2e8))) fails at once instead of allocating gigabytes.
MAX_SQLITE_LENGTH = 5_000_000
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
WIKILINK = re.compile(r"\[\[([^\[\]|#]*)(#[^\[\]|]*)?(?:\|([^\[\]]*))?\]\]")
FENCE = re.compile(r"^(\s{0,3})(```|~~~)")


# Datasette 0.65.5 prints every error it answers (a query past the time
# limit, a 404) with rich's traceback and every local variable, the whole
# metadata included, when rich is installed: seconds of CPU on the event
# loop per error, during which the worker answers no one. Unexpected errors
# (500) are still printed by Datasette with the standard traceback.
datasette_errors.rich = None


@hookimpl
def startup(datasette):
    # Datasette 0.65.5 answers "may this table be viewed?" by deep-copying
    # the whole metadata (every column description) for every table on every
    # request: three quarters of the home page's time. The metadata never
    # changes while the site runs, so each table's answer is kept.
    allows = getattr(datasette, "_table_permission_allows", None)
    if allows is not None and not hasattr(allows, "cache_info"):
        datasette._table_permission_allows = lru_cache(maxsize=4096)(allows)


@hookimpl
def prepare_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_SQLITE_LENGTH)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)  # no ATTACH, whatever the SQL


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def guarded(scope, receive, send):
            if scope["type"] == "http":
                path = scope.get("path", "")
                raw = scope.get("raw_path", b"") or b""
                # '/\example.com/' and '//example.com' would be redirected to a
                # path browsers read as another host.
                if path.startswith(("//", "/\\")) or raw.startswith(
                    (b"//", b"/\\", b"/%5C", b"/%5c", b"/%2F", b"/%2f")
                ):
                    await Response.text("Not found", status=404).asgi_send(_with_headers(send))
                    return
            await app(scope, receive, _with_headers(send))

        return guarded

    return wrap


def _with_headers(send):
    async def sender(message):
        if message["type"] == "http.response.start":
            headers = [
                (k, v) for k, v in message.get("headers", []) if k.lower() not in {name for name, _ in SECURITY_HEADERS}
            ]
            message = {**message, "headers": headers + SECURITY_HEADERS}
        await send(message)

    return sender


# --- page bodies ----------------------------------------------------------


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table").use(footnote_plugin)


def link_wikilinks(markdown: str, resolve) -> str:
    """[[target|alias]] -> a Markdown link to the target page's row, outside
    code fences and code spans; unresolved targets become plain text."""
    lines, fenced = [], False
    for line in markdown.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
        if fenced or "[[" not in line:
            lines.append(line)
            continue
        parts = re.split(r"(`[^`]*`)", line)
        for index in range(0, len(parts), 2):
            parts[index] = WIKILINK.sub(lambda m: _wikilink(m, resolve), parts[index])
        lines.append("".join(parts))
    return "\n".join(lines)


def _wikilink(match, resolve) -> str:
    target, anchor, alias = match.group(1).strip(), match.group(2) or "", (match.group(3) or "").strip()
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


# The database never changes under a server, so a body renders once per
# server (the resolver is per server, and part of the key).
_render_body_cached = lru_cache(maxsize=128)(render_body)


async def _resolver(datasette):
    """slug or path -> row URL, from the pages table (shortest path wins
    for a shared slug, as the build resolves links). The database is
    immutable, so it is read once per server."""
    cached = getattr(datasette, "_agingkb_resolver", None)
    if cached is None:
        cached = datasette._agingkb_resolver = await _read_resolver(datasette)
    return cached


async def _read_resolver(datasette):
    database = datasette.get_database(DATABASE)
    rows = (
        await database.execute(
            "select page, slug from pages order by length(page) - length(replace(page, '/', '')), page"
        )
    ).rows
    by_id = {page.lower(): page for page, _ in rows}
    by_slug: dict[str, str] = {}
    for page, slug in rows:
        by_slug.setdefault(slug.lower(), page)
    base = datasette.urls.table(DATABASE, "pages")

    def resolve(target: str) -> str | None:
        name = target.strip().replace("\\", "/").lower().removesuffix(".md").strip("/")
        if name in by_id:
            page = by_id[name]
        elif "/" in name:
            page = next((p for lower, p in sorted(by_id.items()) if lower.endswith("/" + name)), None)
        else:
            page = by_slug.get(name)
        return f"{base}/{quote(tilde_encode(page), safe='~')}" if page else None

    return resolve


COLUMN_DESCRIPTIONS_SCRIPT = """
(function () {
  // Fold the long list of column descriptions away and show each one as
  // its column header's tooltip, so the rows and facets are in view.
  var list = document.querySelector("dl.column-descriptions");
  if (!list) return;
  var box = document.createElement("details");
  box.className = "column-descriptions-box";
  var summary = document.createElement("summary");
  summary.textContent = "What each column holds (" + list.querySelectorAll("dt").length + " columns)";
  box.appendChild(summary);
  list.parentNode.insertBefore(box, list);
  box.appendChild(list);
  var described = {};
  list.querySelectorAll("dt").forEach(function (term) {
    described[term.textContent.trim()] = term.nextElementSibling ? term.nextElementSibling.textContent.trim() : "";
  });
  document.querySelectorAll("th[data-column]").forEach(function (header) {
    var text = described[header.getAttribute("data-column")];
    if (text) header.title = text;
  });
})();
"""


# Readable on every page: text and buttons at WCAG AA contrast (4.5:1),
# links in table cells underlined (not told apart by colour alone), and the
# content margin Datasette gives section.content kept for base.html's <main>.
SITE_CSS = """
main.content { margin: 0 1rem; }
form input[type=submit] { background-color: #0062cc; border-color: #0062cc; }
form button[type=button] { color: #0062cc; border-color: #0062cc; }
td em { color: #666; }
td a:link, td a:visited { text-decoration: underline; }
pre#sql-query { white-space: pre-wrap; overflow-wrap: anywhere; }
.scroll-box { overflow-x: auto; max-width: 100%; }
.scroll-box:focus-visible, .table-wrapper:focus-visible { outline: 2px solid #0062cc; }
"""
SITE_CSS_PATH = "/-/agingkb.css"

# Names for the controls and scroll boxes that Datasette's and
# datasette-search-all's markup leaves unnamed: the table filter's selects
# and value box, the search box, and any box that scrolls sideways (so a
# keyboard can reach and scroll it). Search results arrive later by fetch.
ACCESSIBLE_NAMES_SCRIPT = """
(function () {
  var names = [
    ["select[name^=_filter_column]", "Filter: column"],
    ["select[name^=_filter_op]", "Filter: operation"],
    ["input.filter-value", "Filter: value"],
    ["select#sort_by", "Sort by"],
    ["input#search-all-q", "Search all tables"]
  ];
  function label() {
    names.forEach(function (pair) {
      document.querySelectorAll(pair[0]).forEach(function (el) {
        if (!el.labels || !el.labels.length) el.setAttribute("aria-label", pair[1]);
      });
    });
    var used = {};
    document.querySelectorAll(".table-wrapper, .scroll-box, #search-all-results div[style*=overflow]").forEach(function (box) {
      var heading = box.previousElementSibling;
      var name = box.getAttribute("data-label") || (heading && /^H[1-6]$/.test(heading.tagName) ? heading.textContent.trim() : "Table");
      used[name] = (used[name] || 0) + 1;  // each region's name is unique on its page
      if (box.hasAttribute("tabindex")) return;
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", name + (used[name] > 1 ? " " + used[name] : "") + " (scrolls sideways)");
    });
  }
  label();
  var results = document.getElementById("search-all-results");
  if (results) new MutationObserver(label).observe(results, {childList: true, subtree: true});
})();
"""


@hookimpl
def extra_css_urls():
    return [SITE_CSS_PATH]


@hookimpl
def extra_body_script(view_name):
    return ACCESSIBLE_NAMES_SCRIPT + (COLUMN_DESCRIPTIONS_SCRIPT if view_name == "table" else "")


@hookimpl
def extra_template_vars(view_name, database, table, request, datasette):
    async def variables():
        found = {"site": _site(datasette)}  # the licence and source line, on every page
        if view_name == "row" and database == DATABASE and table == "pages" and request is not None:
            page_id = tilde_decode(request.url_vars.get("pks", ""))
            row = (
                await datasette.get_database(DATABASE).execute("select body from pages where page = ?", [page_id])
            ).first()
            if row and row["body"]:
                found["rendered_body"] = _render_body_cached(row["body"], await _resolver(datasette))
        return found

    return variables


@hookimpl
def register_routes():
    # The home page is the project's own (templates/index.html): Datasette's
    # index view would first inspect every table of every database (columns,
    # foreign keys, hidden tables) for a listing this page does not show.
    return [
        (r"^/$", home_page),
        (r"^/-/agingkb\.css$", lambda: Response(SITE_CSS, content_type="text/css; charset=utf-8")),
    ]


async def home_page(datasette, request):
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    home = await _home(datasette)
    context = {
        "agingkb": home,
        "metadata": datasette.metadata(),
        "databases": [{"name": DATABASE, "tables_count": len(home["counts"])}],
    }
    return Response.html(await datasette.render_template("index.html", context, request=request, view_name="index"))


def _site(datasette) -> dict:
    metadata = datasette.metadata() or {}
    return {
        key: metadata.get(key)
        for key in ("title", "license", "license_url", "source", "source_url", "about", "about_url")
    }


async def _home(datasette) -> dict:
    database = datasette.get_database(DATABASE)
    snapshot = (await database.execute("select * from snapshots")).first()
    # An immutable database's counts are taken once (from the inspect data
    # `etl serve` passes, or on the first request), not on every visit.
    table_counts = await database.table_counts(limit=60 * 60 * 1000)
    tables = [
        name
        for name in table_counts
        if not name.endswith(("_fts", "_fts_config", "_fts_data", "_fts_docsize", "_fts_idx"))
    ]
    counts = [
        {"table": name, "rows": table_counts[name], "url": datasette.urls.table(DATABASE, name)}
        for name in sorted(tables)
    ]
    # The dataset version travels in the database itself (etl/version.py), so
    # a local server and a deployed app show the same string.
    version = snapshot["dataset_version"] if snapshot else "unknown"
    return {"version": version, "snapshot": dict(snapshot) if snapshot else {}, "counts": counts}

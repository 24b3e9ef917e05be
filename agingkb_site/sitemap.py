"""Serve stage: /sitemap.xml for search engines, named in /robots.txt.

It lists the home page, every table page the home page lists, and the row
page of every page, trial, work and gap tag (the tables with a template of
their own, templates/row-agingkb-<table>.html). A sitemap holds at most
50,000 URLs (sitemaps.org): past that /sitemap.xml is an index of parts
/sitemap-1.xml, /sitemap-2.xml, ...

The database is immutable, so the URL paths are read once per worker; the
XML is kept with a mark where the site's absolute URL goes (describe.py's
public_base: the configured base URL, else the host the request named), as
llms_txt.py does. robots.txt stays datasette-block-robots' (its disallow
rules in data/site.yml); this module adds its Sitemap line through that
plugin's block_robots_extra_lines hook.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from datasette import hookimpl
from datasette.utils.asgi import Response

from .describe import public_base
from .home import home_facts
from .names import DATABASE
from .queries import RowUrls

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000  # per sitemap file, the protocol's limit
ROW_TABLES = ("pages", "trials", "works", "gap_tags")  # the tables whose rows have pages of their own
BASE = "\x00base\x00"


async def sitemap_paths(datasette) -> list[str]:
    """Every listed URL's path, home page first, read once per worker."""
    cached = getattr(datasette, "_agingkb_sitemap_paths", None)
    if cached is not None:
        return cached
    database = datasette.get_database(DATABASE)
    urls = RowUrls(datasette.urls.database(DATABASE))
    paths = [datasette.urls.path("/")] + [entry["url"] for entry in (await home_facts(datasette))["counts"]]
    for table in ROW_TABLES:
        keys = await database.primary_keys(table)
        columns = ", ".join(f"[{key}]" for key in keys)
        result = await database.execute(f"select {columns} from [{table}] order by {columns}", custom_time_limit=30_000)
        paths += [urls.row(table, *row) for row in result.rows]
    datasette._agingkb_sitemap_paths = paths
    return paths


def urlset(paths: list[str]) -> str:
    entries = "".join(f"<url><loc>{BASE}{escape(path)}</loc></url>\n" for path in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">\n{entries}</urlset>\n'


def sitemap_index(parts: int, part_path) -> str:
    entries = "".join(f"<sitemap><loc>{BASE}{escape(part_path(n))}</loc></sitemap>\n" for n in range(1, parts + 1))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NAMESPACE}">\n{entries}</sitemapindex>\n'


def sitemap_documents(paths: list[str], part_path, limit: int = MAX_URLS) -> dict[int, str]:
    """0: /sitemap.xml; n >= 1: /sitemap-n.xml, present only when the URLs
    are more than one file may hold."""
    if len(paths) <= limit:
        return {0: urlset(paths)}
    chunks = [paths[start : start + limit] for start in range(0, len(paths), limit)]
    documents = {0: sitemap_index(len(chunks), part_path)}
    documents.update({n: urlset(chunk) for n, chunk in enumerate(chunks, start=1)})
    return documents


async def documents(datasette) -> dict[int, str]:
    cached = getattr(datasette, "_agingkb_sitemaps", None)
    if cached is None:
        paths = await sitemap_paths(datasette)
        cached = sitemap_documents(paths, lambda n: datasette.urls.path(f"/sitemap-{n}.xml"))
        datasette._agingkb_sitemaps = cached
    return cached


async def sitemap_view(datasette, request):
    await datasette.ensure_permissions(request.actor, ["view-instance", ("view-database", DATABASE)])
    part = int(request.url_vars.get("part") or 0)
    document = (await documents(datasette)).get(part)
    if document is None:
        return Response.text("Not found", status=404)
    text = document.replace(BASE, escape(public_base(datasette, request.scope)))
    headers = {"cache-control": f"public, max-age={datasette.setting('default_cache_ttl')}"}
    return Response(text, content_type="application/xml; charset=utf-8", headers=headers)


@hookimpl
def register_routes():
    return [(r"^/sitemap\.xml$", sitemap_view), (r"^/sitemap-(?P<part>[1-9][0-9]{0,5})\.xml$", sitemap_view)]


@hookimpl(specname="block_robots_extra_lines")
def robots_sitemap_line(datasette, request):
    return [f"Sitemap: {public_base(datasette, request.scope)}{datasette.urls.path('/sitemap.xml')}"]

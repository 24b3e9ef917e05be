"""Serve stage: the site, a Datasette plugin package.

Datasette loads it through the `datasette` entry points in pyproject.toml,
one per module that implements hooks. The package itself is one of them:
Datasette serves a plugin package's static/ at /-/static-plugins/<name>/
and puts its templates/ before its own. Importing the package imports
nothing else, so the ETL can read `names` without the site's dependencies.

Modules, by what a reader sees:
- home.py: the home page and the licence line of every page;
- page_view.py, entity_views.py, queries.py, page_body.py: row pages that
  read like a page (a page, a work, a trial, a gap tag);
- charts.py, forest_plot.py: pictures of the dataset;
- history.py: the history tables shown where the build has them, hidden where not;
- downloads.py: whole-table downloads as static files;
- site_search.py: /-/search, every full-text table searched at once;
- mcp_server.py, mcp_tools.py: /-/mcp, the dataset for research assistants
  (Model Context Protocol); llms_txt.py: /llms.txt and /llms-full.txt;
- search_hints.py: search that never answers with an SQLite message;
- table_cells.py: table and query cells drawn in one Python call;
- assets.py: the site's CSS and scripts (static/).
And by what keeps the site up:
- middleware.py: the one ASGI wrapper, composing in a declared order
  the MCP transport's lifespan, security.py (headers, no off-site
  redirect, SQLite limits, read-only SQL),
  search_hints.py's query rewriting, page_cache.py, admission.py and
  sql_on_loop.py (a reader's queries on the event loop, within a budget);
- workarounds.py: every change made to Datasette's own code;
- serve.py, asgi.py: how the site is started (`etl serve`, the release).
"""

"""Serve stage: the home page, and the licence line of every page.

The home page says what the dataset is, its version and snapshot, row
counts, licence, attribution and how to cite it (templates/home.html).
Every page's footer names the data's licence and source (_footer.html).

The template is home.html, not index.html: plugins may ship an index.html
too (datasette-search-all does), and Datasette puts plugins' template
directories in no set order, so a template of this package must not share a
name with another plugin's unless that one is never rendered.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import Response

from .downloads import downloads
from .history import history_state
from .names import DATABASE

SITE_KEYS = ("title", "license", "license_url", "source", "source_url", "about", "about_url")


@hookimpl
def register_routes():
    # The home page is the project's own: Datasette's index view would first
    # inspect every table of every database (columns, foreign keys, hidden
    # tables) for a listing this page does not show.
    return [(r"^/$", home_page)]


@hookimpl
def extra_template_vars(datasette):
    return {"site": site(datasette)}  # the licence and source line, on every page


async def home_page(datasette, request):
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    home = await home_facts(datasette)
    context = {
        "agingkb": home,
        "metadata": datasette.metadata(),
        "databases": [{"name": DATABASE, "tables_count": len(home["counts"])}],
    }
    return Response.html(await datasette.render_template("home.html", context, request=request, view_name="index"))


def site(datasette) -> dict:
    metadata = datasette.metadata() or {}
    return {key: metadata.get(key) for key in SITE_KEYS}


async def home_facts(datasette) -> dict:
    database = datasette.get_database(DATABASE)
    snapshot = (await database.execute("select * from snapshots")).first()
    # An immutable database's counts are taken once (from the inspect data
    # `etl serve` passes, or on the first request), not on every visit.
    table_counts = await database.table_counts(limit=60 * 60 * 1000)
    # The tables metadata.yml hides (full-text indexes, SQLite's statistics)
    # and the empty history tables (history.py): a plain build has none.
    declared = (datasette.metadata(database=DATABASE) or {}).get("tables", {})
    hidden = history_state(datasette).empty
    tables = [name for name in table_counts if not declared.get(name, {}).get("hidden") and name not in hidden]
    counts = [
        {"table": name, "rows": table_counts[name], "url": datasette.urls.table(DATABASE, name)}
        for name in sorted(tables)
    ]
    # The dataset version travels in the database itself (etl/version.py), so
    # a local server and a deployed app show the same string.
    version = snapshot["dataset_version"] if snapshot else "unknown"
    facts = dict(snapshot) if snapshot else {}
    return {"version": version, "snapshot": facts, "counts": counts, "cite": citation(datasette, version, facts)}


def served_descriptor(datasette) -> dict:
    """The package descriptor /-/downloads/ serves (the build's
    datapackage.json), read once; {} when the site serves no package."""
    known = getattr(datasette, "_agingkb_descriptor", None)
    if known is None:
        download = downloads(datasette).get("datapackage.json")
        known = json.loads(os.pread(download.descriptor, download.size, 0)) if download is not None else {}
        datasette._agingkb_descriptor = known
    return known


def dataset_created(datasette) -> str:
    """When the served dataset was built: the `created` time its package
    descriptor states, else the time the database file was last written."""
    created = served_descriptor(datasette).get("created")
    if created:
        return created
    path = Path(datasette.get_database(DATABASE).path)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0).isoformat()


def citation(datasette, version: str, snapshot: dict) -> dict:
    """How to cite the served dataset: its authors and DOI as data/site.yml
    declares them (plugins.citation, as each release's CITATION.cff), the
    package's title, the version and the year it was built."""
    declared = datasette.plugin_config("citation") or {}
    authors = declared.get("authors") or []
    title = served_descriptor(datasette).get("title") or "agingkb"
    year = dataset_created(datasette)[:4]
    doi = str(declared.get("doi") or "").strip()
    short = ", ".join(
        f"{a['family-names']} {''.join(part[0] for part in a.get('given-names', '').split())}".strip()
        if a.get("family-names")
        else a.get("name", "")
        for a in authors
    )
    bibtex_authors = " and ".join(
        f"{a['family-names']}, {a.get('given-names', '')}".rstrip(", ") if a.get("family-names") else f"{{{a['name']}}}"
        for a in authors
    )
    fields = [
        ("author", bibtex_authors),
        ("title", title),
        ("year", year),
        ("version", version),
        ("note", f"Dataset, snapshot {snapshot.get('snapshot', '')} of the aging wiki. CC BY 4.0"),
        ("url", snapshot.get("upstream_repository") or ""),
        ("doi", doi),
    ]
    key = "agingkb" + year + "_" + version.split("+")[0].replace(".", "_")
    bibtex = f"@misc{{{key},\n" + "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value) + "}"
    return {"authors": short, "title": title, "year": year, "doi": doi, "bibtex": bibtex}

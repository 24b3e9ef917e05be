"""Serve stage: the dataset described for machines.

- The home page carries a schema.org Dataset in JSON-LD (templates/
  _dataset_jsonld.html), made from what the build wrote: datapackage.json
  (title, description, licence, author and publisher, keywords, build time,
  every column's description from data/tables.yml), the snapshots table
  (dataset version, the wiki's repository and commit) and the files
  /-/downloads/ serves, with the sizes and SHA-256 downloads.py took at
  startup, so a file added there is described here too.
- /croissant.json is the build's package/croissant.json (etl/output/
  croissant.py) with each file's URL made absolute under the site.

A field that cannot be filled is a DescriptionError when the server starts,
never an empty value. A database served without its package (no
datapackage.json to describe it from) has neither description.

The site's absolute URL (public_base): the plugin setting `base_url`
(metadata.yml, from the AGINGKB_BASE_URL environment variable), else the
scheme and host the request reached, as llms.txt's links are made.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import Response

from .downloads import PREFIX, declared_files, listed_downloads
from .mcp_tools import base_url
from .names import DATABASE

PLUGIN = "describe"
BASE = "\x00base\x00"  # where the absolute URL goes in the kept text
CROISSANT = "croissant.json"


class DescriptionError(Exception):
    """A property of the dataset's description has nothing to fill it."""


def public_base(datasette, scope) -> str:
    configured = (datasette.plugin_config(PLUGIN) or {}).get("base_url")
    return configured.rstrip("/") if configured else base_url(datasette, scope)


def filled(field: str, value):
    if value in (None, "", [], {}):
        raise DescriptionError(f"schema.org Dataset: nothing to fill {field} with")
    return value


def contributor(package: dict, role: str) -> str:
    names = [entry.get("title") for entry in package.get("contributors", []) if entry.get("role") == role]
    return filled(f"{role} (datapackage.json contributors with role {role})", names[0] if names else None)


def variables(package: dict) -> list[str]:
    """Every column, named table.column, as schema.org's Text form of
    variableMeasured: with a description each, 767 columns were nine tenths
    of the home page; their descriptions are in datapackage.json and
    croissant.json, both in `distribution`. A table's other formats (its
    Parquet twin) name the same columns and are not repeated."""
    return [
        f"{resource['name']}.{field['name']}"
        for resource in package.get("resources", [])
        if str(resource.get("path", "")).endswith(".csv")
        for field in resource["schema"]["fields"]
    ]


def based_on(snapshot: dict) -> dict:
    """The wiki's repository at the commit the build names; a build of a
    plain folder names no commit, and then its snapshot ID (the digest of
    the files read) is the version."""
    repository = filled("isBasedOn (snapshots.upstream_repository)", snapshot.get("upstream_repository"))
    commit = snapshot.get("upstream_commit") or snapshot.get("git_commit")
    return {
        "@type": "CreativeWork",
        "name": "the aging wiki",
        "url": f"{repository}/tree/{commit}" if commit else repository,
        "version": commit or filled("isBasedOn version (snapshots.snapshot)", snapshot.get("snapshot")),
    }


def dataset(package: dict, snapshot: dict) -> dict:
    """The Dataset without its distribution (added per request from the
    served files) and with BASE where the site's URL goes."""
    version = filled("version (snapshots.dataset_version)", snapshot.get("dataset_version"))
    if package.get("version") != version:
        stated = package.get("version")
        raise DescriptionError(f"datapackage.json's version {stated!r} is not the database's {version!r}")
    licenses = package.get("licenses") or [{}]
    return {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": filled("name (datapackage.json title)", package.get("title")),
        "alternateName": filled("alternateName (datapackage.json name)", package.get("name")),
        "description": filled("description (datapackage.json description)", package.get("description")),
        "url": f"{BASE}/",
        "version": version,
        "license": filled("license (datapackage.json licenses[0].path)", licenses[0].get("path")),
        "creator": {"@type": "Person", "name": contributor(package, "author")},
        "publisher": {"@type": "Organization", "name": contributor(package, "publisher")},
        "keywords": filled("keywords (datapackage.json keywords)", package.get("keywords")),
        # The time the build wrote this version (SOURCE_DATE_EPOCH when pinned).
        "dateModified": filled("dateModified (datapackage.json created)", package.get("created")),
        "isAccessibleForFree": True,
        "isBasedOn": based_on(snapshot),
        "variableMeasured": filled("variableMeasured (datapackage.json fields)", variables(package)),
    }


def distribution(datasette) -> list[dict]:
    files = [
        {
            "@type": "DataDownload",
            "name": name,
            "encodingFormat": download.content_type.split(";")[0],
            "contentUrl": f"{BASE}{datasette.urls.path(PREFIX + name)}",
            "contentSize": f"{download.size} B",
            "sha256": download.etag.strip('"'),
        }
        for name, download in listed_downloads(datasette).items()
    ]
    return filled("distribution (the files /-/downloads/ lists)", files)


def package_descriptor(datasette) -> Path | None:
    """The datapackage.json downloads.py serves, if there is one."""
    database = datasette.get_database(DATABASE)
    configured = (datasette.plugin_config("downloads") or {}).get("package_dir")
    return declared_files(Path(database.path), Path(configured) if configured else None).get("datapackage.json")


@hookimpl
def startup(datasette):
    async def describe():
        database = datasette.databases.get(DATABASE)
        if database is None or not database.path:
            return
        descriptor = package_descriptor(datasette)
        if descriptor is None:
            # A database served without its package (downloads.py serves the database alone):
            # there is nothing to describe it from, so no description rather than a thin one.
            print(
                f"agingkb: no datapackage.json beside {database.path}: no JSON-LD, no /croissant.json", file=sys.stderr
            )
            return
        package = json.loads(descriptor.read_text(encoding="utf-8"))
        row = (await database.execute("select * from snapshots")).first()
        datasette._agingkb_dataset = dataset(package, dict(row) if row else {})
        # Read now, as downloads.py opens its files: a later build replacing package/ under a
        # running server changes neither what is served nor what describes it.
        croissant = descriptor.with_name(CROISSANT)
        datasette._agingkb_croissant = json.loads(croissant.read_text("utf-8")) if croissant.is_file() else None

    return describe


def script_text(text: str, base: str) -> str:
    """The kept JSON under base, for a <script> element: no '<' that could close it."""
    return text.replace(json.dumps(BASE)[1:-1], base).replace("<", "\\u003c")


@hookimpl
def extra_template_vars(view_name, request, datasette):
    if view_name != "index" or request is None or not hasattr(datasette, "_agingkb_dataset"):
        return {}
    # Kept with the mark where the URL goes, made on the first request (after every startup
    # hook, downloads.py's too) and then once per worker.
    if not hasattr(datasette, "_agingkb_dataset_text"):
        description = {**datasette._agingkb_dataset, "distribution": distribution(datasette)}
        datasette._agingkb_dataset_text = json.dumps(description, ensure_ascii=False, separators=(",", ":"))
    base = json.dumps(public_base(datasette, request.scope))[1:-1]
    return {"dataset_jsonld": script_text(datasette._agingkb_dataset_text, base)}


async def croissant_view(datasette, request):
    """The build's Croissant description, its files' URLs under the site."""
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    kept = getattr(datasette, "_agingkb_croissant", None)
    if kept is None:
        return Response.text("Not found", status=404)
    description = json.loads(json.dumps(kept))  # a copy: the URLs differ per host
    base = public_base(datasette, request.scope)
    description["url"] = f"{base}{datasette.urls.path('/')}"
    for entry in description.get("distribution", []):
        entry["contentUrl"] = f"{base}{datasette.urls.path(PREFIX + entry['contentUrl'])}"
    headers = {"cache-control": f"public, max-age={datasette.setting('default_cache_ttl')}"}
    return Response(json.dumps(description, ensure_ascii=False), content_type="application/ld+json", headers=headers)


@hookimpl
def register_routes():
    return [(r"^/croissant\.json$", croissant_view)]

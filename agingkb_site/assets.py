"""Serve stage: the site's own CSS and scripts, files under static/.

Datasette serves a plugin package's static/ at
/-/static-plugins/<plugin name>/, the name being the distribution the
package was installed from ("agingkb", here and in the released app).
Each URL carries a digest of its file, so a browser never keeps an old
copy past a change. Scripts are modules: they run once the page is parsed,
as the inline scripts at the end of the page did before.
"""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from pathlib import Path

from datasette import hookimpl

STATIC = Path(__file__).resolve().parent / "static"
PACKAGE = __package__ or "agingkb_site"
EVERY_PAGE_CSS = ("site.css",)
EVERY_PAGE_SCRIPTS = ("accessible-names.js",)
TABLE_SCRIPTS = ("column-descriptions.js",)  # the table view's column descriptions, folded away


@cache
def plugin_name() -> str:
    """The name Datasette mounts static/ under: the distribution's name when
    the package came in through its entry point, else the module's."""
    # Imported here: datasette.plugins loads every entry point on import,
    # this package's modules among them.
    from datasette.plugins import pm

    package = sys.modules.get(PACKAGE)
    for plugin, distribution in pm.list_plugin_distinfo():
        if plugin is package:
            return distribution.project_name
    return PACKAGE


@cache
def _digest(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(datasette, name: str) -> str:
    return datasette.urls.static_plugins(plugin_name(), name) + "?" + _digest(name)


@hookimpl
def extra_css_urls(datasette):
    return [static_url(datasette, name) for name in EVERY_PAGE_CSS]


@hookimpl
def extra_js_urls(view_name, datasette):
    names = EVERY_PAGE_SCRIPTS + (TABLE_SCRIPTS if view_name == "table" else ())
    return [{"url": static_url(datasette, name), "module": True} for name in names]

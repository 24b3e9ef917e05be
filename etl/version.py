"""The one place versions come from.

- The software version is the installed distribution's (pyproject.toml).
- The dataset version is the version of the data a build holds:
  ``<software version>+<snapshot digest>``, e.g. ``0.2.0+4b2621522e501c21``.
  A new wiki snapshot or a new release of the code gives a new dataset
  version; the same code on the same pages gives the same one. It is
  computed once per build (in the read stage, with the snapshot) and every
  output copies it from there: datapackage.json, the snapshots table, the
  site's home page, CITATION.cff and the dist/<version>/ directory.
"""

from __future__ import annotations

from importlib import metadata as package_metadata

DISTRIBUTION = "agingkb"


def software_version() -> str:
    return package_metadata.version(DISTRIBUTION)


def dataset_version(snapshot_id: str) -> str:
    """The dataset version for a snapshot ID ('tree-' + 16 hex digits)."""
    return f"{software_version()}+{snapshot_id.removeprefix('tree-')}"

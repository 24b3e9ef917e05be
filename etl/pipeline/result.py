"""What a build gives back (BuildResult) and what of it summary.json says:
the same whether the build was made whole or patched in place."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic


@dataclass
class BuildResult:
    snapshot: dict
    rows: dict[str, int]
    pages_by_type: Counter
    diagnostics: Iterable[Diagnostic]  # a DiagnosticLog after a build
    timings: dict[str, float] = field(default_factory=dict)
    footnote_status: Counter = field(default_factory=Counter)
    invalid_fields: int = 0
    skipped: list = field(default_factory=list)
    pages_from_cache: int = 0
    resources_validated: int = 0  # the rest were unchanged since the last valid build
    resources: int = 0  # in datapackage.json: each table's CSV and Parquet file
    compared_with: str | None = None  # the version of the release the changes table compares with
    patched: list[str] | None = None  # the tables a build patched in place changed (etl/pipeline/patch.py)


def summary_dict(result: BuildResult) -> dict:
    return {
        "snapshot": result.snapshot,
        "pages_by_type": dict(sorted(result.pages_by_type.items())),
        "rows": result.rows,
        "footnote_parse_status": dict(sorted(result.footnote_status.items())),
        "invalid_frontmatter_values": result.invalid_fields,
        "diagnostics_by_code": dict(sorted(Counter(f"{d.severity}:{d.code}" for d in result.diagnostics).items())),
        "skipped_files": len(result.skipped),
        "pages_from_cache": result.pages_from_cache,
        "resources_validated": result.resources_validated,
        "compared_with": result.compared_with,
    }

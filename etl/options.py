"""BuildOptions: what every command that reads pages or data/ is told
once, and hands on to every stage that needs it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .schema import DATA_DIR

DEFAULT_MAX_PAGE_BYTES = 2_000_000  # a page larger than this is refused whole, not parsed


@dataclass(frozen=True)
class BuildOptions:
    data_dir: Path = DATA_DIR  # the declarations: tables, page types, vocabularies, errors, venues, ...
    jobs: int | None = None  # page-parsing processes; None means one per core
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES  # a larger page is refused, not parsed
    patch: bool = True  # a build may patch the last one in place when few pages changed (etl/pipeline/patch.py)

    @property
    def processes(self) -> int:
        return self.jobs or os.cpu_count() or 1

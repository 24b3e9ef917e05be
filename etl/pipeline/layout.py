"""What a published build records for the next one to patch it in place
(etl/pipeline/patch.py): the pages it was made from, in order, and for
each page the bytes and rows it gave each page table, its diagnostics and
a digest of what it told the corpus stage; for the build, the works'
facts footnotes take and what joining the pages found.

A page table's CSV is its header and then each page's rows in page order,
so from these sizes an edit finds any page's rows in the published file
without reading the rest. Kept beside validated.json and, like it, naming
the build it describes: a record of any other build is not used.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic
from ..output.segments import SegmentEnds
from ..rows.result import PageResult
from .cache import CACHE_DIR

LAYOUT_FILE = "layout.pickle"  # in CACHE_DIR


def corpus_digest(result: PageResult) -> str:
    """A digest of everything the corpus stage takes from a page: equal
    digests give the corpus tables the same rows. The dataclasses' repr
    names every field, in declaration order."""
    told = (result.page, result.names, result.gap_tags, result.work_mentions, result.trial_mentions)
    return hashlib.sha256(repr(told).encode("utf-8")).hexdigest()


@dataclass
class PageEntry:
    path: str
    page: str | None  # its page ID
    sha256: str
    page_type: str | None
    invalid_fields: int
    corpus_digest: str
    # astuple of each Diagnostic, as the page gave them, pickled: held as
    # tuples of strings, the shared wiki's 7,172 took 1.85 MB (0.65 MB so),
    # a hundred times that at 100x the wiki.
    diagnostics: bytes
    chunks: dict[str, tuple[int, int]]  # table -> (bytes, rows) of its CSV; a table missing gave none

    def diagnostic_objects(self) -> list[Diagnostic]:
        return [Diagnostic(*values) for values in pickle.loads(self.diagnostics)]


@dataclass
class BuildLayout:
    """The record as the next build reads it (see LayoutWriter)."""

    build: str  # the build directory's name
    code: str  # the page cache's code version
    index_digest: str
    pages: list[PageEntry]
    footnote_chunks: dict[str, tuple[int, int]]  # page ID -> its footnote rows as the corpus completed them
    takes_facts: set[str]  # the IDs of pages whose footnotes take facts from works
    works_facts: dict  # WorkIndex.facts, for those footnotes
    gap_tags: list[str]
    corpus_tables: list[str]  # the tables the corpus stage writes whole
    corpus_diagnostics: list[Diagnostic]
    footnote_status: Counter
    zip_segments: dict  # a page table's member of the zip -> its segments (etl/output/segments.py)

    def chunk(self, position: int, table: str) -> tuple[int, int]:
        if table == "footnotes":
            return self.footnote_chunks.get(self.pages[position].page, (0, 0))
        return self.pages[position].chunks.get(table, (0, 0))

    def segment_ends(self) -> dict[str, list[tuple[str, int]]]:
        """Where each page table's zip segments end, as a build writing
        these pages' rows takes them (SegmentEnds)."""
        ends = SegmentEnds()
        tables = {name for entry in self.pages for name in entry.chunks} | {"footnotes"}
        for name in sorted(tables - set(self.corpus_tables)):
            for position, entry in enumerate(self.pages):
                ends.add(name, entry.page, self.chunk(position, name)[0])
        return ends.ends

    def offsets(self, table: str) -> list[tuple[int, int]]:
        """Per page, where its rows of `table` start in the CSV after the
        header, (byte offset, row offset); and after the last page, the end."""
        starts, size_sum, row_sum = [], 0, 0
        for position in range(len(self.pages)):
            starts.append((size_sum, row_sum))
            size, rows = self.chunk(position, table)
            size_sum, row_sum = size_sum + size, row_sum + rows
        starts.append((size_sum, row_sum))
        return starts


def page_entry(result: PageResult, path: str, sha256: str) -> PageEntry:
    chunks = {name: (len(text.lines.encode("utf-8")), text.count) for name, text in result.tables.items()}
    diagnostics = pickle.dumps([d.as_tuple() for d in result.diagnostics], pickle.HIGHEST_PROTOCOL)
    return PageEntry(
        path, result.page, sha256, result.page_type, result.invalid_fields, corpus_digest(result), diagnostics, chunks
    )


class LayoutWriter:
    """The record written as the build goes, so the build never holds it:
    a pickle per page as its rows are written, then the rest at the end.
    Kept in the staging directory; moved beside validated.json on publishing."""

    def __init__(self, staging: Path, build: str, code: str, index_digest: str):
        self.path = staging / f".{LAYOUT_FILE}"
        self.stream = open(self.path, "wb")
        pickle.dump({"build": build, "code": code, "index_digest": index_digest}, self.stream, pickle.HIGHEST_PROTOCOL)
        self.pages = 0
        self.footnote_chunks: dict[str, tuple[int, int]] = {}
        self.takes_facts: set[str] = set()

    def page(self, result: PageResult, path: str, sha256: str) -> None:
        pickle.dump(page_entry(result, path, sha256), self.stream, pickle.HIGHEST_PROTOCOL)
        self.pages += 1

    def footnotes(self, page: str, text, takes_facts: bool) -> None:
        self.footnote_chunks[page] = (len(text.lines.encode("utf-8")), text.count)
        if takes_facts:
            self.takes_facts.add(page)

    def finish(
        self, works_facts, gap_tags, corpus_tables, corpus_diagnostics, footnote_status: Counter, zip_segments: dict
    ) -> None:
        trailer = {
            "footnote_chunks": self.footnote_chunks,
            "takes_facts": self.takes_facts,
            "works_facts": works_facts,
            "gap_tags": gap_tags,
            "corpus_tables": sorted(corpus_tables),
            "corpus_diagnostics": list(corpus_diagnostics),
            "footnote_status": footnote_status,
            "zip_segments": zip_segments,
        }
        pickle.dump(_TRAILER, self.stream, pickle.HIGHEST_PROTOCOL)
        pickle.dump(trailer, self.stream, pickle.HIGHEST_PROTOCOL)
        self.stream.close()

    def publish(self, out_dir: Path) -> None:
        target = layout_path(out_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, target)


_TRAILER = "trailer"  # between the page entries and the rest


def write_layout(staging: Path, layout: BuildLayout) -> LayoutWriter:
    """A layout made by patching the last one, written as LayoutWriter
    writes a build's; publish() it with the build."""
    writer = LayoutWriter(staging, layout.build, layout.code, layout.index_digest)
    for entry in layout.pages:
        pickle.dump(entry, writer.stream, pickle.HIGHEST_PROTOCOL)
    writer.footnote_chunks, writer.takes_facts = layout.footnote_chunks, layout.takes_facts
    writer.finish(
        layout.works_facts,
        layout.gap_tags,
        layout.corpus_tables,
        layout.corpus_diagnostics,
        layout.footnote_status,
        layout.zip_segments,
    )
    return writer


def layout_path(out_dir: Path) -> Path:
    return Path(out_dir) / CACHE_DIR / LAYOUT_FILE


def load_layout(out_dir: Path) -> BuildLayout | None:
    """The record of the published build; None when there is none whole."""
    try:
        with open(layout_path(out_dir), "rb") as handle:
            head, pages = pickle.load(handle), []
            while (entry := pickle.load(handle)) != _TRAILER:
                pages.append(entry)
            trailer = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    layout = BuildLayout(**head, pages=pages, **trailer)
    return layout


def forget_layout(out_dir: Path) -> None:
    """A build that publishes without recording its layout leaves none
    behind: the next build then starts from its pages, not from a record
    of an older build."""
    layout_path(out_dir).unlink(missing_ok=True)

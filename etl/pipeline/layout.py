"""What a published build records for the next one to patch it in place
(etl/pipeline/patch.py): the pages it was made from, in order, and for
each page the bytes and rows it gave each page table, its diagnostics and
a digest of what it told the corpus stage; for the build, the works'
facts footnotes take and what joining the pages found.

A page table's CSV is its header and then each page's rows in page order,
so from these sizes an edit finds any page's rows in the published file
without reading the rest. Kept beside validated.json and, like it, naming
the build it describes: a record of any other build is not used.

The sizes are kept by table, one array entry per page: the next build
holds the record whole, and a dict of sizes per page made most of it
(loaded at 10x the wiki: 41 MB so, 12 MB by table).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic
from ..output.segments import SegmentEnds
from ..rows.result import PageResult
from .cache import CACHE_DIR

LAYOUT_FILE = "layout.pickle"  # in CACHE_DIR
SIZE_CODE = "I"  # 4-byte unsigned: a page's rows of one table are far smaller
FOOTNOTES = "footnotes"  # its rows are the corpus stage's completion of the page's own


def corpus_digest(result: PageResult) -> bytes:
    """A digest of everything the corpus stage takes from a page: equal
    digests give the corpus tables the same rows. The dataclasses' repr
    names every field, in declaration order."""
    told = (result.page, result.names, result.gap_tags, result.work_mentions, result.trial_mentions)
    return hashlib.sha256(repr(told).encode("utf-8")).digest()


@dataclass(slots=True)
class PageEntry:
    path: str
    page: str | None  # its page ID
    sha256: str
    page_type: str | None
    invalid_fields: int
    corpus_digest: bytes
    # astuple of each Diagnostic, as the page gave them, pickled: held as
    # tuples of strings, the shared wiki's 7,172 took 1.85 MB (0.65 MB so),
    # a hundred times that at 100x the wiki.
    diagnostics: bytes

    def diagnostic_objects(self) -> list[Diagnostic]:
        return [Diagnostic(*values) for values in pickle.loads(self.diagnostics)]


def zeros(count: int) -> array:
    return array(SIZE_CODE, bytes(array(SIZE_CODE).itemsize * count))


class Chunks:
    """Per page table, each page's (bytes, rows) of its CSV, in page order:
    two arrays of unsigned ints. A table no page gives rows to is absent."""

    def __init__(self, pages: int = 0, columns: dict[str, tuple[array, array]] | None = None):
        self.pages = pages
        self.columns: dict[str, tuple[array, array]] = columns if columns is not None else {}

    def append(self, sizes: dict[str, tuple[int, int]]) -> None:
        """The next page's sizes; a table missing gave it none."""
        for name in sizes.keys() - self.columns.keys():
            self.columns[name] = (zeros(self.pages), zeros(self.pages))
        for name, (byte_column, row_column) in self.columns.items():
            size, rows = sizes.get(name, (0, 0))
            byte_column.append(size)
            row_column.append(rows)
        self.pages += 1

    def get(self, position: int, table: str) -> tuple[int, int]:
        column = self.columns.get(table)
        return (column[0][position], column[1][position]) if column is not None else (0, 0)

    def set(self, position: int, table: str, size: int, rows: int) -> None:
        if table not in self.columns:
            if not size:
                return
            self.columns[table] = (zeros(self.pages), zeros(self.pages))
        self.columns[table][0][position], self.columns[table][1][position] = size, rows

    def copy(self) -> Chunks:
        return Chunks(
            self.pages, {name: (array(SIZE_CODE, b), array(SIZE_CODE, r)) for name, (b, r) in self.columns.items()}
        )

    def compacted(self) -> dict[str, tuple[array, array]]:
        """The columns as recorded: a table whose every page gave none is
        left out, as a build that never saw its rows leaves it."""
        return {name: column for name, column in sorted(self.columns.items()) if any(column[0])}


def page_sizes(result: PageResult) -> dict[str, tuple[int, int]]:
    """(bytes, rows) of each page table the page gave rows to, its own
    footnotes aside (the corpus stage completes them: see LayoutWriter.footnotes)."""
    return {
        name: (len(text.lines.encode("utf-8")), text.count) for name, text in result.tables.items() if name != FOOTNOTES
    }


@dataclass
class BuildLayout:
    """The record as the next build reads it (see LayoutWriter)."""

    build: str  # the build directory's name
    code: str  # the page cache's code version
    index_digest: str
    pages: list[PageEntry]
    chunks: Chunks  # the footnotes' as the corpus completed them
    works_facts: dict  # WorkIndex.facts, for those footnotes
    gap_tags: list[str]
    corpus_tables: list[str]  # the tables the corpus stage writes whole
    corpus_diagnostics: list[Diagnostic]
    footnote_status: Counter
    zip_segments: dict  # a page table's member of the zip -> its segments (etl/output/segments.py)

    def chunk(self, position: int, table: str) -> tuple[int, int]:
        return self.chunks.get(position, table)

    def page_tables(self) -> set[str]:
        """The tables whose rows come page by page."""
        return (set(self.chunks.columns) | {FOOTNOTES}) - set(self.corpus_tables)

    def segment_ends(self) -> dict[str, list[tuple[str, int]]]:
        """Where each page table's zip segments end, as a build writing
        these pages' rows takes them (SegmentEnds)."""
        ends = SegmentEnds()
        for name in sorted(self.page_tables() & set(self.chunks.columns)):
            for entry, size in zip(self.pages, self.chunks.columns[name][0]):
                ends.add(name, entry.page, size)
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
    diagnostics = pickle.dumps([d.as_tuple() for d in result.diagnostics], pickle.HIGHEST_PROTOCOL)
    return PageEntry(
        path, result.page, sha256, result.page_type, result.invalid_fields, corpus_digest(result), diagnostics
    )


class LayoutWriter:
    """The record written as the build goes, so the build never holds it:
    a pickle per page as its rows are written, then the rest at the end.
    Kept in the staging directory; moved beside validated.json on publishing."""

    def __init__(self, staging: Path, build: str, code: str, index_digest: str):
        self.path = staging / f".{LAYOUT_FILE}"
        self.stream = open(self.path, "wb")
        pickle.dump({"build": build, "code": code, "index_digest": index_digest}, self.stream, pickle.HIGHEST_PROTOCOL)
        self.chunks = Chunks()
        self.positions: dict[str | None, int] = {}  # page ID -> position, for the footnotes

    def page(self, result: PageResult, path: str, sha256: str) -> None:
        pickle.dump(page_entry(result, path, sha256), self.stream, pickle.HIGHEST_PROTOCOL)
        self.positions[result.page] = self.chunks.pages
        self.chunks.append(page_sizes(result))

    def footnotes(self, page: str, text) -> None:
        """The page's footnote rows as the corpus stage completed them."""
        self.chunks.set(self.positions[page], FOOTNOTES, len(text.lines.encode("utf-8")), text.count)

    def finish(
        self, works_facts, gap_tags, corpus_tables, corpus_diagnostics, footnote_status: Counter, zip_segments: dict
    ) -> None:
        trailer = {
            "chunks": (self.chunks.pages, self.chunks.compacted()),
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
    writer.chunks = layout.chunks
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
    trailer["chunks"] = Chunks(*trailer["chunks"])
    return BuildLayout(**head, pages=pages, **trailer)


def forget_layout(out_dir: Path) -> None:
    """A build that publishes without recording its layout leaves none
    behind: the next build then starts from its pages, not from a record
    of an older build."""
    layout_path(out_dir).unlink(missing_ok=True)

"""The tables of a build patched in place (etl/pipeline/patch.py), written
into its staging package: each page table's CSV spliced from the last
build's around the edited pages' rows, the snapshot's tables written
afresh, and every other file linked to the last build's, unchanged. Each
table that changed gives a TableChange: the rows the edit replaced."""

from __future__ import annotations

import filecmp
import os
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from ..corpus.inherited import InheritedFacts
from ..output.csv_text import read_table_text, table_slices, table_text
from ..output.row_changes import TableChange, changed_rows, csv_rows, narrowed, read_range, splice
from ..schema import Schema
from ..wiki.discover import Discovery, source_file_rows
from .layout import FOOTNOTES, BuildLayout, page_entry, page_sizes

# The corpus stage's tables a page edit changes without changing what the
# pages told the corpus: they list the snapshot's files.
SNAPSHOT_TABLES = ("snapshots", "source_files")


def completed(inherited: InheritedFacts, table):
    """Each page with footnotes: its ID and its footnote rows as a build
    writes them (what their records leave out taken from the works; a
    page's rows read again only when one takes something). The one way a
    full build and a patch complete them."""
    for page, text, takes_facts in inherited.pages():
        if takes_facts:
            rows = read_table_text(table, text)
            inherited.fill(rows)
            text = table_text(table, rows)
        yield page, text


def completed_footnotes(schema: Schema, layout: BuildLayout, results: dict[int, object]) -> dict[int, object]:
    """Each edited page's footnote rows as a build writes them, from the
    works' facts the layout kept (unchanged, as what the pages told the
    corpus is)."""
    inherited = InheritedFacts(SimpleNamespace(facts=layout.works_facts))
    positions = {}
    for position, result in results.items():
        inherited.add_page(result)
        if "footnotes" in result.tables:
            positions[result.page] = position
    return {positions[page]: text for page, text in completed(inherited, schema.tables["footnotes"])}


class PatchedTables:
    """The staging package's CSV files and the changes they hold."""

    def __init__(self, schema: Schema, layout: BuildLayout, previous: Path, package: Path):
        self.schema, self.layout, self.previous, self.package = schema, layout, previous, package
        self.changes: dict[str, TableChange] = {}
        self.footnote_status = Counter(layout.footnote_status)

    def page_tables(self, results: dict[int, object]) -> set[str]:
        """Tables whose rows come page by page: those any page gave rows to,
        before or now, and the footnotes."""
        names = {name for result in results.values() for name in result.tables}
        return self.layout.page_tables() | (names - set(self.layout.corpus_tables))

    def write(self, results: dict[int, object], discovery: Discovery, data_dir: Path, corpus=None) -> BuildLayout:
        """Every table's CSV in the staging package; the layout of the build
        it makes. `corpus` is the corpus stage made again (patch.JoinedAgain),
        when the edited pages told it something new."""
        if corpus is None:
            footnotes = completed_footnotes(self.schema, self.layout, results)
        else:  # other pages' footnotes may take other facts now
            footnotes = corpus.footnotes
        texts = {position: dict(result.tables) for position, result in results.items()}
        texts.update({position: {} for position in footnotes if position not in texts})
        for position, tables in texts.items():
            tables["footnotes"] = footnotes.get(position)
        for name in sorted(self.page_tables(results)):
            # An edited page gives each table its rows (or none now); another only its footnotes.
            edited = {p: tables.get(name) for p, tables in texts.items() if p in results or name in tables}
            self._splice(name, edited)
        for name in SNAPSHOT_TABLES:
            rows = [discovery.snapshot] if name == "snapshots" else source_file_rows(discovery, data_dir)
            self._changed(rewritten(name, self.schema.tables[name], rows, self.previous, self.package))
        if corpus is not None:  # the join wrote the corpus tables that changed
            for name, change in corpus.changes.items():
                os.replace(corpus.directory / f"{name}.csv", self.package / f"{name}.csv")
                self._changed(change)
        for name in self.schema.tables:
            if not (self.package / f"{name}.csv").exists():
                link(self.previous / f"{name}.csv", self.package / f"{name}.csv")
        layout = self._layout_after(results, discovery, footnotes)
        if corpus is not None:
            layout.works_facts, layout.corpus_diagnostics = corpus.works_facts, corpus.diagnostics
        return layout

    def _splice(self, name: str, new_texts: dict[int, object]) -> None:
        """The table's CSV with the edited pages' rows in place of theirs."""
        layout, old_path = self.layout, self.previous / f"{name}.csv"
        header = len(read_range(old_path, 0, 1 << 16).split(b"\n", 1)[0]) + 1
        offsets = layout.offsets(name)
        new_bytes = {p: (t.lines.encode("utf-8") if t is not None else b"") for p, t in new_texts.items()}

        def old_bytes(position: int) -> bytes:
            start, end = offsets[position][0], offsets[position + 1][0]
            return read_range(old_path, header + start, end - start)

        edited = [p for p in sorted(new_bytes) if new_bytes[p] != old_bytes(p)]
        if not edited:
            return
        first, last = edited[0], edited[-1]
        before, after = offsets[first], offsets[last + 1]
        region = b"".join(new_bytes[p] if p in new_bytes else old_bytes(p) for p in range(first, last + 1))
        splice(old_path, self.package / f"{name}.csv", header + before[0], after[0] - before[0], region)
        old_rows = csv_rows(read_range(old_path, header + before[0], after[0] - before[0]).decode("utf-8"))
        self._changed(narrowed(name, before[1], old_rows, csv_rows(region.decode("utf-8"))))

    def _changed(self, change: TableChange | None) -> None:
        if change is None:
            return
        self.changes[change.table] = change
        if change.table == "footnotes":  # the parse-status counts follow the rows
            position = self.schema.tables["footnotes"].column_names.index("parse_status")
            self.footnote_status.subtract(row[position] for row in change.old)
            self.footnote_status.update(row[position] for row in change.new)
            self.footnote_status = +self.footnote_status

    def _layout_after(self, results, discovery: Discovery, footnotes) -> BuildLayout:
        layout = self.layout
        pages, chunks = list(layout.pages), layout.chunks.copy()
        for position, result in results.items():
            source = discovery.pages[position]
            pages[position] = page_entry(result, source.path, source.sha256)
            sizes = page_sizes(result)
            for name in (chunks.columns.keys() | sizes.keys()) - {FOOTNOTES}:
                chunks.set(position, name, *sizes.get(name, (0, 0)))
            chunks.set(position, FOOTNOTES, 0, 0)
        for position, text in footnotes.items():
            chunks.set(position, FOOTNOTES, len(text.lines.encode("utf-8")), text.count)
        return BuildLayout(**{**vars(layout), "pages": pages, "chunks": chunks})


def rewritten(name: str, table, rows: list[dict], previous: Path, package: Path) -> TableChange | None:
    """A table written whole into `package`, a slice of rows at a time as
    a build writes it, and kept there when it is not the last build's (in
    `previous`); what changed, compared row by row."""
    path, old_path = package / f"{name}.csv", previous / f"{name}.csv"
    with open(old_path, "rb") as old, open(path, "wb") as handle:
        handle.write(old.readline())
        for text in table_slices(table, rows):
            handle.write(text.lines.encode("utf-8"))
    if filecmp.cmp(old_path, path, shallow=False):
        path.unlink()  # the last build's file is linked in its place
        return None
    return changed_rows(name, old_path, path)


def link(source: Path, target: Path) -> None:
    """target: the same file as source (the last build's files are never
    written again), or a copy where links cannot be made."""
    try:
        os.link(source, target)
    except OSError:
        import shutil

        shutil.copyfile(source, target)

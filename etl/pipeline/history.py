"""`etl history`: every commit of a wiki checkout as a snapshot, and what
each changed, row by row.

The commits are written one after another into one scratch directory
(revisions.Tree). A page's results are kept between commits and reused
while its text and every answer it had from the corpus index stay the same
(the rule of the per-page cache, etl/pipeline/cache.py); the pages that changed are
parsed again, through that cache. Rows of pages that changed are compared
page by page; the corpus-level tables (works, trials, ...) are made again
and compared whole when any page changed. The last commit is then built as
usual, with the commits, changes, page_history and gap_events tables beside
its own. What a commit did to the gap tags is etl/compare/gap_events.py's to
say; the commits and page_history counts are its events counted.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.page import check_slugs
from ..compare.diff import TableDiff, change_rows, diff_rows
from ..compare.gap_events import gap_event_row, gap_events
from ..corpus.tables import Corpus
from ..options import BuildOptions
from ..output.csv_text import read_table_text, serialise
from ..rows.result import PageResult
from ..schema import Schema, load_schema
from ..wiki.discover import discover
from ..wiki.parse import page_id
from ..wiki.revisions import Commit, Tree, changed_paths, commits, require_checkout, resolve, uncommitted
from .build import BuildResult, build
from .cache import CACHE_DIR, PageCache, code_version
from .index import corpus_index
from .workers import page_results


class HistoryError(Exception):
    """A commit the history cannot be built from."""

    exit_code = 1


class CheckoutError(HistoryError):
    """A checkout the history cannot start from (a usage error)."""

    exit_code = 2


def build_history(
    checkout: Path,
    out_dir: Path,
    options: BuildOptions | None = None,
    *,
    since: str | None = None,
    hold_blocked: bool = False,
) -> tuple[HistoryRows, BuildResult]:
    """Build every commit of `checkout` (after `since`, which is then the
    baseline), then the last one into `out_dir` with the history tables.
    Nothing in out_dir but its page cache changes unless the whole history
    and the last build succeed."""
    checkout = require_checkout(checkout)
    dirty = uncommitted(checkout)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise CheckoutError(
            f"{checkout} has uncommitted changes ({shown}); commit or stash them, so the history is of commits only"
        )
    if since is not None:
        since_commit = resolve(checkout, since)
        walk = commits(checkout, until=since_commit)[-1:] + commits(checkout, since=since_commit)
    else:
        walk = commits(checkout)
    if not walk:
        raise CheckoutError(f"{checkout}: no commits to build")
    options = options or BuildOptions()
    schema = load_schema(options.data_dir)
    out_dir = Path(out_dir)
    (out_dir / ".builds").mkdir(parents=True, exist_ok=True)
    cache = PageCache(out_dir / CACHE_DIR, code_version(options.data_dir, options.max_page_bytes))
    with tempfile.TemporaryDirectory(prefix="agingkb-history-") as scratch:
        history = History(checkout, Path(scratch), schema, options, cache, hold_blocked)
        rows = history.run(walk)
        last = walk[-1]
        result = build(
            history.tree.directory,
            out_dir,
            options,
            upstream_commit=last.upstream_commit,
            extra_rows=rows.tables(),
            git_commit=last.commit,
        )
    return rows, result


@dataclass
class PageState:
    key: str  # the page cache's key: path and content
    result: PageResult  # with its journal: what the page asked of the corpus index
    schema: Schema
    _cells: dict | None = None

    def cells(self, table: str) -> list[dict]:
        """The page's rows of one table as the CSV writes their cells."""
        if self._cells is None:
            self._cells = {
                name: read_table_text(self.schema.tables[name], text) for name, text in self.result.tables.items()
            }
        return self._cells.get(table, [])

    def count(self, table: str | None = None) -> int:
        """How many rows the page gives one table (all tables without one)."""
        tables = self.result.tables
        return sum(text.count for name, text in tables.items() if table in (None, name))


def _cells(row: dict) -> dict:
    return {name: serialise(value) for name, value in row.items()}


@dataclass
class HistoryRows:
    commits: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    page_history: list[dict] = field(default_factory=list)
    gap_events: list[dict] = field(default_factory=list)

    def tables(self) -> dict[str, list[dict]]:
        return {
            "commits": self.commits,
            "changes": self.changes,
            "page_history": self.page_history,
            "gap_events": self.gap_events,
        }


class History:
    """Walks commits oldest first, keeping the last built snapshot's pages
    and corpus tables, and collects what each commit changed."""

    def __init__(
        self,
        checkout: Path,
        scratch: Path,
        schema: Schema,
        options: BuildOptions,
        cache: PageCache,
        hold_blocked: bool,
    ):
        self.checkout, self.schema, self.options, self.cache = checkout, schema, options, cache
        self.hold_blocked = hold_blocked
        self.tree = Tree(checkout, scratch / "wiki")
        self.pages: dict[str, PageState] = {}  # path -> state, for the last commit built
        self.corpus: dict[str, list[dict]] = {}  # corpus table -> cells, for the last commit built
        self.built: Commit | None = None
        self.pages_now: dict[str, PageState] = {}  # page ID -> state, for the commit being compared
        self.rows = HistoryRows()
        # Tables whose rows belong to a page: compared page by page, and counted in page_history.
        self.tables_by_page = [
            name
            for name, t in schema.tables.items()
            if t.diff_key and "page" in t.column_names and t.kind != "vocabulary"
        ]

    def run(self, commits: list[Commit]) -> HistoryRows:
        for seq, commit in enumerate(commits, start=1):
            self.step(seq, commit)
        return self.rows

    def step(self, seq: int, commit: Commit) -> None:
        wiki = self.tree.show(commit.commit)
        files_changed = len(changed_paths(self.checkout, self.built.commit, commit.commit)) if self.built else 0
        discovery = discover(wiki, commit.upstream_commit, self.options.data_dir, commit.commit)
        index = corpus_index(discovery, self.schema, self.cache)
        pages = self._pages(discovery, index)
        row = _commit_row(seq, commit, files_changed)
        blocks = self.schema.blocking_codes
        blocking = [d for d in check_slugs([p.path for p in discovery.pages]) if d.code in blocks]
        held = {path: [d for d in state.result.diagnostics if d.code in blocks] for path, state in pages.items()}
        held = {path: problems for path, problems in held.items() if problems}
        if blocking or (held and not self.hold_blocked):
            problems = blocking + [d for problems in held.values() for d in problems]
            shown = "\n".join(d.format() for d in sorted(problems, key=lambda d: (d.path, d.line)))
            hint = (
                ""
                if blocking or self.hold_blocked
                else "\n(--hold-blocked keeps such a page at its last version that builds and goes on)"
            )
            raise HistoryError(f"commit {commit.commit[:12]} ({_subject(commit)}) does not build:\n{shown}{hint}")
        for path in held:  # at its last version that built, or left out until it builds
            if path in self.pages:
                pages[path] = self.pages[path]
            else:
                del pages[path]
        if held:
            row["pages_held"] = len(held)
            row["problem"] = "\n".join(d.format() for path in sorted(held) for d in held[path])
        corpus = self._corpus(pages, index, discovery)
        if self.built is None:
            self._baseline(row, commit, pages)
        else:
            self._compare(row, commit, pages, corpus)
        self.pages, self.corpus, self.built = pages, corpus, commit

    def _pages(self, discovery, index) -> dict[str, PageState]:
        """Every page's state at this commit: kept when its text and its
        answers from the index are the same, else read again."""
        states, stale = {}, []
        for page in discovery.pages:
            key = PageCache.key(page.path, page.sha256)
            kept = self.pages.get(page.path)
            if kept is not None and kept.key == key and all(index.answers(q) for q in kept.result.journal):
                states[page.path] = kept
            else:
                stale.append(page)
        with page_results(stale, index, self.schema, self.options, self.cache, with_journal=True) as results:
            for page, result in zip(stale, results):
                states[page.path] = PageState(PageCache.key(page.path, page.sha256), result, self.schema)
        return {path: states[path] for path in sorted(states)}

    def _corpus(self, pages: dict[str, PageState], index, discovery) -> dict[str, list[dict]]:
        if (
            self.built is not None
            and pages.keys() == self.pages.keys()
            and all(pages[p] is self.pages[p] for p in pages)
        ):
            return self.corpus  # no page changed: neither did what they say together
        corpus = Corpus(self.schema, self.options.data_dir)
        for state in pages.values():
            corpus.add_page(state.result)
        tables, _ = corpus.tables(index, discovery)
        return {
            name: [_cells(r) for r in rows]
            for name, rows in tables.items()
            if self.schema.tables[name].diff_key is not None
        }

    def _baseline(self, row: dict, commit: Commit, pages: dict[str, PageState]) -> None:
        """The first commit: the others are compared with it. Its pages are
        in page_history as added; its rows are not repeated in changes."""
        self.rows.commits.append(
            {
                **row,
                "status": "baseline",
                "pages_changed": len(pages),
                "rows_added": sum(state.count() for state in pages.values()),
            }
        )
        for path, state in pages.items():
            self.rows.page_history.append(
                _page_history_row(
                    page_id(path),
                    commit,
                    row["day"],
                    "added",
                    state.count(),
                    0,
                    0,
                    state.count("gaps"),
                    0,
                    0,
                    _verified(state),
                )
            )

    def _compare(self, row: dict, commit: Commit, pages: dict[str, PageState], corpus: dict[str, list[dict]]) -> None:
        self.pages_now = {page_id(path): state for path, state in pages.items()}
        diffs: list[TableDiff] = []
        per_page: dict[str, str] = {}  # page -> added | removed | changed
        for path in sorted(set(pages) | set(self.pages)):
            old, new = self.pages.get(path), pages.get(path)
            if old is new or (old and new and old.result.tables == new.result.tables):
                continue
            for name in self.tables_by_page:
                difference = diff_rows(
                    self.schema.tables[name], old.cells(name) if old else [], new.cells(name) if new else []
                )
                if difference:
                    diffs.append(difference)
            per_page[page_id(path)] = "added" if old is None else "removed" if new is None else "changed"
        if corpus is not self.corpus:
            for name, rows in corpus.items():
                difference = diff_rows(self.schema.tables[name], self.corpus.get(name, []), rows)
                if difference:
                    diffs.append(difference)
        self._record(row, commit, diffs, per_page)

    def _record(self, row: dict, commit: Commit, diffs: list[TableDiff], per_page: dict[str, str]) -> None:
        counts: dict[str, Counter] = {}
        totals = Counter()
        for difference in diffs:
            for kind, entries in (
                ("added", difference.added),
                ("removed", difference.removed),
                ("changed", difference.changed),
            ):
                totals[kind] += len(entries)
                if difference.table not in self.tables_by_page:
                    continue
                for entry in entries:
                    page = (entry[1] if kind != "changed" else entry[2]).get("page")
                    counts.setdefault(page, Counter())[kind] += 1
        for change in change_rows(diffs, self.schema):
            self.rows.changes.append({"change": len(self.rows.changes) + 1, "commit_hash": commit.commit, **change})
        for event in gap_events(diffs):  # the gap tags' counts are the gap_events rows', counted
            totals["gaps_" + event.event] += 1
            counts.setdefault(event.page, Counter())["gaps_" + event.event] += 1
            self.rows.gap_events.append(gap_event_row(len(self.rows.gap_events) + 1, commit.commit, row["day"], event))
        self.rows.commits.append(
            {
                **row,
                "status": "built",
                "pages_changed": len(counts),
                "rows_added": totals["added"],
                "rows_removed": totals["removed"],
                "rows_changed": totals["changed"],
                "gaps_opened": totals["gaps_opened"],
                "gaps_closed": totals["gaps_closed"],
                "gaps_changed": totals["gaps_changed"],
            }
        )
        for page in sorted(counts):
            c = counts[page]
            state = self.pages_now.get(page)
            self.rows.page_history.append(
                _page_history_row(
                    page,
                    commit,
                    row["day"],
                    per_page.get(page, "changed"),
                    c["added"],
                    c["removed"],
                    c["changed"],
                    c["gaps_opened"],
                    c["gaps_closed"],
                    c["gaps_changed"],
                    _verified(state),
                )
            )


def _subject(commit: Commit) -> str:
    return commit.message.splitlines()[0] if commit.message else ""


def _commit_row(seq: int, commit: Commit, files_changed: int) -> dict:
    return {
        "hash": commit.commit,
        "seq": seq,
        "upstream_commit": commit.upstream_commit,
        "date": commit.date,
        "day": dt.datetime.fromisoformat(commit.date).date().isoformat(),
        "author": commit.author,
        "subject": _subject(commit),
        "message": commit.message,
        "status": None,
        "pages_held": 0,
        "problem": None,
        "files_changed": files_changed,
        "pages_changed": 0,
        "rows_added": 0,
        "rows_removed": 0,
        "rows_changed": 0,
        "gaps_opened": 0,
        "gaps_closed": 0,
        "gaps_changed": 0,
    }


def _page_history_row(
    page, commit: Commit, day, change, added, removed, changed, opened, closed, reworded, verified
) -> dict:
    return {
        "page": page,
        "commit_hash": commit.commit,
        "day": day,
        "change": change,
        "rows_added": added,
        "rows_removed": removed,
        "rows_changed": changed,
        "gaps_opened": opened,
        "gaps_closed": closed,
        "gaps_changed": reworded,
        "verified": verified,
    }


def _verified(state: PageState | None) -> bool | None:
    """The page's verified flag in this state (None for a page that is gone)."""
    if state is None or not state.count("pages"):
        return None
    return {"1": True, "0": False}.get(state.cells("pages")[0]["verified"])


def history_report(rows: HistoryRows, out_dir: Path) -> list[str]:
    """What `etl history` prints: commits by status, changes per table, gap
    tags opened and closed, pages held."""
    statuses = Counter(c["status"] for c in rows.commits)
    lines = [
        f"commits: {len(rows.commits)} ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})",
        f"changes: {len(rows.changes)}; page history rows: {len(rows.page_history)}",
        *(f"  {table:<20} {count:>7}" for table, count in Counter(c["table_name"] for c in rows.changes).most_common()),
    ]
    events = Counter(e["event"] for e in rows.gap_events)
    lines.append(
        f"gap tags opened: {events['opened']}; closed: {events['closed']}; reworded: {events['changed']}; "
        f"carried to a renamed page: {events['moved']}; gone with their page: {events['page-removed']}"
    )
    held = [c for c in rows.commits if c["pages_held"]]
    if held:
        lines.append(f"commits with pages held at their last version that built: {len(held)}")
    lines.append(
        f"wrote {out_dir / 'package'}/datapackage.json (valid), {out_dir / 'agingkb.db'} "
        f"for {rows.commits[-1]['hash'][:12]}"
    )
    return lines

"""One page in, one PageResult out, on as many processes as the options
allow, in page order, from the page cache wherever it still holds."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..checks.page import check_page
from ..options import BuildOptions
from ..output.csv_text import table_text
from ..rows.corpus_index import CorpusIndex
from ..rows.page_rows import names_of, page_rows
from ..rows.result import PageResult
from ..rows.trial_mentions import page_trial_mentions
from ..schema import Schema
from ..wiki.parse import parse_page
from .cache import PageCache


@dataclass
class PageProcessor:
    """Parses, checks and turns one page into rows written as CSV text; the
    result goes into the page cache with what the page asked of the index."""

    index: CorpusIndex
    schema: Schema
    options: BuildOptions
    cache: PageCache | None = None

    def __call__(self, job: tuple[str, str, str]) -> PageResult:
        return self.made(job)[0]

    def stored(self, job: tuple[str, str, str]):
        """What a worker sends back: the page cache's own pickles of the
        result when it stored them (pickled once, not again for the pipe),
        else the result."""
        result, pickles = self.made(job)
        return StoredResult(*pickles, result.journal) if pickles else result

    def made(self, job: tuple[str, str, str]) -> tuple[PageResult, tuple[bytes, bytes] | None]:
        path, absolute, key = job
        schema, index = self.schema, self.index
        index.journal = []
        try:
            parsed = parse_page(path, Path(absolute).read_bytes(), schema, self.options.max_page_bytes)
            rows, work_mentions = page_rows(parsed, index, schema)
            footnote_works = {position: row["work"] for position, row in enumerate(rows.get("footnotes", []))}
            trial_mentions, trial_diagnostics = page_trial_mentions(parsed, index, footnote_works, schema)
            result = PageResult(
                page_type=parsed.page_type,
                tables={name: table_text(schema.tables[name], table_rows) for name, table_rows in rows.items()},
                work_mentions=work_mentions,
                trial_mentions=trial_mentions,
                gap_tags=sorted({row["tag"] for row in rows.get("gaps", [])}),
                diagnostics=parsed.diagnostics + check_page(parsed, index, schema) + trial_diagnostics,
                invalid_fields=sum(1 for f in parsed.typed_fields.values() if not f.valid),
                journal=index.journal,
                page=parsed.page,
                names=names_of(parsed),
            )
            pickles = self.cache.store(key, result, index.digest) if self.cache is not None else None
            return result, pickles
        finally:
            index.journal = None


@dataclass(frozen=True)
class StoredResult:
    """A PageResult as its page cache entry holds it (see PageCache.store)."""

    result: bytes  # without its tables and journal
    tables: bytes
    journal: list

    def loaded(self) -> PageResult:
        result = pickle.loads(self.result)
        result.tables, result.journal = pickle.loads(self.tables), self.journal
        return result


# The processor of this worker process, installed once when the pool forks
# it (so the corpus index and schema are not pickled for every page).
_installed: PageProcessor | None = None


def _install(processor: PageProcessor) -> None:
    global _installed
    _installed = processor


def _run_installed(job: tuple[str, str, str]):
    return _installed.stored(job)


@contextmanager
def page_results(
    pages,
    index: CorpusIndex,
    schema: Schema,
    options: BuildOptions,
    cache: PageCache | None = None,
    with_rows: bool = True,
    with_journal: bool = False,
) -> Iterator[Iterator[PageResult]]:
    """Per-page results in page order: from the cache where it still holds,
    else parsed on `options.processes` processes (in this process when that
    is 1 or the pages are few)."""
    keys = [PageCache.key(p.path, p.sha256) for p in pages]
    cached = {position for position, key in enumerate(keys) if cache is not None and cache.valid(key, index)}
    jobs = [
        (p.path, str(p.absolute), key) for position, (p, key) in enumerate(zip(pages, keys)) if position not in cached
    ]

    def in_page_order(fresh):
        # Cached results are read one at a time, as they are consumed.
        for position, key in enumerate(keys):
            yield cache.load(key, with_rows, with_journal) if position in cached else next(fresh)

    processor = PageProcessor(index, schema, options, cache)
    processes = options.processes
    if processes <= 1 or len(jobs) < 2 * processes:
        yield in_page_order(map(processor, jobs))
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=_install, initargs=(processor,)) as pool:
        sent = pool.imap(_run_installed, jobs, chunksize=8)
        yield in_page_order(r.loaded() if isinstance(r, StoredResult) else r for r in sent)

"""The engine of `etl check`: every diagnostic a build would report, without building,
and the report a curator reads."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

from ..checks.page import check_slugs
from ..corpus.tables import Corpus
from ..diagnostics import Diagnostic, relabelled
from ..options import BuildOptions
from ..schema import load_schema
from ..wiki.discover import discover
from .cache import CORPUS_PROBLEMS_MEMO, PageCache, code_version
from .index import corpus_index
from .workers import page_results


def check_wiki(
    wiki_dir: Path,
    paths: set[str] | None = None,
    options: BuildOptions | None = None,
    cache_dir: Path | None = None,
) -> list[Diagnostic]:
    """Every diagnostic `etl build` would report, without building. With
    `paths`, only problems in those files (links still resolve against the
    whole wiki). With `cache_dir` (a build's page cache), unchanged pages
    are not parsed again, and when every page is one the last build or
    check saw, what joining them found is read back instead of joined again."""
    options = options or BuildOptions()
    cache = PageCache(cache_dir, code_version(options.data_dir, options.max_page_bytes)) if cache_dir else None
    schema = cache.memo("schema", lambda: load_schema(options.data_dir)) if cache else load_schema(options.data_dir)
    discovery = discover(wiki_dir, None, options.data_dir, compare=False)  # no snapshot is published
    index = corpus_index(discovery, schema, cache)
    diagnostics = check_slugs([p.path for p in discovery.pages])
    corpus_key = PageCache.corpus_key(index, discovery.pages) if cache is not None else None
    known = cache.load_memo(CORPUS_PROBLEMS_MEMO) if cache is not None and paths is not None else {}
    if corpus_key is not None and known.get("corpus") == corpus_key:
        wanted = [p for p in discovery.pages if p.path in paths]
        one_process = replace(options, jobs=1)
        with page_results(wanted, index, schema, one_process, cache, with_rows=False) as results:
            for result in results:
                diagnostics += result.diagnostics
        diagnostics += known["problems"]
    else:
        corpus = Corpus(schema, options.data_dir)
        with page_results(discovery.pages, index, schema, options, cache, with_rows=False) as results:
            for result in results:
                corpus.add_page(result)
                diagnostics += result.diagnostics
        problems = corpus.problems(index)
        diagnostics += problems
        if cache is not None:
            cache.store_memo(CORPUS_PROBLEMS_MEMO, {"corpus": corpus_key, "problems": problems})
    if paths is not None:
        diagnostics = [d for d in diagnostics if d.path in paths]
    diagnostics = relabelled(diagnostics, schema.codes)
    return sorted(diagnostics, key=lambda d: (d.path, d.line, d.code, d.message))


def report_lines(diagnostics: list[Diagnostic]) -> tuple[list[str], list[str]]:
    """What `etl check` prints: one line per problem (standard output), then
    the count of errors and warnings and the count per code (standard error)."""
    errors = sum(1 for d in diagnostics if d.severity == "error")
    totals = [f"{errors} errors, {len(diagnostics) - errors} warnings"]
    totals += [f"  {code:<24} {count:>6}" for code, count in sorted(Counter(d.code for d in diagnostics).items())]
    return [d.format() for d in diagnostics], totals

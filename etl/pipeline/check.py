"""The engine of `etl check`: every diagnostic a build would report, without building,
and the report a curator reads."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from ..checks.page import check_slugs
from ..corpus.tables import Corpus
from ..diagnostics import Diagnostic, relabelled
from ..options import BuildOptions
from ..schema import Schema, load_schema
from ..wiki.discover import discover
from .cache import CORPUS_PROBLEMS_MEMO, PageCache, code_version
from .index import corpus_index
from .workers import page_results


def check_cache(options: BuildOptions, cache_dir: Path | None) -> PageCache | None:
    """The build's page cache a check reads, when the directory exists."""
    if cache_dir is None or not cache_dir.is_dir():
        return None
    return PageCache(cache_dir, code_version(options.data_dir, options.max_page_bytes))


def check_schema(options: BuildOptions, cache: PageCache | None) -> Schema:
    """The schema as the page cache keeps it, else read from data/ (0.15 s
    of YAML, most of a one-page check's own work)."""
    return cache.memo("schema", lambda: load_schema(options.data_dir)) if cache else load_schema(options.data_dir)


def check_wiki(
    wiki_dir: Path,
    paths: set[str] | None = None,
    options: BuildOptions | None = None,
    cache_dir: Path | None = None,
    schema: Schema | None = None,
) -> list[Diagnostic]:
    """Every diagnostic `etl build` would report, without building. With
    `paths`, only problems in those files (links still resolve against the
    whole wiki). With `cache_dir` (a build's page cache, if it exists), unchanged pages
    are not parsed again, and when every page is one the last build or
    check saw, what joining them found is read back instead of joined again.
    `schema`: check_schema's, when the caller has it already."""
    options = options or BuildOptions()
    cache = check_cache(options, cache_dir)
    schema = schema or check_schema(options, cache)
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


SEVERITIES = ("warning", "error")  # rising: --min-severity keeps its own and those after it


def codes_named(names: list[str], codes: dict[str, dict]) -> set[str]:
    """The codes `names` stand for: each a code or a group of the catalogue
    (`frontmatter`, `footnotes`, ...). Raises ValueError naming what is
    neither, with the nearest code."""
    groups: dict[str, set[str]] = {}
    for code, entry in codes.items():
        groups.setdefault(entry.get("group", ""), set()).add(code)
    found, unknown = set(), []
    for name in names:
        if name in codes:
            found.add(name)
        elif name in groups:
            found |= groups[name]
        else:
            nearest = difflib.get_close_matches(name, [*codes, *groups], n=1, cutoff=0.6)
            unknown.append(f"'{name}'" + (f" (did you mean {nearest[0]}?)" if nearest else ""))
    if unknown:
        raise ValueError(f"not a code or group of data/errors.yml: {', '.join(unknown)}")
    return found


def selected(
    diagnostics: list[Diagnostic],
    select: set[str] | None = None,
    ignore: set[str] = frozenset(),
    min_severity: str = "warning",
) -> list[Diagnostic]:
    """The diagnostics a curator asked for: only the codes in `select` (all
    when None), none of those in `ignore`, none below `min_severity`."""
    floor = SEVERITIES.index(min_severity)
    return [
        d
        for d in diagnostics
        if (select is None or d.code in select) and d.code not in ignore and SEVERITIES.index(d.severity) >= floor
    ]


def counts_by_code(diagnostics: list[Diagnostic]) -> list[tuple[str, str, int]]:
    """(severity, code, count), errors first, then the commonest codes."""
    counts = Counter((d.severity, d.code) for d in diagnostics)
    return sorted(((s, c, n) for (s, c), n in counts.items()), key=lambda t: (t[0] != "error", -t[2], t[1]))


def totals_line(diagnostics: list[Diagnostic]) -> str:
    errors = sum(1 for d in diagnostics if d.severity == "error")
    return f"{errors} errors, {len(diagnostics) - errors} warnings"


def summary_lines(shown: list[Diagnostic], hidden: list[Diagnostic], filters: str = "") -> list[str]:
    """The count per code, errors first; then what the filters hid."""
    lines = [totals_line(shown)] + [f"  {s:<8} {code:<32} {n:>6}" for s, code, n in counts_by_code(shown)]
    if hidden:
        lines.append(f"  hidden by {filters or 'the filters'}: {totals_line(hidden)}")
    return lines


def report_lines(diagnostics: list[Diagnostic], hidden: list[Diagnostic] = (), filters: str = "") -> ReportLines:
    """What `etl check` prints: the count per code first (standard error),
    one line per problem (standard output), then the totals again (standard
    error), where a long report ends."""
    return ReportLines(
        summary_lines(diagnostics, list(hidden), filters), [d.format() for d in diagnostics], [totals_line(diagnostics)]
    )


@dataclass(frozen=True)
class ReportLines:
    summary: list[str]  # standard error, first
    problems: list[str]  # standard output
    closing: list[str]  # standard error, last

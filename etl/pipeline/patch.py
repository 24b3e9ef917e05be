"""A build that patches the last one in place: when a few pages changed and
nothing they tell the corpus stage did, only their rows are made again.

The last published build left a record of where each page's rows lie in
every table (etl/pipeline/layout.py). From it the edited pages' rows are
spliced into the CSVs, the rest of every file is the last build's, and
each changed table's rows are:

- validated as the edit rule says (etl/output/edit_validation.py): the new
  rows by frictionless itself, the whole-table rules (keys, foreign keys)
  by the database;
- written into a copy of the database row by row, full-text indexes too
  (etl/output/database_patch.py);
- written into the table's Parquet file (whole) and NDJSON file (spliced);
- deflated into the zip, whose unchanged members are copied as stored.

The outputs are the bytes a build from scratch gives, the full-text
indexes equal by content. Anything else (pages added or removed, a
changed mention of a work or trial, another corpus index, a build of
other code) is a full build: patch_in_place() says None before it
writes anything.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import shutil
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path

from ..checks.page import check_slugs
from ..diagnostics import DiagnosticLog
from ..output.row_changes import TableChange
from .cache import CACHE_DIR, CORPUS_PROBLEMS_MEMO, PageCache
from .layout import BuildLayout, corpus_digest, forget_layout, load_layout, write_layout
from .outputs import BuildError, current_build, publish, read_json, remove_stale_builds, write_json_atomically
from .patch_package import PatchedPackage, workers
from .patch_tables import SNAPSHOT_TABLES, PatchedTables, completed, rewritten
from .result import BuildResult, summary_dict
from .validate_and_load import VALIDATED_FILE
from .workers import page_results

# More pages changed than this share: a full build costs about as much.
MOST_PAGES_PATCHED = 0.05


@dataclass
class JoinedAgain:
    """The corpus stage run again, when an edited page told it something new."""

    directory: Path  # where the tables that changed are written, whole
    tables: list[str]  # every table the corpus stage writes
    changes: dict[str, TableChange]  # of the tables that changed, the snapshot's aside (PatchedTables)
    gap_tags: list[str]  # the vocabulary the gaps table's schema takes
    footnotes: dict[int, object]  # page position -> its footnote rows as written
    diagnostics: list
    works_facts: dict


@dataclass
class Plan:
    layout: BuildLayout
    last_valid: dict  # the published build's validated.json
    previous: Path  # its build directory
    results: dict[int, object]  # page position -> its new PageResult
    parsed: int  # how many of them were parsed (the others were in the page cache)
    corpus: JoinedAgain | None = None  # None: what the pages tell the corpus is unchanged


def plan_patch(run, join) -> Plan | None:
    """What to patch, or None when the build must be made whole; `join`
    joins the corpus again when it must be (see join_process)."""
    out_dir, pages = run.out_dir, run.discovery.pages
    layout, last_valid, previous = load_layout(out_dir), read_json(out_dir / CACHE_DIR / VALIDATED_FILE), None
    if layout is not None and last_valid is not None:
        previous = current_build(out_dir)
    if previous is None or not (layout.build == last_valid.get("build") == previous.name):
        return None
    code = run.cache.directory.name
    if not (layout.code == last_valid.get("code") == code) or last_valid.get("frictionless") != version("frictionless"):
        return None
    if layout.index_digest != run.index.digest or [p.path for p in pages] != [e.path for e in layout.pages]:
        return None
    changed = [position for position, (p, e) in enumerate(zip(pages, layout.pages)) if p.sha256 != e.sha256]
    if len(changed) > max(1, MOST_PAGES_PATCHED * len(pages)):
        return None
    with page_results([pages[p] for p in changed], run.index, run.schema, run.options, run.cache) as results:
        results = dict(zip(changed, results))
    plan = Plan(layout, last_valid, previous, results, len(results) - run.cache.hits)
    if any(corpus_digest(result) != layout.pages[p].corpus_digest for p, result in results.items()):
        plan.corpus = join(results, layout.works_facts, previous / "package")
        if plan.corpus.gap_tags != layout.gap_tags or plan.corpus.tables != layout.corpus_tables:
            shutil.rmtree(plan.corpus.directory)
            return None  # a new vocabulary changes the schema every row is validated under
    return plan


def join_again(run, edited: dict[int, object], last_facts: dict, previous: Path) -> JoinedAgain:
    """The corpus tables made again from every page (all in the page cache
    now), as a full build makes them; each one that differs from the last
    build's (in `previous`) written whole, into a directory of the staging
    one. The footnotes completed again are the edited pages' and those of
    every page whose records leave out something of a work whose facts
    changed: any other page's are the last build's (`last_facts`), so its
    rows are not read."""
    from ..corpus.inherited import wanted_facts
    from ..corpus.tables import Corpus

    corpus, pages = Corpus(run.schema, run.options.data_dir), run.discovery.pages
    one_process = replace(run.options, jobs=1)  # a page missing from the cache is parsed here
    wants = {}
    with page_results(pages, run.index, run.schema, one_process, run.cache, with_rows=False) as results:
        for position, result in enumerate(results):
            result = edited.get(position, result)  # with its rows: its footnotes are completed
            corpus.add_page(result)
            wants[position] = wanted_facts(result)
    tables, diagnostics = corpus.tables(run.index, run.discovery)
    facts = corpus.works.facts
    changed = {work for work in facts.keys() | last_facts.keys() if facts.get(work) != last_facts.get(work)}
    again = [p for p, wanted in wants.items() if p not in edited and any(work in changed for work, _ in wanted)]
    positions = {result.page: position for position, result in edited.items()}
    with page_results([pages[p] for p in again], run.index, run.schema, one_process, run.cache) as results:
        for position, result in zip(again, results):
            corpus.footnotes.add_page(result)
            positions[result.page] = position
    footnotes = {positions[page]: text for page, text in completed(corpus.footnotes, run.schema.tables["footnotes"])}
    joined = JoinedAgain(
        directory=run.staging / ".joined",
        tables=sorted(tables),
        changes={},
        gap_tags=[row["tag"] for row in tables["gap_tags"]],
        footnotes=footnotes,
        diagnostics=diagnostics,
        works_facts=facts,
    )
    joined.directory.mkdir()
    for name in joined.tables:
        rows = tables.pop(name)  # each table's rows let go once compared
        if name in SNAPSHOT_TABLES:  # the build's own process writes them (PatchedTables)
            continue
        change = rewritten(name, run.schema.tables[name], rows, previous, joined.directory)
        if change is not None:
            joined.changes[name] = change
    return joined


# The build a join process joins again for, installed when it is forked.
_joining = None


def _install(run) -> None:
    global _joining
    _joining = run


def _join_installed(edited: dict[int, object], last_facts: dict, previous: Path) -> JoinedAgain:
    return join_again(_joining, edited, last_facts, previous)


@contextmanager
def join_process(run):
    """Where the corpus is joined again: a process forked now, before the
    last build's record is read, as the join holds every page's mentions
    (at 100x the wiki that process peaked at 873 MB, and the build's own
    at 781 MB with the record besides); this process when only one is allowed.
    Yields join(edited, last_facts, previous)."""
    if run.options.processes <= 1:
        yield functools.partial(join_again, run)
        return
    with multiprocessing.get_context("fork").Pool(1, initializer=_install, initargs=(run,)) as pool:
        yield lambda *arguments: pool.apply(_join_installed, arguments)


def patch_in_place(run, timed):
    """The build made by patching the last one (a BuildResult), or None."""
    with workers(run.options.processes) as pool:
        with timed(run.timings, "parse+rows"), join_process(run) as join:
            plan = plan_patch(run, join)
        if plan is None:
            return None
        diagnostics = _diagnostics(run, plan)
        package_dir = run.staging / "package"
        package_dir.mkdir()
        with timed(run.timings, "tables"):
            tables = PatchedTables(run.schema, plan.layout, plan.previous / "package", package_dir)
            layout = tables.write(plan.results, run.discovery, run.options.data_dir, plan.corpus)
            layout.build = run.staging.name
            if plan.corpus is not None:
                plan.corpus.directory.rmdir()
        with timed(run.timings, "package+validate+sqlite"):
            patched = PatchedPackage(run, plan, tables.changes, layout.segment_ends())
            package, counts, fingerprints, validated = patched.make(pool)
            layout.zip_segments = patched.zip_segments
    shutil.rmtree(run.staging / ".deflated", ignore_errors=True)
    result = BuildResult(
        snapshot=run.discovery.snapshot,
        rows=counts,
        pages_by_type=_pages_by_type(layout),
        diagnostics=diagnostics,
        timings=run.timings,
        footnote_status=tables.footnote_status,
        invalid_fields=sum(entry.invalid_fields for entry in layout.pages),
        skipped=run.discovery.skipped,
        pages_from_cache=len(run.discovery.pages) - plan.parsed,
        resources_validated=len(validated),
        resources=len(package["resources"]),
        patched=sorted(tables.changes),
    )
    layout.footnote_status = tables.footnote_status
    _publish(run, result, fingerprints, layout)
    return result


def _diagnostics(run, plan: Plan) -> DiagnosticLog:
    """The build's diagnostics, in the order a full build gives them; a
    BuildError when one blocks it, as in a full build."""
    log = DiagnosticLog(run.schema.codes)
    log.extend(check_slugs([p.path for p in run.discovery.pages]))
    for position, entry in enumerate(plan.layout.pages):
        result = plan.results.get(position)
        log.add_page(result.diagnostics if result is not None else entry.diagnostic_objects())
    log.extend(plan.corpus.diagnostics if plan.corpus is not None else plan.layout.corpus_diagnostics)
    if log.blocking:
        shown = "\n".join(d.format() for d in sorted(log.blocking, key=lambda d: (d.path, d.line)))
        raise BuildError(f"{len(log.blocking)} problems block the build; previous build kept\n{shown}")
    return log


def _pages_by_type(layout: BuildLayout) -> Counter:
    return Counter(entry.page_type or "(none)" for entry in layout.pages)


def _publish(run, result, fingerprints: dict, layout: BuildLayout) -> None:
    staging, out_dir = run.staging, run.out_dir
    with open(staging / "diagnostics.txt", "w", encoding="utf-8") as handle:
        handle.writelines(d.format() + "\n" for d in result.diagnostics)
    (staging / "summary.json").write_text(json.dumps(summary_dict(result), indent=2) + "\n", encoding="utf-8")
    writer = write_layout(staging, layout)
    corpus_key = PageCache.corpus_key(run.index, run.discovery.pages)
    run.cache.store_memo(CORPUS_PROBLEMS_MEMO, {"corpus": corpus_key, "problems": layout.corpus_diagnostics})
    forget_layout(out_dir)
    publish(staging, out_dir)
    write_json_atomically(out_dir / CACHE_DIR / VALIDATED_FILE, fingerprints)
    writer.publish(out_dir)
    remove_stale_builds(out_dir)
    run.cache.prune({PageCache.key(p.path, p.sha256) for p in run.discovery.pages})

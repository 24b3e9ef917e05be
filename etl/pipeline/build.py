"""Orchestration: read → parse → rows → package and validate → SQLite,
built in a staging directory and swapped into place only when valid.
"""

from __future__ import annotations

import csv
import fcntl
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.page import check_page, check_slugs
from ..corpus.tables import Corpus, corpus_index
from ..diagnostics import Diagnostic, DiagnosticLog
from ..output.archive import ZIP_NAME, zip_package
from ..output.csv_text import CsvSink, table_text
from ..output.descriptor import descriptor, write_descriptor
from ..output.fingerprints import changed_resources, resource_fingerprints, resources_to_validate
from ..output.validation import PackageValidation, validation_workers
from ..rows.page_rows import CorpusIndex, page_rows
from ..rows.trial_mentions import page_trial_mentions
from ..schema import DATA_DIR, load_schema
from ..wiki.discover import discover, load_sources
from ..wiki.parse import DEFAULT_MAX_PAGE_BYTES, parse_page
from .cache import PageCache, atomic_file, code_version


class BuildError(Exception):
    """The build cannot produce a valid package; the previous output stays."""


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
    compared_with: str | None = None  # the version of the release the changes table compares with


@contextmanager
def timed(timings: dict, stage: str):
    start = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


# Worker state, set once per process by _init_worker.
_WORKER: dict = {}


def _init_worker(index: CorpusIndex, schema, max_page_bytes: int, cache: PageCache | None) -> None:
    _WORKER["index"] = index
    _WORKER["schema"] = schema
    _WORKER["max_page_bytes"] = max_page_bytes
    _WORKER["cache"] = cache


def _process(job: tuple[str, str, str]):
    """Parse, check and turn one page into rows, written out as CSV text
    (runs in a worker); the result goes into the page cache with what it
    asked of the index."""
    path, absolute, key = job
    schema, index, cache = _WORKER["schema"], _WORKER["index"], _WORKER["cache"]
    index.journal = []
    try:
        parsed = parse_page(path, Path(absolute).read_bytes(), schema, _WORKER["max_page_bytes"])
        rows, mentions = page_rows(parsed, index, schema)
        footnote_works = {position: row["work"] for position, row in enumerate(rows.get("footnotes", []))}
        trial_mentions, trial_diagnostics = page_trial_mentions(parsed, index, footnote_works)
        diagnostics = parsed.diagnostics + check_page(parsed, index, schema) + trial_diagnostics
        invalid = sum(1 for f in parsed.typed_fields.values() if not f.valid)
        gap_tags = sorted({row["tag"] for row in rows.get("gaps", [])})
        tables = {name: table_text(schema.tables[name], table_rows) for name, table_rows in rows.items()}
        result = parsed.page_type, tables, (mentions, trial_mentions, gap_tags), diagnostics, invalid
        if cache is not None:
            cache.store(key, result, index.journal, index.digest)
        return result
    finally:
        index.journal = None


@contextmanager
def page_results(
    pages,
    jobs: int,
    index: CorpusIndex,
    schema,
    max_page_bytes: int,
    cache: PageCache | None = None,
    with_rows: bool = True,
):
    """Per-page results in page order: from the cache where it still holds,
    else parsed on `jobs` processes (or in this process when jobs is 1)."""
    keys = [PageCache.key(p.path, p.sha256) for p in pages]
    cached = {position for position, key in enumerate(keys) if cache is not None and cache.valid(key, index)}
    work_items = [
        (p.path, str(p.absolute), key) for position, (p, key) in enumerate(zip(pages, keys)) if position not in cached
    ]

    def in_page_order(fresh):
        # Cached results are read one at a time, as they are consumed.
        for position, key in enumerate(keys):
            yield cache.load(key, with_rows) if position in cached else next(fresh)

    if jobs <= 1 or len(work_items) < 2 * jobs:
        _init_worker(index, schema, max_page_bytes, cache)
        yield in_page_order(map(_process, work_items))
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_init_worker, initargs=(index, schema, max_page_bytes, cache)) as pool:
        yield in_page_order(pool.imap(_process, work_items, chunksize=8))


def check_wiki(
    wiki_dir: Path,
    paths: set[str] | None = None,
    jobs: int | None = None,
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
    data_dir: Path = DATA_DIR,
    cache_dir: Path | None = None,
) -> list[Diagnostic]:
    """Every diagnostic `etl build` would report, without building. With
    `paths`, only problems in those files (links still resolve against the
    whole wiki). With `cache_dir` (a build's page cache), unchanged pages
    are not parsed again, and when every page is one the last build or
    check saw, what joining them found is read back instead of joined again."""
    cache = PageCache(cache_dir, code_version(data_dir, max_page_bytes)) if cache_dir else None
    schema = cache.memo("schema", lambda: load_schema(data_dir)) if cache else load_schema(data_dir)
    discovery = discover(wiki_dir, None, data_dir)
    index = corpus_index(discovery, schema, cache)
    diagnostics = check_slugs([p.path for p in discovery.pages])
    corpus_key = PageCache.corpus_key(index, discovery.pages) if cache is not None else None
    known = cache.load_memo(CORPUS_PROBLEMS_MEMO) if cache is not None and paths is not None else {}
    if corpus_key is not None and known.get("corpus") == corpus_key:
        wanted = [p for p in discovery.pages if p.path in paths]
        with page_results(wanted, 1, index, schema, max_page_bytes, cache, with_rows=False) as results:
            for _, _, _, page_diagnostics, _ in results:
                diagnostics += page_diagnostics
        diagnostics += known["problems"]
    else:
        corpus = Corpus(schema, data_dir)
        with page_results(
            discovery.pages, jobs or os.cpu_count() or 1, index, schema, max_page_bytes, cache, with_rows=False
        ) as results:
            for _, _, mentions, page_diagnostics, _ in results:
                corpus.add_page(*mentions)
                diagnostics += page_diagnostics
        problems = corpus.problems(index)
        diagnostics += problems
        if cache is not None:
            cache.store_memo(CORPUS_PROBLEMS_MEMO, {"corpus": corpus_key, "problems": problems})
    if paths is not None:
        diagnostics = [d for d in diagnostics if d.path in paths]
    return sorted(diagnostics, key=lambda d: (d.path, d.line, d.code, d.message))


OUTPUTS = ("package", ZIP_NAME, "agingkb.db", "diagnostics.txt", "summary.json")
CACHE_DIR = ".cache"  # under the output directory: the per-page cache (etl/pipeline/cache.py)
CORPUS_PROBLEMS_MEMO = "corpus-problems"  # in the page cache: what joining the pages found, for `etl check`
VALIDATED_FILE = "validated.json"  # in CACHE_DIR: what frictionless found valid in the last published build


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _reusable_database(out_dir: Path, previous: dict | None, current: dict) -> Path | None:
    """The published database, when the fingerprints of the last valid build
    describe it (a build killed after publishing leaves older ones) and the
    same code made it; None means load a fresh one."""
    pointer = out_dir / ".current"
    if not previous or previous.get("code") != current["code"] or not pointer.is_symlink():
        return None
    if Path(os.readlink(pointer)).name != previous.get("build"):
        return None
    database = out_dir / "agingkb.db"
    return database if database.exists() else None


def _write_json_atomically(path: Path, value) -> None:
    with atomic_file(path, ".validated-") as stream:
        stream.write(json.dumps(value, indent=1, sort_keys=True).encode("utf-8"))


def _publish(build_dir: Path, out_dir: Path) -> None:
    """Make build_dir the current build in one atomic step.

    out_dir/package, out_dir/agingkb.db, ... are symlinks through
    out_dir/.current, itself a symlink to .builds/<id>. Replacing .current
    with os.replace is atomic, so a reader (or a build killed at any
    moment) sees either the whole previous build or the whole new one.
    """
    pointer = out_dir / ".current"
    fresh = out_dir / ".current.new"
    if fresh.is_symlink() or fresh.exists():
        fresh.unlink()
    os.symlink(os.path.relpath(build_dir, out_dir), fresh)
    os.replace(fresh, pointer)
    for name in OUTPUTS:
        link = out_dir / name
        target = os.path.join(".current", name)
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)  # output of an older layout
        staged = out_dir / f".{name}.link"
        if staged.is_symlink() or staged.exists():
            staged.unlink()
        os.symlink(target, staged)
        os.replace(staged, link)


def _remove_stale_builds(out_dir: Path) -> None:
    """Delete build directories that are not current: earlier builds and
    the remains of builds that were killed."""
    builds = out_dir / ".builds"
    if not builds.is_dir():
        return
    pointer = out_dir / ".current"
    current = (out_dir / os.readlink(pointer)).resolve() if pointer.is_symlink() else None
    for entry in builds.iterdir():
        if entry.resolve() != current:
            shutil.rmtree(entry, ignore_errors=True)


def build(
    wiki_dir: Path,
    out_dir: Path,
    upstream_commit: str | None = None,
    jobs: int | None = None,
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
    data_dir: Path = DATA_DIR,
    extra_rows: dict[str, list[dict]] | None = None,
    git_commit: str | None = None,
    previous: Path | None = None,
) -> BuildResult:
    """Build the package and database into out_dir/.builds/<id>/ and make it
    current only when it is complete and valid. `extra_rows` fills tables
    no page gives rows to (the history tables of `etl history`); `git_commit`
    names the commit the pages are from when wiki_dir is not a checkout;
    `previous` (a release, build or package directory) fills the changes
    table with what changed since it."""
    timings: dict[str, float] = {}
    out_dir = Path(out_dir)
    (out_dir / ".builds").mkdir(parents=True, exist_ok=True)
    jobs = jobs or os.cpu_count() or 1
    with _exclusive(out_dir), ExitStack() as lifetime:
        return _build(
            wiki_dir,
            out_dir,
            upstream_commit,
            jobs,
            max_page_bytes,
            data_dir,
            timings,
            lifetime,
            extra_rows,
            git_commit,
            previous,
        )


@contextmanager
def _exclusive(out_dir: Path):
    """One build at a time per output directory. The lock dies with its
    process, so a killed build never leaves it held."""
    with open(out_dir / ".build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"another build is writing to {out_dir}; try again when it has finished") from None
        yield


def _build(
    wiki_dir,
    out_dir,
    upstream_commit,
    jobs,
    max_page_bytes,
    data_dir,
    timings,
    lifetime: ExitStack,
    extra_rows,
    git_commit,
    previous,
) -> BuildResult:
    _remove_stale_builds(out_dir)
    staging = Path(tempfile.mkdtemp(prefix="build-", dir=out_dir / ".builds"))
    os.chmod(staging, 0o755)
    published = False
    try:
        cache = PageCache(out_dir / CACHE_DIR, code_version(data_dir, max_page_bytes))
        schema = cache.memo("schema", lambda: load_schema(data_dir))
        with timed(timings, "read"):
            discovery = discover(wiki_dir, upstream_commit, data_dir, git_commit)
            index = corpus_index(discovery, schema, cache)

        sink = CsvSink(staging / "package", schema)
        corpus = Corpus(schema, data_dir)
        diagnostics = DiagnosticLog()
        diagnostics.extend(check_slugs([p.path for p in discovery.pages]))
        pages_by_type: Counter = Counter()
        invalid_fields = 0
        with timed(timings, "parse+rows"):
            with page_results(discovery.pages, jobs, index, schema, max_page_bytes, cache) as results:
                # The validation workers are forked once the parsers are at
                # work (frictionless loads meanwhile) and before this process
                # holds anything: a process forked later carries a copy of it.
                workers = lifetime.enter_context(validation_workers(jobs))
                for page_type, tables, mentions, page_diagnostics, invalid in results:
                    pages_by_type[page_type or "(none)"] += 1
                    for table_name, text in tables.items():
                        sink.write_text(table_name, text)
                    corpus.add_page(*mentions)
                    diagnostics.add_page(page_diagnostics)
                    invalid_fields += invalid

        if diagnostics.blocking:
            blocking = diagnostics.blocking
            shown = "\n".join(d.format() for d in sorted(blocking, key=lambda d: (d.path, d.line)))
            raise BuildError(f"{len(blocking)} problems block the build; previous build kept\n{shown}")

        with timed(timings, "corpus tables"):
            corpus_rows, corpus_diagnostics = corpus.tables(index, discovery)
            diagnostics.extend(corpus_diagnostics)
            cache.store_memo(
                CORPUS_PROBLEMS_MEMO,
                {"corpus": PageCache.corpus_key(index, discovery.pages), "problems": corpus_diagnostics},
            )
            for table_name, table_rows in {**corpus_rows, **(extra_rows or {})}.items():
                sink.write(table_name, table_rows)
            gap_tags = [t["tag"] for t in corpus_rows["gap_tags"]]
            del corpus_rows, corpus  # written: what the pages said is not needed past here
            compared_with = None
            if previous is not None:  # compared with the tables written so far
                from ..compare.snapshots import changes_since

                sink.flush()
                change_rows, compared_with = changes_since(previous, staging / "package", schema)
                sink.write("changes", change_rows)
            sink.close()

        # Frictionless validates the package on worker processes while this
        # one loads SQLite; the build is published only if both succeed.
        with timed(timings, "package+validate+sqlite"):
            package = descriptor(schema, load_sources(data_dir), discovery.snapshot, gap_tags)
            counts, fingerprints, to_validate = _validate_and_load(
                staging, out_dir, schema, package, sink, cache, jobs, workers
            )

        footnote_status = Counter()
        with open(staging / "package" / "footnotes.csv", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                footnote_status[row["parse_status"]] += 1

        with open(staging / "diagnostics.txt", "w", encoding="utf-8") as handle:
            handle.writelines(d.format() + "\n" for d in diagnostics)
        result = BuildResult(
            snapshot=discovery.snapshot,
            rows=counts,
            pages_by_type=pages_by_type,
            diagnostics=diagnostics,
            timings=timings,
            footnote_status=footnote_status,
            invalid_fields=invalid_fields,
            skipped=discovery.skipped,
            pages_from_cache=cache.hits,
            resources_validated=len(to_validate),
            compared_with=compared_with,
        )
        (staging / "summary.json").write_text(json.dumps(summary_dict(result), indent=2) + "\n", encoding="utf-8")
        _publish(staging, out_dir)
        published = True
        _write_json_atomically(out_dir / CACHE_DIR / VALIDATED_FILE, fingerprints)
        _remove_stale_builds(out_dir)
        cache.prune({PageCache.key(p.path, p.sha256) for p in discovery.pages})
        return result
    finally:
        if not published:
            shutil.rmtree(staging, ignore_errors=True)


def _validate_and_load(
    staging: Path, out_dir: Path, schema, package: dict, sink: CsvSink, cache: PageCache, jobs: int, workers
):
    """Write the descriptor, then validate the resources that changed since
    the last valid build on the worker processes while this one loads (or
    patches) the database and a thread zips the package. Returns the row
    counts, the fingerprints to record once published, and what was
    validated; a BuildError when the package is not valid."""
    from ..output.database import build_database, update_database  # here: `etl check` needs no sqlite-utils

    descriptor_path = write_descriptor(staging / "package", package)
    fingerprints = resource_fingerprints(
        package, staging / "package", {name: d.hexdigest() for name, d in sink.key_digests.items()}
    )
    fingerprints.update(code=cache.directory.name, build=staging.name)
    last_valid = _read_json(out_dir / CACHE_DIR / VALIDATED_FILE)
    to_validate = resources_to_validate(package, fingerprints, last_valid)
    previous_database = _reusable_database(out_dir, last_valid, fingerprints)
    validation = PackageValidation(descriptor_path, jobs, only=to_validate, workers=workers)
    # The zip is written meanwhile too (zlib works outside the GIL); it is
    # published only with a valid package.
    with ThreadPoolExecutor(1) as zipper:
        zipped = zipper.submit(zip_package, staging / "package", staging / ZIP_NAME)
        try:
            if previous_database is None:
                counts = build_database(staging / "package", staging / "agingkb.db", schema)
            else:
                counts = update_database(
                    previous_database,
                    staging / "package",
                    staging / "agingkb.db",
                    schema,
                    changed_resources(last_valid, fingerprints),
                )
        except BaseException:
            validation.cancel()
            raise
        problems = validation.result()
        zipped.result()
    if problems:
        shown = "\n".join(problems[:50])
        raise BuildError(f"the data package is not valid ({len(problems)} problems); previous build kept\n{shown}")
    return counts, fingerprints, to_validate


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

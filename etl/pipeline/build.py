"""The build, stage by stage: read → parse and rows (per page) → corpus
tables → package, validate and SQLite → publish. Each stage is a call into
its own package; this module only orders them, times them and decides
what is published.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ..checks.page import check_slugs
from ..corpus.tables import Corpus
from ..diagnostics import DiagnosticLog
from ..options import BuildOptions
from ..output.csv_text import CsvSink
from ..output.descriptor import descriptor
from ..output.segments import SegmentEnds
from ..output.validation import validation_workers
from ..schema import load_schema
from ..wiki.discover import discover, load_sources
from .cache import CACHE_DIR, CORPUS_PROBLEMS_MEMO, PageCache, code_version
from .index import corpus_index
from .layout import LayoutWriter, forget_layout, layout_path
from .outputs import BuildError, exclusive, publish, remove_stale_builds, staging_directory, write_json_atomically
from .patch import patch_in_place
from .patch_tables import completed
from .result import BuildResult, summary_dict
from .validate_and_load import VALIDATED_FILE, validate_and_load
from .workers import page_results

__all__ = ["CACHE_DIR", "BuildError", "BuildResult", "build", "build_report", "summary_dict"]


@contextmanager
def timed(timings: dict, stage: str):
    start = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def build(
    wiki_dir: Path,
    out_dir: Path,
    options: BuildOptions | None = None,
    *,
    upstream_commit: str | None = None,
    git_commit: str | None = None,
    verify_against: Path | None = None,
    extra_rows: dict[str, list[dict]] | None = None,
    previous: Path | None = None,
) -> BuildResult:
    """Build the package and database into out_dir/.builds/<id>/ and make it
    current only when it is complete and valid. `extra_rows` fills tables
    no page gives rows to (the history tables of `etl history`); `git_commit`
    names the commit the caller wrote the pages from when wiki_dir is not a
    checkout; `verify_against` (a repository or bundle) is what a plain
    wiki_dir is compared with the declared upstream_commit against;
    `previous` (a release, build or package directory) fills the changes
    table with what changed since it."""
    options = options or BuildOptions()
    out_dir = Path(out_dir)
    (out_dir / ".builds").mkdir(parents=True, exist_ok=True)
    with exclusive(out_dir), ExitStack() as lifetime, staging_directory(out_dir) as staging:
        run = _Build(wiki_dir, out_dir, staging, options, lifetime)
        may_patch = extra_rows is None and previous is None and options.patch and layout_path(out_dir).is_file()
        if not may_patch:  # a whole build: its validation workers first (see fork_workers)
            run.fork_workers()
        run.read(upstream_commit, git_commit, verify_against)
        if may_patch:
            patched = patch_in_place(run, timed)
            if patched is not None:
                return patched
            run.cache.hits = 0  # the pages it read are read again
        return run.all_stages(extra_rows, previous)


class _Build:
    """One build's state as it passes from stage to stage."""

    def __init__(self, wiki_dir: Path, out_dir: Path, staging: Path, options: BuildOptions, lifetime: ExitStack):
        self.wiki_dir, self.out_dir, self.staging = wiki_dir, out_dir, staging
        self.options, self.lifetime = options, lifetime
        self.timings: dict[str, float] = {}
        self.cache = PageCache(out_dir / CACHE_DIR, code_version(options.data_dir, options.max_page_bytes))
        self.schema = self.cache.memo("schema", lambda: load_schema(options.data_dir))
        self.diagnostics = DiagnosticLog(self.schema.codes)
        self.pages_by_type: Counter = Counter()
        self.invalid_fields = 0
        self.layout: LayoutWriter | None = None  # recorded for the next build to patch
        self.workers = None  # the validation workers (fork_workers)
        self.segment_ends = SegmentEnds()  # of the page tables' zip members

    def all_stages(self, extra_rows, previous) -> BuildResult:
        self.fork_workers()
        if extra_rows is None and previous is None:  # tables from the pages alone: worth a record
            self.layout = LayoutWriter(self.staging, self.staging.name, self.cache.directory.name, self.index.digest)
        with timed(self.timings, "parse+rows"):
            self.pages()
        if self.diagnostics.blocking:
            blocking = self.diagnostics.blocking
            shown = "\n".join(d.format() for d in sorted(blocking, key=lambda d: (d.path, d.line)))
            raise BuildError(f"{len(blocking)} problems block the build; previous build kept\n{shown}")
        from ..output.parquet import ParquetFiles  # pyarrow: a build's, not `etl check`'s

        with timed(self.timings, "corpus tables"):
            # The pages' tables are complete: the idle workers write their
            # Parquet and NDJSON files while this process joins the corpus.
            parquet_files = ParquetFiles(self.staging / "package", self.schema, self.workers)
            self.sink.flush()
            parquet_files.start(
                [n for n, rows in self.sink.counts.items() if rows and n not in Corpus.COMPLETES], self.sink.counts
            )
            gap_tags, compared_with = self.corpus_tables(extra_rows, previous)
        with timed(self.timings, "parquet"):
            parquet = self.parquet_files(parquet_files)

        # Frictionless validates the package on worker processes while this
        # one loads SQLite; the build is published only if both succeed.
        with timed(self.timings, "package+validate+sqlite"):
            data_dir = self.options.data_dir
            sources, snapshot = load_sources(data_dir), self.discovery.snapshot
            package = descriptor(self.schema, sources, snapshot, gap_tags, data_dir, parquet)
            loaded = validate_and_load(
                self.staging,
                self.out_dir,
                self.schema,
                package,
                self.sink,
                self.cache,
                self.options,
                self.workers,
                self.segment_ends.ends,
            )
        result = self.result(loaded.counts, len(loaded.validated), compared_with)
        result.resources = len(package["resources"])
        self.publish(result, loaded.fingerprints, loaded.zip_segments)
        return result

    def fork_workers(self) -> None:
        """The validation workers, forked before this process holds the
        wiki's pages: a process forked later carries a copy of what the
        build then holds (at 100x the wiki, 175 MB against 60)."""
        if self.workers is None:
            self.workers = self.lifetime.enter_context(validation_workers(self.options.processes))

    def read(self, upstream_commit, git_commit, verify_against) -> None:
        with timed(self.timings, "read"):
            data_dir = self.options.data_dir
            self.discovery = discover(self.wiki_dir, upstream_commit, data_dir, git_commit, verify_against)
            self.index = corpus_index(self.discovery, self.schema, self.cache)

    def pages(self) -> None:
        """Every page's rows written out, its mentions gathered for the corpus."""
        self.sink = CsvSink(self.staging / "package", self.schema)
        self.corpus = Corpus(self.schema, self.options.data_dir)
        self.diagnostics.extend(check_slugs([p.path for p in self.discovery.pages]))
        with page_results(self.discovery.pages, self.index, self.schema, self.options, self.cache) as results:
            for source, result in zip(self.discovery.pages, results):
                if self.layout is not None:
                    self.layout.page(result, source.path, source.sha256)
                self.pages_by_type[result.page_type or "(none)"] += 1
                for table_name, text in result.tables.items():
                    if table_name not in Corpus.COMPLETES:
                        self.sink.write_text(table_name, text)
                        self.segment_ends.add(table_name, result.page, len(text.lines.encode("utf-8")))
                self.corpus.add_page(result)
                self.diagnostics.add_page(result.diagnostics)
                self.invalid_fields += result.invalid_fields

    def corpus_tables(self, extra_rows, previous) -> tuple[list[str], str | None]:
        """The tables joined across pages (and any extra ones) written; the
        changes and gap_events tables when there is a previous release to
        compare with."""
        corpus_rows, corpus_diagnostics = self.corpus.tables(self.index, self.discovery)
        self.diagnostics.extend(corpus_diagnostics)
        corpus_key = PageCache.corpus_key(self.index, self.discovery.pages)
        self.cache.store_memo(CORPUS_PROBLEMS_MEMO, {"corpus": corpus_key, "problems": corpus_diagnostics})
        for table_name, table_rows in {**corpus_rows, **(extra_rows or {})}.items():
            self.sink.write(table_name, table_rows)
        self.write_footnotes()
        gap_tags = [t["tag"] for t in corpus_rows["gap_tags"]]
        written = list(corpus_rows)
        del corpus_rows
        if self.layout is not None:
            self.layout_trailer = (self.corpus.works.facts, gap_tags, written, corpus_diagnostics)
        self.corpus = None  # written: what the pages said is not needed past here
        compared_with = None
        if previous is not None:  # compared with the tables written so far
            from ..compare.snapshots import changes_since

            self.sink.flush()
            history_rows, compared_with = changes_since(previous, self.staging / "package", self.schema)
            for table_name, table_rows in history_rows.items():
                self.sink.write(table_name, table_rows)
        self.sink.close()
        return gap_tags, compared_with

    def parquet_files(self, parquet_files) -> dict:
        """Each table's Parquet file, the ones not started yet written now
        (with their NDJSON files)."""
        from ..output.parquet import ParquetTypeError

        try:
            parquet, self.timings["parquet+ndjson cpu"] = parquet_files.result(self.sink.counts)
        except ParquetTypeError as error:
            raise BuildError(f"{error}; previous build kept") from None
        return parquet

    def write_footnotes(self) -> None:
        """Every page's footnote rows, in page order; a page's are read
        again only when one takes a fact from the work it cites."""
        for page, text in completed(self.corpus.footnotes, self.schema.tables["footnotes"]):
            self.sink.write_text("footnotes", text)
            self.segment_ends.add("footnotes", page, len(text.lines.encode("utf-8")))
            if self.layout is not None:
                self.layout.footnotes(page, text)

    def result(self, counts: dict[str, int], validated: int, compared_with: str | None) -> BuildResult:
        footnote_status = Counter()
        with open(self.staging / "package" / "footnotes.csv", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                footnote_status[row["parse_status"]] += 1
        return BuildResult(
            snapshot=self.discovery.snapshot,
            rows=counts,
            pages_by_type=self.pages_by_type,
            diagnostics=self.diagnostics,
            timings=self.timings,
            footnote_status=footnote_status,
            invalid_fields=self.invalid_fields,
            skipped=self.discovery.skipped,
            pages_from_cache=self.cache.hits,
            resources_validated=validated,
            compared_with=compared_with,
        )

    def publish(self, result: BuildResult, fingerprints: dict, zip_segments: dict) -> None:
        """diagnostics.txt and summary.json written, then the build made current."""
        with open(self.staging / "diagnostics.txt", "w", encoding="utf-8") as handle:
            handle.writelines(d.format() + "\n" for d in self.diagnostics)
        summary = json.dumps(summary_dict(result), indent=2) + "\n"
        (self.staging / "summary.json").write_text(summary, encoding="utf-8")
        if self.layout is not None:
            self.layout.finish(*self.layout_trailer, result.footnote_status, zip_segments)
        forget_layout(self.out_dir)  # a record of the build being replaced must not outlive it
        publish(self.staging, self.out_dir)
        write_json_atomically(self.out_dir / CACHE_DIR / VALIDATED_FILE, fingerprints)
        if self.layout is not None:
            self.layout.publish(self.out_dir)
        remove_stale_builds(self.out_dir)
        self.cache.prune({PageCache.key(p.path, p.sha256) for p in self.discovery.pages})


def build_report(result: BuildResult, out_dir: Path) -> list[str]:
    """What `etl build` prints: the snapshot, counts per type, table, parse
    status and code, and the time per stage."""
    summary = summary_dict(result)
    snap = result.snapshot
    lines = [
        f"snapshot {snap['snapshot']} (git {snap['git_commit'] or '-'}, upstream {snap['upstream_commit'] or '-'}): "
        + (snap["commit_statement"] or "no commit known"),
        f"files: {snap['markdown_files']} Markdown, {snap['pages']} pages, {snap['skipped_files']} skipped by rule",
        "pages per type:",
        *(f"  {name:<16} {count:>6}" for name, count in summary["pages_by_type"].items()),
        "rows per table:",
        *(f"  {name:<20} {count:>7}" for name, count in result.rows.items()),
        "parse failures:",
        *(f"  footnotes {status:<10} {count:>6}" for status, count in summary["footnote_parse_status"].items()),
        f"  frontmatter values not matching their declared type: {summary['invalid_frontmatter_values']}",
        *(f"  {code:<32} {count:>6}" for code, count in summary["diagnostics_by_code"].items()),
    ]
    if result.compared_with:
        lines.append(f"changes since release {result.compared_with}: {result.rows['changes']}")
    lines += [
        f"pages from the cache: {result.pages_from_cache}; resources validated: {result.resources_validated} "
        f"of {result.resources} (the rest unchanged since the last valid build)",
        *(
            [f"patched in place: the rows of {', '.join(result.patched) or 'no table'} changed; the rest as built last"]
            if result.patched is not None
            else []
        ),
        "time per stage (s):",
        *(f"  {stage:<18} {seconds:>7.2f}" for stage, seconds in result.timings.items()),
        f"wrote {out_dir / 'package'}/datapackage.json (valid), {out_dir / 'agingkb.db'}; "
        f"diagnostics in {out_dir / 'diagnostics.txt'}",
    ]
    return lines

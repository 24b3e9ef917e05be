"""The package stage of a build patched in place (etl/pipeline/patch.py),
its parts run side by side: on worker processes each changed table's
Parquet and NDJSON files and frictionless's verdicts (on the new rows, on
the descriptor and the changed files); on a thread the changed CSVs
deflated for the zip; here the database patched and its whole-table rules
asked. Every other file is the last build's, linked."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ..output.archive import ZIP_NAME, deflate_members, zip_package
from ..output.croissant import write_croissant
from ..output.descriptor import descriptor, resource_descriptors, write_descriptor
from ..output.row_changes import TableChange
from ..wiki.discover import load_sources
from .outputs import BuildError
from .patch_tables import link


def _parquet_file(package_dir: str, table):
    """One changed table's Parquet file, written whole; on a worker (its
    NDJSON file is spliced, _ndjson_file)."""
    from ..output.parquet import write_table_parquet

    return write_table_parquet(Path(package_dir), table, ndjson=False)


def _ndjson_file(package_dir: str, previous_dir: str, table, change: TableChange) -> float:
    """One changed table's NDJSON file, spliced; on a worker, beside its Parquet file."""
    from ..output.parquet import splice_ndjson

    return splice_ndjson(Path(package_dir), Path(previous_dir), table, change.start, len(change.old), change.new)


def _row_problems(tables: list[dict], changes: dict[str, TableChange]) -> list[str]:
    from ..output.edit_validation import row_problems

    return row_problems({"resources": tables}, changes)


def _file_problems(package_dir: str, files: list[str], described: list[str]) -> list[str]:
    from ..output.edit_validation import file_problems

    return file_problems(Path(package_dir), files, described)


class _Later:
    """Whether a pending row verdict found something, asked only when needed."""

    def __init__(self, pending):
        self.pending = pending

    def __bool__(self) -> bool:
        return bool(self.pending.get())


class _Inline:
    """A pool's apply_async, run at once in this process (one process allowed)."""

    class Done:
        def __init__(self, value):
            self.value = value

        def get(self):
            return self.value

    def apply_async(self, function, args):
        return self.Done(function(*args))


def _load_libraries() -> None:
    """A worker's first task: the libraries its tasks use, loaded while
    the build is still planning."""
    import frictionless  # noqa: F401
    import pyarrow.parquet  # noqa: F401


@contextmanager
def workers(processes: int):
    """The patch's worker processes, forked at once (before anything is
    read) so they load frictionless and pyarrow meanwhile; this process
    itself when one is allowed."""
    if processes <= 1:
        yield _Inline()
        return
    with multiprocessing.get_context("fork").Pool(processes, initializer=_load_libraries) as pool:
        yield pool


class PatchedPackage:
    def __init__(self, run, plan, changes: dict[str, TableChange], segment_ends: dict):
        self.run, self.plan, self.changes, self.segment_ends = run, plan, changes, segment_ends
        self.zip_segments = dict(plan.layout.zip_segments)  # this build's, once its zip is written
        self.package_dir, self.previous_dir = run.staging / "package", plan.previous / "package"
        self.timings = run.timings

    def make(self, pool):
        """(descriptor, rows per table, fingerprints, resources validated),
        the work shared with `pool` (see workers())."""
        with ThreadPoolExecutor(1) as deflater:
            reuse = (self.plan.previous / ZIP_NAME, self.previous_dir, self.plan.layout.zip_segments)
            changed = [self.package_dir / f"{name}.csv" for name in self.changes]
            deflating = deflater.submit(deflate_members, changed, self.run.staging, self.segment_ends, reuse)
            return self._stages(pool, deflating)

    def _stages(self, pool, deflating):
        run, plan, changes, schema = self.run, self.plan, self.changes, self.run.schema
        largest_first = sorted(changes, key=lambda name: -(self.package_dir / f"{name}.csv").stat().st_size)
        package_dir, previous_dir = str(self.package_dir), str(self.previous_dir)
        tables = resource_descriptors(schema, plan.layout.gap_tags)
        # The row verdict first: the database's verdict waits for it, the
        # Parquet files only for the descriptor.
        rows_checked = pool.apply_async(_row_problems, (tables, changes))
        typed = {name: pool.apply_async(_parquet_file, (package_dir, schema.tables[name])) for name in largest_first}
        counts, problems = self._database(rows_checked)
        parquet, parquet_seconds = self._parquet({name: task.get() for name, task in typed.items()})
        sources = load_sources(run.options.data_dir)
        package = descriptor(
            schema, sources, run.discovery.snapshot, plan.layout.gap_tags, run.options.data_dir, parquet
        )
        write_descriptor(self.package_dir, package)
        fingerprints, validated, described = self._fingerprints(package)
        files_checked = pool.apply_async(
            _file_problems, (str(self.package_dir), [n for n in validated if n not in changes], described)
        )
        # The NDJSON files, which neither the descriptor nor the zip names,
        # after every verdict (a worker takes the tasks in turn).
        ndjson = [
            pool.apply_async(_ndjson_file, (package_dir, previous_dir, schema.tables[name], changes[name]))
            for name in largest_first
        ]
        digests = {name: entry["bytes"] for name, entry in fingerprints["resources"].items()}
        write_croissant(self.package_dir, schema, package, digests)
        unchanged = self._unchanged_files(package, fingerprints)
        deflated = deflating.result()
        zip_package(self.package_dir, run.staging / ZIP_NAME, (plan.previous / ZIP_NAME, unchanged), deflated)
        for name, member in deflated.items():
            self.zip_segments.pop(name, None)
            if member.segments:
                self.zip_segments[name] = member.segments
        self._key_digests(fingerprints)  # while a worker checks the files
        problems = files_checked.get() or problems
        if problems:
            shown = "\n".join(problems[:50])
            raise BuildError(f"the data package is not valid ({len(problems)} problems); previous build kept\n{shown}")
        self.timings["parquet+ndjson cpu"] = parquet_seconds + sum(task.get() for task in ndjson)
        return package, counts, fingerprints, validated

    def _database(self, rows_checked):
        """The database patched, and the whole-table rules asked of it (as
        edit_validation.edit_verdict asks them, the row verdict on a worker)."""
        from ..output.edit_validation import foreign_key_problems, key_problems, load_for_judging

        previous, target = self.plan.previous / "agingkb.db", self.run.staging / "agingkb.db"
        problems = key_problems(previous, self.run.schema, self.changes)
        if problems:  # the database would refuse the rows: nothing to load
            return {}, problems + rows_checked.get()
        counts = load_for_judging(previous, target, self.run.schema, self.changes, _Later(rows_checked))
        if counts is None:
            return {}, rows_checked.get()
        tables = resource_descriptors(self.run.schema, self.plan.layout.gap_tags)
        return counts, rows_checked.get() + foreign_key_problems(target, {"resources": tables}, self.changes)

    def _parquet(self, written: dict):
        """Each table's Parquet file as the descriptor names it: the changed
        tables' as just written, the others' the last build's (linked, with
        their NDJSON files)."""
        from ..output.parquet import TypedFile

        old = {r["name"]: r for r in json.loads((self.previous_dir / "datapackage.json").read_text())["resources"]}
        typed = {name: files for name, (files, _) in written.items()}
        for name in self.run.schema.tables:
            if name not in typed:
                for suffix in ("parquet", "ndjson"):
                    link(self.previous_dir / f"{name}.{suffix}", self.package_dir / f"{name}.{suffix}")
                resource = old[f"{name}_parquet"]
                typed[name] = TypedFile(resource["path"], resource["bytes"], resource["hash"].removeprefix("sha256:"))
        return {name: typed[name] for name in self.run.schema.tables}, sum(seconds for _, seconds in written.values())

    def _fingerprints(self, package: dict):
        """validated.json's record of this build: the last build's for every
        resource whose file is the same, the others' taken afresh (their key
        digests once the database holds their rows); the names of those, and
        of the resources whose descriptors changed."""
        from ..output.fingerprints import resource_fingerprints

        changed = [r for r in package["resources"] if Path(r["path"]).stem in self.changes]
        fresh = resource_fingerprints({"resources": changed}, self.package_dir, {})
        old = self.plan.last_valid["resources"]
        resources = {}
        for resource in package["resources"]:
            name = resource["name"]
            resources[name] = fresh["resources"].get(name) or dict(old[name])
            if name not in fresh["resources"]:
                resources[name]["descriptor"] = hashlib.sha256(
                    json.dumps(resource, sort_keys=True).encode()
                ).hexdigest()
        fingerprints = {**fresh, "resources": resources, "code": self.plan.layout.code, "build": self.run.staging.name}
        described = [
            name for name, entry in resources.items() if old.get(name, {}).get("descriptor") != entry["descriptor"]
        ]
        return fingerprints, [r["name"] for r in changed], described

    def _key_digests(self, fingerprints: dict) -> None:
        """The key digest of each changed table, as the CSV writer takes it
        (every row's primary key in order): the last build's when the same
        keys stand in the same places, else read from the patched database."""
        import sqlite3

        connection = sqlite3.connect(f"file:{self.run.staging / 'agingkb.db'}?mode=ro", uri=True)
        try:
            for name, change in self.changes.items():
                table = self.run.schema.tables[name]
                positions = [table.column_names.index(k) for k in table.primary_key]
                if [[r[p] for p in positions] for r in change.old] == [[r[p] for p in positions] for r in change.new]:
                    fingerprints["resources"][name]["keys"] = self.plan.last_valid["resources"][name]["keys"]
                    continue
                keys = ", ".join(f"[{k}]" for k in table.primary_key)
                digest = hashlib.sha256()
                # A table without a key gives each row an empty one, as the writer does.
                for row in connection.execute(f"select {keys or 'null'} from [{name}] order by rowid"):
                    digest.update(("\x1f".join(str(v) for v in row) if keys else "").encode() + b"\x1e")
                fingerprints["resources"][name]["keys"] = digest.hexdigest()
        finally:
            connection.close()

    def _unchanged_files(self, package: dict, fingerprints: dict) -> set[str]:
        """The package's files that are the last build's, byte for byte."""
        old = self.plan.last_valid["resources"]
        return {
            r["path"]
            for r in package["resources"]
            if old.get(r["name"], {}).get("bytes") == fingerprints["resources"][r["name"]]["bytes"]
        }

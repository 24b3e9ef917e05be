"""Package stage: stream rows into one CSV per table, write
datapackage.json from the schema declaration, validate with frictionless.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sys
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..schema import Schema, Table
from ..wiki.discover import file_sha256

csv.field_size_limit(sys.maxsize)

ZIP_NAME = "datapackage.zip"  # beside the package directory, in a build and in a release


def serialise(value) -> str:
    """One CSV cell. Empty string is the only missing value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class TableText:
    """Rows of one table as its CSV holds them: their lines, how many there
    are, and their primary keys as the key digest reads them. A worker
    makes it for each page, so the build only writes text."""

    lines: str
    count: int
    keys: str


def table_text(table: Table, rows: list[dict]) -> TableText:
    names = table.column_names
    declared = set(names)
    key_positions = [names.index(key) for key in table.primary_key]
    cell_rows = []
    for row in rows:
        if row.keys() != declared:
            missing, extra = declared - set(row), set(row) - declared
            raise ValueError(
                f"{table.name} row does not match its declaration: missing {sorted(missing)}, extra {sorted(extra)}"
            )
        cell_rows.append(
            [value if value.__class__ is str else serialise(value) for value in map(row.__getitem__, names)]
        )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(cell_rows)
    keys = "".join("\x1f".join(cells[position] for position in key_positions) + "\x1e" for cells in cell_rows)
    return TableText(buffer.getvalue(), len(rows), keys)


def read_table_text(table: Table, text: TableText) -> list[dict[str, str]]:
    """The rows of a TableText as cells by column name."""
    return [dict(zip(table.column_names, cells)) for cells in csv.reader(io.StringIO(text.lines))]


ROWS_PER_WRITE = 2000


class CsvSink:
    """One open CSV file per table; rows are written as they arrive."""

    def __init__(self, directory: Path, schema: Schema):
        self.directory = directory
        self.schema = schema
        self.files = {}
        self.counts = {name: 0 for name in schema.tables}
        # A digest of each table's primary keys in order: what a foreign key
        # to the table may see (resources_to_validate).
        self.key_digests = {name: hashlib.sha256() for name in schema.tables}
        directory.mkdir(parents=True, exist_ok=True)
        for name, table in schema.tables.items():
            handle = open(directory / f"{name}.csv", "w", encoding="utf-8", newline="")
            csv.writer(handle, lineterminator="\n").writerow(table.column_names)
            self.files[name] = handle

    def write(self, table_name: str, rows: list[dict]) -> None:
        # In slices: a corpus table (works, authors at 10x the wiki) made
        # into text whole would hold a copy of itself for a moment.
        table = self.schema.tables[table_name]
        for start in range(0, len(rows), ROWS_PER_WRITE):
            self.write_text(table_name, table_text(table, rows[start : start + ROWS_PER_WRITE]))

    def write_text(self, table_name: str, text: TableText) -> None:
        self.files[table_name].write(text.lines)
        self.key_digests[table_name].update(text.keys.encode())
        self.counts[table_name] += text.count

    def flush(self) -> None:
        """Put what was written so far on disk, for a reader of the files."""
        for handle in self.files.values():
            handle.flush()

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def created_timestamp() -> str:
    """Build time, pinned by SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def vocabulary_values(schema: Schema, gap_tags: list[str]) -> dict[str, list]:
    v = schema.vocabularies
    return {
        "page_types": sorted(schema.page_types),
        "gap_tags": gap_tags,
        "study_designs": [d["design"] for d in v["study_designs"]],
        "status_values": [s["status"] for s in v["status_values"]],
        "status_dimensions": [d["dimension"] for d in v["status_dimensions"]],
        "identifier_schemes": [s["scheme"] for s in v["identifier_schemes"]],
    }


def descriptor(schema: Schema, sources: dict, snapshot: dict, gap_tags: list[str]) -> dict:
    upstream = sources["upstream"]
    vocab = vocabulary_values(schema, gap_tags)
    resources = []
    for name, table in schema.tables.items():
        resources.append(
            {
                "name": name,
                "type": "table",
                "path": f"{name}.csv",
                "scheme": "file",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "title": table.title,
                "description": table.description,
                "schema": table.frictionless(vocab),
            }
        )
    return {
        "name": "agingkb",
        "title": "agingkb: the aging wiki as a dataset",
        "description": (
            "The aging wiki (a knowledge base on the biology of human aging) flattened into tables: "
            "pages, frontmatter, identifiers, relations, links, sections, knowledge gaps, footnotes and "
            "cited works, evidence-grading tables and every other table. Every wiki-derived row carries "
            "its source path and line; source_files gives each source file's SHA-256 and snapshot."
        ),
        "version": snapshot["dataset_version"],
        "created": created_timestamp(),
        "homepage": upstream["repository"],
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
                "title": f"Creative Commons Attribution 4.0 International; wiki content © {upstream['author']}",
            }
        ],
        "sources": [
            {
                "title": f"aging wiki by {upstream['author']} (CC BY 4.0), snapshot {snapshot['snapshot']}",
                "path": upstream["repository"],
                "version": snapshot["git_commit"] or snapshot["upstream_commit"] or snapshot["snapshot"],
            }
        ],
        "contributors": [
            {"title": upstream["author"], "role": "author"},
            {"title": "agingkb", "role": "publisher"},
        ],
        "keywords": ["aging", "gerontology", "knowledge base", "citations", "knowledge gaps"],
        "resources": resources,
    }


def write_descriptor(directory: Path, package: dict) -> Path:
    path = directory / "datapackage.json"
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# Deflate level of the zip: level 4 compresses the package in half the
# time of the default 6 (0.9 against 1.8 s of CPU) for an archive 5% larger
# (20.8 against 19.9 MB); levels 1-3 are faster still but 11-20% larger.
ZIP_LEVEL = 4


def zip_package(package_dir: Path, target: Path) -> None:
    """The data package as a zip with fixed timestamps, permissions and
    order, so one package gives one archive, byte for byte."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(package_dir.iterdir()):
            info = zipfile.ZipInfo(path.name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info._compresslevel = ZIP_LEVEL  # open(info, "w") does not take the archive's level
            info.create_system = 3  # Unix, wherever the build runs
            info.external_attr = 0o644 << 16
            with open(path, "rb") as source, archive.open(info, "w") as entry:
                shutil.copyfileobj(source, entry, 1 << 20)


def resource_fingerprints(descriptor: dict, directory: Path, key_digests: dict[str, str]) -> dict:
    """Per resource, what frictionless's verdict on it depends on: its bytes,
    its descriptor and, through its foreign keys, the primary keys of the
    resources it points to (whose digests the CSV writer kept)."""
    from importlib.metadata import version

    resources = {}
    for resource in descriptor["resources"]:
        resources[resource["name"]] = {
            "bytes": file_sha256(directory / resource["path"]),
            "descriptor": hashlib.sha256(json.dumps(resource, sort_keys=True).encode()).hexdigest(),
            "keys": key_digests.get(resource["name"], ""),
        }
    return {"frictionless": version("frictionless"), "resources": resources}


def changed_resources(previous: dict, current: dict) -> set[str]:
    """Resources whose bytes or descriptor differ from the previous build's."""
    old = previous.get("resources", {})
    return {
        name
        for name, now in current["resources"].items()
        if name not in old or (old[name].get("bytes"), old[name].get("descriptor")) != (now["bytes"], now["descriptor"])
    }


def resources_to_validate(descriptor: dict, current: dict, previous: dict | None) -> list[str]:
    """The resources whose verdict may differ from the last valid build's.
    All of them unless the same frictionless validated that build; else each
    resource whose bytes or descriptor changed, or with a foreign key to a
    resource whose descriptor or primary keys changed. A resource left out
    would get the verdict it got then: valid."""
    names = [resource["name"] for resource in descriptor["resources"]]
    if not previous or previous.get("frictionless") != current["frictionless"]:
        return names
    old, new = previous.get("resources", {}), current["resources"]

    def same(name: str, *parts: str) -> bool:
        return name in old and name in new and all(old[name].get(part) == new[name][part] for part in parts)

    changed = []
    for resource in descriptor["resources"]:
        name = resource["name"]
        targets = {fk["reference"]["resource"] or name for fk in resource["schema"].get("foreignKeys", [])}
        if not same(name, "bytes", "descriptor") or not all(same(target, "descriptor", "keys") for target in targets):
            changed.append(name)
    return changed


# Per validation worker: the package it validates and the key sets its
# foreign keys point to, kept from one resource to the next.
_VALIDATOR: dict = {}


def _resource_reports(path: str, names: list[str]) -> list[dict]:
    """Validate some of a package's resources, each exactly as
    Package.validate() validates it (with the package, so foreign keys are
    checked against the other resources); runs in a worker process."""
    from frictionless import Checklist, Package

    stamp = (path, os.stat(path).st_mtime_ns)
    if _VALIDATOR.get("stamp") != stamp:
        _VALIDATOR.clear()
        _VALIDATOR.update(stamp=stamp, package=Package(path), built={})
    with _foreign_keys_read_once(_VALIDATOR["built"]):
        return [
            _VALIDATOR["package"].get_resource(name).validate(checklist=Checklist()).to_descriptor() for name in names
        ]


@contextmanager
def _foreign_keys_read_once(built: dict[tuple[str, tuple], set]):
    """Frictionless builds the set of keys a foreign key may point to anew
    for every resource it validates: pages.csv (19 MB, mostly bodies) was
    read and cast once for each of the 36 foreign keys to pages, 7 s of CPU.
    Meanwhile each (resource, fields) set is built on its first use and
    kept in `built` for the next resource that points there. The package
    does not change during validation; the checks themselves stay
    frictionless's."""
    from frictionless.resources.table import TableResource

    original = TableResource._TableResource__open_lookup

    def open_lookup(self):
        def source(fk):
            return fk["reference"]["resource"] or self.name, tuple(fk["reference"]["fields"])

        every = self.schema.foreign_keys
        self.schema.foreign_keys = [fk for fk in every if source(fk) not in built]
        try:
            original(self)  # reads only the sources not read yet
        finally:
            self.schema.foreign_keys = every
        lookup = self._TableResource__lookup
        for fk in every:
            name, fields = source(fk)
            as_named = lookup.setdefault(fk["reference"]["resource"], {})
            if (name, fields) in built:
                as_named[fields] = built[name, fields]
            else:
                built[name, fields] = as_named[fields]

    TableResource._TableResource__open_lookup = open_lookup
    try:
        yield
    finally:
        TableResource._TableResource__open_lookup = original


def validation_cost(descriptor: dict, directory: Path) -> dict[str, float]:
    """A resource's validation cost: its own bytes plus the bytes of every
    resource its foreign keys make frictionless read."""
    sizes = {r["name"]: (directory / r["path"]).stat().st_size for r in descriptor["resources"]}
    return {
        r["name"]: sizes[r["name"]]
        + sum(sizes[fk["reference"]["resource"] or r["name"]] for fk in r["schema"].get("foreignKeys", []))
        for r in descriptor["resources"]
    }


class PackageValidation:
    """Frictionless validation of a written package on worker processes,
    started now and awaited with result(), so the SQLite load can run
    meanwhile. The verdict is Package.validate()'s: the descriptor is
    checked (on a worker too), then every resource (or each one in `only`)
    is validated with the same call, and the reports are combined as
    frictionless combines them."""

    def __init__(self, path: Path, jobs: int, only: list[str] | None = None, workers=None):
        self.path = str(path)
        descriptor = json.loads(Path(path).read_text(encoding="utf-8"))
        costs = validation_cost(descriptor, Path(path).parent)
        if only is not None:  # the others were validated, unchanged, by the last build
            costs = {name: cost for name, cost in costs.items() if name in set(only)}
        self.owns_pool = workers is None
        self.pool = workers or validation_workers(max(1, min(jobs, len(costs))))
        self.descriptor_errors = self.pool.apply_async(_descriptor_errors, (self.path,))
        # One task per resource, the costliest first: each worker takes the
        # next as it finishes one, so the workers finish together.
        pending = {
            name: self.pool.apply_async(_resource_reports, (self.path, [name]))
            for name in sorted(costs, key=lambda n: (-costs[n], n))
        }
        self.pending = [pending[r["name"]] for r in descriptor["resources"] if r["name"] in pending]

    def result(self) -> list[str]:
        """Flat error lines; empty when the package is valid."""
        from frictionless import Report

        try:
            errors = self.descriptor_errors.get()
            if errors:  # as Package.validate(): a descriptor that is not valid is the whole verdict
                return errors
            descriptors = [report for pending in self.pending for report in pending.get()]
        finally:
            if self.owns_pool:
                self.pool.terminate()
                self.pool.join()
        if not descriptors:
            return []
        report = Report.from_validation_reports(time=0, reports=[Report.from_descriptor(d) for d in descriptors])
        return _problems(report)

    def cancel(self) -> None:
        self.pool.terminate()
        self.pool.join()


def _descriptor_errors(path: str) -> list[str]:
    """What frictionless finds wrong with the package descriptor itself."""
    from frictionless import FrictionlessException, Package

    try:
        Package(path).to_descriptor(validate=True)
    except FrictionlessException as exception:
        return [f"package: {error.type}: {error.note}" for error in exception.to_errors()]
    return []


def validation_workers(jobs: int):
    """A pool of `jobs` processes for PackageValidation. A build makes it
    as soon as its parsers have started: a process forked later carries a
    copy of everything the build then holds (at 4x the wiki, 60 MB more per
    worker)."""
    import multiprocessing

    import frictionless  # noqa: F401 - imported once here, inherited by the workers

    return multiprocessing.get_context("fork").Pool(max(1, jobs))


def validate_package(path: Path, jobs: int = 1) -> list[str]:
    """Validate with the frictionless library (the same verdict as
    `frictionless validate datapackage.json`); returns flat error lines."""
    if jobs > 1:
        return PackageValidation(path, jobs).result()
    from frictionless import validate

    return _problems(validate(str(path)))


def _problems(report) -> list[str]:
    if report.valid:
        return []
    problems = []
    for task in report.tasks:
        for error in task.errors:
            row = getattr(error, "row_number", None)
            field = getattr(error, "field_name", None)
            where = f"{task.name}" + (f" row {row}" if row else "") + (f" field {field}" if field else "")
            problems.append(f"{where}: {error.type}: {error.note}")
    for error in report.errors:
        problems.append(f"package: {error.type}: {error.note}")
    return problems

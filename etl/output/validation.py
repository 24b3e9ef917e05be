"""Frictionless validation of a written package: the verdict of
`frictionless validate datapackage.json`, reached on a pool of worker
processes (PackageValidation) or in this one (validate_package).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .frictionless_patch import declared_csv_dialect_not_sniffed, foreign_key_lookups_shared, patches_fit

# Per validation worker: the package it validates and the key sets its
# foreign keys point to, kept from one resource to the next.
_VALIDATOR: dict = {}


def resource_reports(path: str, names: list[str]) -> list[dict]:
    """Validate some of a package's resources, each exactly as
    Package.validate() validates it (with the package, so foreign keys are
    checked against the other resources); runs in a worker process."""
    from frictionless import Checklist, Package

    stamp = (path, os.stat(path).st_mtime_ns)
    if _VALIDATOR.get("stamp") != stamp:
        _VALIDATOR.clear()
        _VALIDATOR.update(stamp=stamp, package=Package(path), built={})
    with foreign_key_lookups_shared(_VALIDATOR["built"]), declared_csv_dialect_not_sniffed():
        return [
            _VALIDATOR["package"].get_resource(name).validate(checklist=Checklist()).to_descriptor() for name in names
        ]


def validation_cost(descriptor: dict, directory: Path) -> dict[str, float]:
    """A resource's validation cost: its own bytes plus the bytes of every
    resource its foreign keys make frictionless read."""
    sizes = {r["name"]: (directory / r["path"]).stat().st_size for r in descriptor["resources"]}
    return {
        r["name"]: sizes[r["name"]]
        + sum(sizes[fk["reference"]["resource"] or r["name"]] for fk in r.get("schema", {}).get("foreignKeys", []))
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
            name: self.pool.apply_async(resource_reports, (self.path, [name]))
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
    before it reads the wiki: a process forked later carries a copy of
    everything the build then holds (at 100x the wiki, 175 MB against 60)."""
    import multiprocessing

    import frictionless  # noqa: F401 - imported once here, inherited by the workers

    patches_fit()  # asked (and any warning given) once, before the fork
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

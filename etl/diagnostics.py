"""Diagnostics: one problem at one place, with a stable code from the
catalogue in data/errors.yml.

A diagnostic is labelled with its severity where it is found, from the
project's own catalogue (every code is emitted by this code and declared
beside it). A build or check whose BuildOptions name another data
directory reads that directory's errors.yml through its schema: what
collects the diagnostics relabels them with it (`relabelled`), and that
catalogue decides what blocks a build and where the year range lies."""

from __future__ import annotations

import heapq
import os
import pickle
import tempfile
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path

from .schema import DATA_DIR, load_yaml


@cache
def catalogue(data_dir: Path = DATA_DIR) -> dict[str, dict]:
    entries = load_yaml(Path(data_dir) / "errors.yml")["codes"]
    return {entry["code"]: entry for entry in entries}


def relabelled(diagnostics: list[Diagnostic], codes: dict[str, dict]) -> list[Diagnostic]:
    """The diagnostics with the severities of `codes` (a schema's catalogue);
    the same list when those are the project's own."""
    own = catalogue()
    if all(codes.get(code, entry)["severity"] == entry["severity"] for code, entry in own.items()):
        return diagnostics
    return [
        d if codes[d.code]["severity"] == d.severity else replace(d, severity=codes[d.code]["severity"])
        for d in diagnostics
    ]


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int
    severity: str  # error | warning
    code: str
    message: str
    column: int | None = None

    def format(self) -> str:
        where = f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.severity}: {self.message} [{self.code}]"

    def as_dict(self) -> dict:
        return asdict(self)

    def as_tuple(self) -> tuple:
        """The fields in order (dataclasses.astuple, without its deep copy of each)."""
        return (self.path, self.line, self.severity, self.code, self.message, self.column)


def diagnose(path: str, line: int, code: str, message: str, column: int | None = None) -> Diagnostic:
    """A diagnostic whose severity comes from the catalogue."""
    entry = catalogue().get(code)
    if entry is None:
        raise KeyError(f"diagnostic code {code} is not in data/errors.yml")
    return Diagnostic(path, max(1, line), entry["severity"], code, message, column)


def sort_key(diagnostic: Diagnostic) -> tuple:
    return diagnostic.path, diagnostic.line, diagnostic.code, diagnostic.message


class DiagnosticLog:
    """A build's diagnostics, in diagnostics.txt order. Those of pages go
    to a temporary file as they arrive (at 10x the wiki they were a third
    of what the build held); corpus-level ones, few, stay in memory.
    Iterating merges the two, reading the file again each time. `codes`
    (the build's schema's catalogue) labels their severity and says which
    block the build."""

    def __init__(self, codes: dict[str, dict]):
        self._file = tempfile.TemporaryFile()
        self._later: list[Diagnostic] = []
        self._last_key: tuple | None = None
        self._in_order = True  # pages arrive in path order, so the file is sorted
        self.blocking: list[Diagnostic] = []
        self._codes = codes
        self._blocks = {code for code, entry in codes.items() if entry.get("blocks")}.__contains__

    def add_page(self, diagnostics: list[Diagnostic]) -> None:
        if not diagnostics:
            return
        ordered = sorted(relabelled(diagnostics, self._codes), key=sort_key)
        if self._last_key is not None and sort_key(ordered[0]) < self._last_key:
            self._in_order = False
        self._last_key = sort_key(ordered[-1])
        self._file.seek(0, os.SEEK_END)  # a reader may have moved the shared offset
        pickle.dump([d.as_tuple() for d in ordered], self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.blocking += [d for d in ordered if self._blocks(d.code)]

    def extend(self, diagnostics: list[Diagnostic]) -> None:
        diagnostics = relabelled(diagnostics, self._codes)
        self._later += diagnostics
        self.blocking += [d for d in diagnostics if self._blocks(d.code)]

    def _from_pages(self):
        self._file.flush()
        with open(os.dup(self._file.fileno()), "rb") as reader:
            reader.seek(0)
            while True:
                try:
                    batch = pickle.load(reader)
                except EOFError:
                    return
                yield from (Diagnostic(*values) for values in batch)

    def __iter__(self):
        later = sorted(self._later, key=sort_key)
        if self._in_order:
            return heapq.merge(self._from_pages(), later, key=sort_key)
        return iter(sorted([*self._from_pages(), *later], key=sort_key))

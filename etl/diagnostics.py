"""Diagnostics: one problem at one place, with a stable code from the
catalogue in data/errors.yml."""

from __future__ import annotations

import heapq
import os
import pickle
import tempfile
from dataclasses import asdict, astuple, dataclass
from functools import cache

from .schema import DATA_DIR, load_yaml


@cache
def catalogue() -> dict[str, dict]:
    entries = load_yaml(DATA_DIR / "errors.yml")["codes"]
    return {entry["code"]: entry for entry in entries}


def blocking_codes() -> set[str]:
    return {code for code, entry in catalogue().items() if entry.get("blocks")}


def year_bounds() -> tuple[int, int]:
    """(first, last): the years a typed year field or a cited work's year
    may have, from the year-range entry of data/errors.yml (fixed there, not
    read from the clock, so a build does not depend on the day it runs)."""
    years = catalogue()["year-range"]["years"]
    return years["first"], years["last"]


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
    Iterating merges the two, reading the file again each time."""

    def __init__(self):
        self._file = tempfile.TemporaryFile()
        self._later: list[Diagnostic] = []
        self._last_key: tuple | None = None
        self._in_order = True  # pages arrive in path order, so the file is sorted
        self.blocking: list[Diagnostic] = []
        codes = blocking_codes()
        self._blocks = codes.__contains__

    def add_page(self, diagnostics: list[Diagnostic]) -> None:
        if not diagnostics:
            return
        ordered = sorted(diagnostics, key=sort_key)
        if self._last_key is not None and sort_key(ordered[0]) < self._last_key:
            self._in_order = False
        self._last_key = sort_key(ordered[-1])
        self._file.seek(0, os.SEEK_END)  # a reader may have moved the shared offset
        pickle.dump([astuple(d) for d in ordered], self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.blocking += [d for d in ordered if self._blocks(d.code)]

    def extend(self, diagnostics: list[Diagnostic]) -> None:
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

    def close(self) -> None:
        self._file.close()

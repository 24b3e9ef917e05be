"""Diagnostics: one problem at one place, with a stable code from the
catalogue in data/errors.yml."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

from .schema import DATA_DIR, load_yaml


@lru_cache(maxsize=None)
def catalogue() -> dict[str, dict]:
    entries = load_yaml(DATA_DIR / "errors.yml")["codes"]
    return {entry["code"]: entry for entry in entries}


def blocking_codes() -> set[str]:
    return {code for code, entry in catalogue().items() if entry.get("blocks")}


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

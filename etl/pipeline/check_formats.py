"""`etl check --format github` and `--format sarif`: the diagnostics as
GitHub Actions annotations and as a SARIF 2.1.0 log, for a wiki's CI.

Paths are as `location` gives them (the CLI makes them relative to the
directory it runs in, the root of the checkout in a workflow)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import zip_longest
from urllib.parse import quote

from ..diagnostics import Diagnostic
from .check import counts_by_code, summary_lines

# GitHub shows 10 annotations of each type (error, warning, notice) per step
# and 50 per job; the rest are dropped silently. So errors come first, each
# code gets at most this many, and one more annotation counts the rest.
ANNOTATIONS_PER_CODE = 3
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def escape_data(text: str) -> str:
    """A workflow command's message: '%', CR and LF percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ':' and ',', which end it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(severity: str, message: str, **properties) -> str:
    fields = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value)
    return f"::{severity} {fields}::{escape_data(message)}"


def annotations(diagnostics: list[Diagnostic], location: Callable[[Diagnostic], str]) -> list[str]:
    """One annotation per diagnostic, errors before warnings. Within a
    severity the codes take turns (every code's first problem, then every
    code's second, ...), so the first ten shown name ten codes; a code with
    more than ANNOTATIONS_PER_CODE problems ends with one annotation, on no
    file, that counts the ones not annotated."""
    out = []
    for severity in ("error", "warning"):
        turns = []
        for _, code, count in counts_by_code([d for d in diagnostics if d.severity == severity]):
            of_code = [d for d in diagnostics if d.code == code and d.severity == severity]
            lines = [
                annotation(severity, d.message, file=location(d), line=d.line, col=d.column, title=code)
                for d in of_code[:ANNOTATIONS_PER_CODE]
            ]
            if count > ANNOTATIONS_PER_CODE:
                rest = count - ANNOTATIONS_PER_CODE
                more = f"{rest} more {code} {severity}s are not annotated; the log lists them all"
                lines.append(annotation(severity, f"{more} (etl check --select {code})", title=f"{code} (+{rest})"))
            turns.append(lines)
        out += [line for turn in zip_longest(*turns) for line in turn if line is not None]
    return out


def github_lines(
    diagnostics: list[Diagnostic], hidden: list[Diagnostic], filters: str, location: Callable[[Diagnostic], str]
) -> list[str]:
    """What `etl check --format github` prints, all to standard output so the
    log keeps its order: the count per code, the annotations, then every
    problem as a plain line in a folded group (annotations past GitHub's
    limit are dropped; the log keeps them all)."""
    lines = summary_lines(diagnostics, hidden, filters)
    lines += annotations(diagnostics, location)
    if diagnostics:
        lines.append(f"::group::{escape_data(f'every problem ({len(diagnostics)})')}")
        lines += [f"{location(d)}:{d.line}: {d.severity}: {d.message} [{d.code}]" for d in diagnostics]
        lines.append("::endgroup::")
    return lines


def sarif_log(
    diagnostics: list[Diagnostic], codes: dict[str, dict], version: str, location: Callable[[Diagnostic], str]
) -> dict:
    """A SARIF 2.1.0 log of one run: the catalogue as the driver's rules,
    one result per diagnostic at its file (a URI relative to the checkout)
    and line."""
    index = {code: number for number, code in enumerate(codes)}
    rules = [
        {
            "id": code,
            "shortDescription": {"text": entry["means"]},
            "help": {"text": entry["fix"]},
            "defaultConfiguration": {"level": entry["severity"]},
            "properties": {"group": entry.get("group", ""), "blocks": bool(entry.get("blocks"))},
        }
        for code, entry in codes.items()
    ]
    results = []
    for d in diagnostics:
        region = {"startLine": d.line} | ({"startColumn": d.column} if d.column else {})
        where = {"artifactLocation": {"uri": quote(location(d))}, "region": region}
        results.append(
            {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": "error" if d.severity == "error" else "warning",
                "message": {"text": d.message},
                "locations": [{"physicalLocation": where}],
            }
        )
    driver = {"name": "agingkb etl check", "version": version, "rules": rules}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}

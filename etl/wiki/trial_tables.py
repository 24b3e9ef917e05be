"""Trial tables as the wiki writes them: which tables list trials (by
their headers), and the facts and outcomes one row, or one key-value
table, gives. Pure, like etl/wiki/trials.py, whose readers it uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numbers import CI_LOOKS, NUMBER, P_LOOKS, parse_number
from .syntax import FOOTNOTE_REF, REGISTRY_ID
from .trial_names import loose_name
from .trial_outcomes import METRICS, Outcome, measure_of, read_outcome, read_outcomes
from .trials import (
    ACRONYM,
    EMPTY_CELL,
    NOT_RANDOMISED,
    RANDOMISED,
    Facts,
    clipped,
    design_facts,
    find_arms,
    find_dose,
    find_duration,
    find_phase,
    find_registry_status,
    intervention_facts,
    parse_count,
    phase_cell,
    unmarked,
)

# Header wording -> meaning; first match wins, so specific wording comes first.
HEADER_MEANINGS = [
    (
        re.compile(
            r"^(?:nct(?:\s*id| number|/registration)?|registration|registry(?: id)?|trial regist(?:ry|ration)"
            r"|clinicaltrials\.gov(?: id)?)$"
        ),
        "registry_id",
    ),
    (
        re.compile(
            r"^(?:trial|trial / study|trial/study|study|study / trial|trial name|title|title \(brief\)"
            r"|title / condition)$"
        ),
        "title",
    ),
    (re.compile(r"^phase\b"), "phase"),
    (re.compile(r"^(?:registry )?status\b"), "registry_status"),
    (re.compile(r"^(?:conditions?|indication|disease)$"), "condition"),
    (re.compile(r"^(?:population|setting|participants|cohort|patients)$"), "population"),
    (re.compile(r"^(?:n|n \(approx\.?\)|sample size|subjects|total n|enrol?ment|participants \(n\))$"), "n_randomised"),
    (re.compile(r"\bdose\b|\bdosing\b|\bregimen\b|^concentration$"), "dose"),
    (re.compile(r"^(?:duration|follow-up|treatment duration)$"), "duration"),
    (re.compile(r"^(?:intervention|agents?|agent\(s\)|drug|compound|statin|treatment|arms?)$"), "intervention"),
    (re.compile(r"^(?:design|trial type|study design)$"), "design"),
    (re.compile(r"^primary (?:outcome|endpoint|end-point)s?$"), "primary_measure"),
    (re.compile(r"^(?:endpoint|outcome measure|key endpoint|secondary (?:outcome|endpoint)s?|measure)$"), "measure"),
    (re.compile(r"p-?value|^p$"), "p_value"),
    (re.compile(r"95% ci|confidence interval"), "ci"),
    (re.compile(r"result|finding|effect|^outcomes?$|conclusion|change"), "result"),
    (re.compile(r"^doi$"), "doi"),
]
ESTIMATE_WITH_CI = re.compile(
    rf"^\s*(?P<estimate>{NUMBER})\s*\(\s*(?P<range>{NUMBER}\s*(?:to|[–—,]|-)\s*{NUMBER})\s*\)\s*$"
)
KEY_VALUE_HEADERS = {"parameter", "field", "feature", "attribute", "item", "property", "characteristic"}


def header_meaning(header: str) -> str | None:
    text = unmarked(header).lower().strip(" *_:")
    text = re.sub(r"\s*\((?:as of|n =)[^)]*\)\s*$", "", text)
    for pattern, meaning in HEADER_MEANINGS:
        if pattern.search(text):
            return meaning
    return None


def is_key_value_table(header: list[str]) -> bool:
    return len(header) == 2 and unmarked(header[0]).lower().strip(" *_") in KEY_VALUE_HEADERS


def is_trial_table(header: list[str], rows: list[list[str]]) -> bool:
    """A table listing trials: one with a registry column, one whose first
    column names trials, or a 'Study' table with a design or size column
    (its rows count only when they are randomised)."""
    return trial_table_kind(header, rows) is not None


def trial_table_kind(header: list[str], rows: list[list[str]]) -> str | None:
    """'trials' when every row is a trial; 'randomised-rows' for a 'Study'
    table whose randomised rows are trials; 'registered-rows' for another
    table whose rows naming an NCT id are trials; None otherwise."""
    meanings = [header_meaning(h) for h in header]
    first = unmarked(header[0]).lower().strip(" *_") if header else ""
    if "registry_id" in meanings or first.startswith("trial"):
        return "trials"
    if first.startswith("study") and ("design" in meanings or "n_randomised" in meanings):
        return "randomised-rows"
    if any(REGISTRY_ID.search(" ".join(row)) for row in rows) and len(header) > 2 and first not in KEY_VALUE_HEADERS:
        return "registered-rows"
    return None


@dataclass
class TableRowReading:
    facts: Facts
    outcomes: list[Outcome]
    registry_ids: list[str]
    doi: str | None
    unmapped: dict
    randomised_evidence: bool


@dataclass
class _Row:
    """What the cells of one trial-table row have said so far."""

    facts: Facts = field(default_factory=Facts)
    unmapped: dict[str, str] = field(default_factory=dict)
    registry_ids: list[str] = field(default_factory=list)
    doi: str | None = None
    measure: str | None = None
    measure_role: str | None = None
    results: list[str] = field(default_factory=list)
    p_cells: list[str] = field(default_factory=list)
    ci_cells: list[str] = field(default_factory=list)


def read_table_row(header: list[str], cells: list[str]) -> TableRowReading:
    """Map a trial-table row by what its headers mean."""
    row = _Row()
    for name, cell in zip(header, cells):
        meaning = header_meaning(name)
        text = unmarked(cell)
        row.registry_ids += [i for i in REGISTRY_ID.findall(cell) if i not in row.registry_ids]
        if EMPTY_CELL.match(text):
            continue
        CELL_READERS.get(meaning, _read_unmapped)(row, name, cell, text)
    row_text = " ".join(cells)
    evidence = bool(RANDOMISED.search(row_text)) and not NOT_RANDOMISED.search(row_text)
    return TableRowReading(
        row.facts, _row_outcomes(row), row.registry_ids, row.doi, row.unmapped, evidence or bool(row.registry_ids)
    )


def _row_outcomes(row: _Row) -> list[Outcome]:
    """The row's outcomes: several read from one results cell, else one
    from the measure, results, interval and p-value cells together."""
    facts, measure, results = row.facts, row.measure, row.results
    outcomes: list[Outcome] = []
    if measure is None and len(results) == 1 and not (row.ci_cells or row.p_cells):
        found, problems = read_outcomes(results[0])  # 'A SMD=0.29 (p=0.05); B SMD=0.27 (p=0.03)'
        if len(found) > 1:
            facts.problems += problems
            outcomes, results = found, []
    if not outcomes and (measure or results or row.p_cells):
        clause = "; ".join(results + row.ci_cells + row.p_cells)
        outcome, problems = read_outcome(clause, role=row.measure_role, measure=measure) if clause else (None, [])
        facts.problems += problems
        if outcome is None and measure:  # a declared endpoint without results
            outcome = Outcome(measure=measure, text=measure, role=row.measure_role)
        if outcome:
            if not measure:
                outcome.measure = (measure_of(results[0]) if results else "") or outcome.measure
            outcomes.append(outcome)
    return outcomes


# One reader per header meaning: (row, header, raw cell, cell without markup).


def _read_unmapped(row: _Row, name: str, cell: str, text: str) -> None:
    row.unmapped[name] = cell


def _read_registry_id(row: _Row, name: str, cell: str, text: str) -> None:
    if not REGISTRY_ID.search(cell):
        row.unmapped[name] = cell


def _read_title(row: _Row, name: str, cell: str, text: str) -> None:
    text = FOOTNOTE_REF.sub("", text).strip()  # 'HPS [^hps2002]' names HPS
    name_first = re.fullmatch(
        rf"(?:the\s+)?({ACRONYM})(?:\s+(?:trial|study|pilot|RCT))?(?:\s*\([^()]*\)|\s+[—–]\s.*)?", text
    )  # 'COSMOS (Sesso 2022)', 'TROFFi — physical function in survivors'
    if match := name_first:
        row.facts.set("acronym", match.group(1))
    else:  # 'STEP-HFpEF', 'TROFFi — physical function ...': a name in mixed case
        row.facts.set("acronym", loose_name(re.split(r"\s+[—–(]|\s*\(", text, maxsplit=1)[0]))
    row.facts.set("title", text)


def _read_phase(row: _Row, name: str, cell: str, text: str) -> None:
    phase = phase_cell(text) or find_phase(text)
    if phase:
        row.facts.set("phase", phase)
    else:
        row.unmapped[name] = cell


def _read_registry_status(row: _Row, name: str, cell: str, text: str) -> None:
    status = find_registry_status(text)
    if status:
        row.facts.set("registry_status", status[0])
        row.facts.set("registry_status_text", text)
    if not status or len(text) > len(status[1]) + 20:
        row.results.append(text)  # 'Status / key results' cells carry results too


def _read_n_randomised(row: _Row, name: str, cell: str, text: str) -> None:
    facts = row.facts
    count, read = parse_count(text)
    if count is not None:
        facts.set("n_randomised", count)
        facts.set("n_raw", text)
        arms, completed = find_arms(text)
        facts.arms = facts.arms or arms
        facts.set("n_completed", completed)
    elif not read:
        facts.problems.append(f"sample size not read: '{clipped(text)}' in column '{name}'")


def _read_dose(row: _Row, name: str, cell: str, text: str) -> None:
    dose = find_dose(text)
    if dose:
        for key in ("value", "unit", "frequency", "route", "raw"):
            row.facts.set(f"dose_{key}", getattr(dose, key))
    else:
        row.facts.set("dose_raw", text)
    if duration := find_duration(text):
        row.facts.set("duration_weeks", duration[0])
        row.facts.set("duration_raw", duration[1])


def _read_duration(row: _Row, name: str, cell: str, text: str) -> None:
    duration = find_duration(text)
    if duration:
        row.facts.set("duration_weeks", duration[0])
    row.facts.set("duration_raw", text)


def _read_design(row: _Row, name: str, cell: str, text: str) -> None:
    row.facts.merge(design_facts(text))
    row.facts.set("design_text", text)


def _read_measure(row: _Row, name: str, cell: str, text: str) -> None:
    row.measure = text
    row.measure_role = "secondary" if "secondary" in name.lower() else None


def _read_primary_measure(row: _Row, name: str, cell: str, text: str) -> None:
    row.measure, row.measure_role = text, "primary"


def _read_p_value(row: _Row, name: str, cell: str, text: str) -> None:
    if P_LOOKS.search(text) or re.search(r"\bns\b|n\.s\.", text, re.I):
        row.p_cells.append(text)
    elif re.match(r"^\s*(?:[<>≤≥=]|&lt;|&gt;)", text):
        row.p_cells.append("P" + text.strip())
    else:
        row.p_cells.append(f"P={text}" if parse_number(text) is not None else text)


def _read_ci(row: _Row, name: str, cell: str, text: str) -> None:
    estimate = ESTIMATE_WITH_CI.match(text)
    level = level_match.group(1) if (level_match := re.search(r"(\d{2})\s*%", name)) else 95
    if estimate:  # 'HR (95% CI)' column: '0.46 (0.40–0.53)'
        metric = re.match(rf"^\s*({METRICS})\b", unmarked(name))
        prefix = metric.group(1) + " " if metric else ""
        row.results.append(f"{prefix}{estimate.group('estimate')} ({level}% CI {estimate.group('range')})")
    else:
        row.ci_cells.append(text if CI_LOOKS.search(text) else f"{level}% CI {text}")


def _read_result(row: _Row, name: str, cell: str, text: str) -> None:
    row.results.append(text)


def _read_doi(row: _Row, name: str, cell: str, text: str) -> None:
    row.doi = text.removeprefix("doi:").strip()


def _fact(column: str):
    def read(row: _Row, name: str, cell: str, text: str) -> None:
        row.facts.set(column, text)

    return read


def _read_intervention(row: _Row, name: str, cell: str, text: str) -> None:
    # 'Simvastatin 40 mg vs placebo': the drug, its dose and its comparator.
    row.facts.merge(intervention_facts(text))
    row.facts.set("intervention", text)


CELL_READERS = {
    "registry_id": _read_registry_id,
    "title": _read_title,
    "phase": _read_phase,
    "registry_status": _read_registry_status,
    "condition": _fact("condition"),
    "population": _fact("population"),
    "n_randomised": _read_n_randomised,
    "dose": _read_dose,
    "duration": _read_duration,
    "intervention": _read_intervention,
    "design": _read_design,
    "primary_measure": _read_primary_measure,
    "measure": _read_measure,
    "p_value": _read_p_value,
    "ci": _read_ci,
    "result": _read_result,
    "doi": _read_doi,
}


def read_key_value_table(rows: list[list[str]]) -> tuple[Facts, list[Outcome], list[str]]:
    """A 'Parameter | Detail' table on a study page, read key by key as if
    each key were a trial-table header."""
    header = [row[0] for row in rows if row]
    cells = [row[1] if len(row) > 1 else "" for row in rows if row]
    reading = read_table_row(header, cells)
    for key, cell in zip(header, cells):
        key_text = unmarked(key).lower()
        if "total n" in key_text or key_text in ("n", "sample size", "participants", "enrolment", "enrollment"):
            arms, completed = find_arms(unmarked(cell))
            reading.facts.arms = reading.facts.arms or arms
            reading.facts.set("n_completed", completed)
    return reading.facts, reading.outcomes, reading.registry_ids

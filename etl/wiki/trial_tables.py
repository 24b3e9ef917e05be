"""Trial tables as the wiki writes them: which tables list trials (by
their headers), and the facts and outcomes one row, or one key-value
table, gives. Pure, like etl/wiki/trials.py, whose readers it uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numbers import NUMBER, parse_number
from .syntax import REGISTRY_ID
from .trials import (
    ACRONYM,
    CI_LOOKS,
    EMPTY_CELL,
    METRICS,
    NOT_RANDOMISED,
    P_LOOKS,
    RANDOMISED,
    Facts,
    Outcome,
    clipped,
    design_facts,
    find_arms,
    find_dose,
    find_duration,
    find_phase,
    find_registry_status,
    measure_of,
    parse_count,
    phase_cell,
    read_outcome,
    read_outcomes,
    unmarked,
)

# Header wording -> meaning; first match wins, so specific wording comes first.
HEADER_MEANINGS = [
    (
        re.compile(
            r"^(?:nct(?:\s*id| number|/registration)?|registration|registry(?: id)?|trial regist(?:ry|ration)|clinicaltrials\.gov(?: id)?)$"
        ),
        "registry_id",
    ),
    (
        re.compile(
            r"^(?:trial|trial / study|trial/study|study|study / trial|trial name|title|title \(brief\)|title / condition)$"
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


def read_table_row(header: list[str], cells: list[str]) -> TableRowReading:
    """Map a trial-table row by what its headers mean."""
    facts = Facts()
    unmapped: dict[str, str] = {}
    registry_ids: list[str] = []
    doi = None
    measure, measure_role, results, p_cells, ci_cells = None, None, [], [], []
    for name, cell in zip(header, cells):
        meaning = header_meaning(name)
        text = unmarked(cell)
        registry_ids += [i for i in REGISTRY_ID.findall(cell) if i not in registry_ids]
        if EMPTY_CELL.match(text):
            continue
        if meaning == "registry_id":
            if not REGISTRY_ID.search(cell):
                unmapped[name] = cell
        elif meaning == "title":
            if match := re.fullmatch(rf"(?:the\s+)?({ACRONYM})(?:\s+(?:trial|study|pilot))?(?:\s*\(\d{{4}}\))?", text):
                facts.set("acronym", match.group(1))
            facts.set("title", text)
        elif meaning == "phase":
            phase = phase_cell(text) or find_phase(text)
            if phase:
                facts.set("phase", phase)
            else:
                unmapped[name] = cell
        elif meaning == "registry_status":
            status = find_registry_status(text)
            if status:
                facts.set("registry_status", status[0])
                facts.set("registry_status_text", text)
            if not status or len(text) > len(status[1]) + 20:
                results.append(text)  # 'Status / key results' cells carry results too
        elif meaning == "condition":
            facts.set("condition", text)
        elif meaning == "population":
            facts.set("population", text)
        elif meaning == "n_randomised":
            count, read = parse_count(text)
            if count is not None:
                facts.set("n_randomised", count)
                facts.set("n_raw", text)
                arms, completed = find_arms(text)
                facts.arms = facts.arms or arms
                facts.set("n_completed", completed)
            elif not read:
                facts.problems.append(f"sample size not read: '{clipped(text)}' in column '{name}'")
        elif meaning == "dose":
            dose = find_dose(text)
            if dose:
                for key in ("value", "unit", "frequency", "route", "raw"):
                    facts.set(f"dose_{key}", getattr(dose, key))
            else:
                facts.set("dose_raw", text)
            if duration := find_duration(text):
                facts.set("duration_weeks", duration[0])
                facts.set("duration_raw", duration[1])
        elif meaning == "duration":
            duration = find_duration(text)
            if duration:
                facts.set("duration_weeks", duration[0])
            facts.set("duration_raw", text)
        elif meaning == "intervention":
            facts.set("intervention", text)
        elif meaning == "design":
            facts.merge(design_facts(text))
            facts.set("design_text", text)
        elif meaning in ("primary_measure", "measure"):
            measure = text
            measure_role = (
                "primary" if meaning == "primary_measure" else ("secondary" if "secondary" in name.lower() else None)
            )
        elif meaning == "p_value":
            if P_LOOKS.search(text) or re.search(r"\bns\b|n\.s\.", text, re.I):
                p_cells.append(text)
            elif re.match(r"^\s*(?:[<>≤≥=]|&lt;|&gt;)", text):
                p_cells.append("P" + text.strip())
            else:
                p_cells.append(f"P={text}" if parse_number(text) is not None else text)
        elif meaning == "ci":
            estimate = ESTIMATE_WITH_CI.match(text)
            level = re.search(r"(\d{2})\s*%", name)
            if estimate:  # 'HR (95% CI)' column: '0.46 (0.40–0.53)'
                metric = re.match(rf"^\s*({METRICS})\b", unmarked(name))
                results.append(
                    f"{metric.group(1) + ' ' if metric else ''}{estimate.group('estimate')} ({level.group(1) if level else 95}% CI {estimate.group('range')})"
                )
            else:
                ci_cells.append(text if CI_LOOKS.search(text) else f"{level.group(1) if level else 95}% CI {text}")
        elif meaning == "result":
            results.append(text)
        elif meaning == "doi":
            doi = text.removeprefix("doi:").strip()
        else:
            unmapped[name] = cell
    outcomes: list[Outcome] = []
    if measure is None and len(results) == 1 and not (ci_cells or p_cells):
        found, problems = read_outcomes(results[0])  # 'A SMD=0.29 (p=0.05); B SMD=0.27 (p=0.03)'
        if len(found) > 1:
            facts.problems += problems
            outcomes, results = found, []
    if not outcomes and (measure or results or p_cells):
        clause = "; ".join(results + ci_cells + p_cells)
        outcome, problems = read_outcome(clause, role=measure_role, measure=measure) if clause else (None, [])
        facts.problems += problems
        if outcome is None and measure:
            outcome = Outcome(measure=measure, text=measure, role=measure_role)  # a declared endpoint without results
        if outcome:
            if not measure:
                outcome.measure = (measure_of(results[0]) if results else "") or outcome.measure
            outcomes.append(outcome)
    row_text = " ".join(cells)
    evidence = bool(RANDOMISED.search(row_text)) and not NOT_RANDOMISED.search(row_text)
    return TableRowReading(facts, outcomes, registry_ids, doi, unmapped, evidence or bool(registry_ids))


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

"""Explicit ```trial blocks: YAML naming one trial ('trial:' a footnote
label on this page, an NCT id, a DOI or a [[study]] link) and stating the
facts and outcomes that win over the ones read from prose. Each value is
checked against its declared enumeration (data/tables.yml) and read by the
same parsers as prose, so '95% CI 0.01–0.90' means the same in both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ..schema import Schema
from ..wiki.frontmatter import plain
from ..wiki.numbers import find_ci, find_p_value, parse_number, parse_range
from ..wiki.syntax import REGISTRY_ID, WIKILINK_VALUE, clean_doi
from ..wiki.trial_outcomes import Outcome, read_outcome, settle
from ..wiki.trials import Arm, Facts, find_dose, find_duration, phase_cell

# The keys an explicit ```trial block may state, and the column each fills.
EXPLICIT_KEYS = {
    "trial": None,
    "registry-id": "registry_id",
    "acronym": "acronym",
    "title": "title",
    "design": "design",
    "randomised": "randomised",
    "blinding": "blinding",
    "phase": "phase",
    "registry-status": "registry_status",
    "n-randomised": "n_randomised",
    "n-completed": "n_completed",
    "duration": "duration_weeks",
    "intervention": "intervention",
    "dose": "dose_value",
    "comparator": "comparator",
    "condition": "condition",
    "population": "population",
    "inclusion": "inclusion",
    "arms": None,
    "outcomes": None,
}
OUTCOME_KEYS = {"measure", "role", "effect", "metric", "unit", "direction", "comparison", "arms", "ci", "p"}
INVALID, UNPARSED = "trial-block-invalid", "trial-number-unparsed"


def declared_enums(schema: Schema) -> dict[str, set]:
    """Allowed values of the enumerated columns an explicit block may set,
    read from their declaration in data/tables.yml."""
    trials, outcomes = schema.tables["trials"], schema.tables["trial_outcomes"]
    enums = {name: set(trials.column(name).enum) for name in ("design", "blinding", "registry_status")}
    enums.update({name: set(outcomes.column(name).enum) for name in ("role", "direction")})
    return enums


@dataclass
class ExplicitTrial:
    """What an explicit block states: its facts and outcomes, and the keys
    naming its trial (label, registry_id, work, study_page, explicit_fields)."""

    facts: Facts
    outcomes: list[Outcome]
    keys: dict


def read_explicit_block(content: str, first_line: int, footnotes: dict, index, page: str, enums: dict[str, set]):
    """An explicit block's ExplicitTrial, or None when it names no trial of
    this wiki, and its problems as [(line, code, message)].
    `footnotes` maps this page's footnote labels to their trial mentions."""
    try:
        data = YAML(typ="rt", pure=True).load(content)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = first_line + (mark.line if mark else 0)
        return None, [(line, INVALID, f"trial block is not valid YAML: {getattr(error, 'problem', None) or error}")]
    if not hasattr(data, "items"):
        return None, [(first_line, INVALID, "trial block must be 'key: value' lines")]
    block = _Block(data, first_line, enums)
    for key in data:
        if key not in EXPLICIT_KEYS:
            block.problem(key, INVALID, f"unknown key '{key}' in trial block (known: {', '.join(EXPLICIT_KEYS)})")
    keys = block.trial_keys(footnotes, index, page)
    if keys is None:
        return None, block.problems
    facts = block.facts(keys)
    block.arms(facts)
    outcomes = []
    for item in data.get("outcomes") or []:
        outcome, item_problems = explicit_outcome(item, block.line_of("outcomes"), enums)
        block.problems += item_problems
        if outcome:
            outcomes.append(outcome)
    keys["explicit_fields"] = sorted(set(block.explicit_fields))
    return ExplicitTrial(facts, outcomes, keys), block.problems


class _Block:
    """One block's YAML, read key by key, with the problems found."""

    def __init__(self, data, first_line: int, enums: dict[str, set]):
        self.data, self.first_line, self.enums = data, first_line, enums
        self.problems: list[tuple[int, str, str]] = []
        self.explicit_fields: list[str] = []

    def line_of(self, key) -> int:
        try:
            return self.first_line + self.data.lc.key(key)[0]
        except Exception:
            return self.first_line

    def problem(self, key, code: str, message: str) -> None:
        self.problems.append((self.line_of(key), code, message))

    def trial_keys(self, footnotes: dict, index, page: str) -> dict | None:
        """What the block's 'trial:' names: an NCT id, a work, a study page
        or the trial of a footnote; None (with a problem) when nothing."""
        name = str(self.data.get("trial") or "").strip()
        keys: dict = {"label": None, "registry_id": None, "work": None, "study_page": None}
        if not name:
            self.problems.append(
                (
                    self.first_line,
                    INVALID,
                    "trial block has no 'trial:' naming the trial (a footnote label, NCT id, DOI or [[study]] link)",
                )
            )
            return None
        if REGISTRY_ID.fullmatch(name):
            keys["registry_id"] = name
        elif name.lower().startswith(("doi:", "10.")):
            doi = name.split(":", 1)[-1] if name.lower().startswith("doi:") else name
            keys["work"] = "doi:" + clean_doi(doi).lower()
        elif match := WIKILINK_VALUE.match(name):
            keys["study_page"] = index.resolve(match.group(1).strip(), page)
            keys["work"] = index.study_work(keys["study_page"])
            if not keys["study_page"]:
                self.problem("trial", INVALID, f"trial block names {name}, which is not a page of this wiki")
                return None
        elif name in footnotes:
            found = footnotes[name]
            keys = {"label": name, "registry_id": found.registry_id, "work": found.work, "study_page": found.study_page}
        else:
            self.problem(
                "trial",
                INVALID,
                f"trial block names '{name}', which is no trial footnote label on this page, NCT id, DOI or "
                "[[study]] link",
            )
            return None
        return keys

    def number(self, key, text, as_int=False):
        if isinstance(text, bool):
            value = None
        elif isinstance(text, (int, float)):
            value = text
        else:
            value = parse_number(str(text))
        if value is None or (as_int and float(value) != int(value)):
            self.problem(key, UNPARSED, f"trial block: {key}: '{text}' is not a number")
            return None
        return int(value) if as_int else float(value)

    def facts(self, keys: dict) -> Facts:
        """The facts the block states, each checked against its column."""
        facts = Facts()
        for key, raw in self.data.items():
            column = EXPLICIT_KEYS.get(key)
            if column is None or raw is None:
                continue
            found, value = self.value(key, raw, facts)
            if not found:
                continue
            if key == "registry-id":
                keys["registry_id"] = keys["registry_id"] or value
            allowed = self.enums.get(column)
            if allowed and value not in allowed:
                self.problem(key, INVALID, f"trial block: {key}: '{value}' is not one of {', '.join(sorted(allowed))}")
                continue
            if value is not None:
                facts.set(column, value)
                self.explicit_fields.append(column)
        return facts

    def value(self, key: str, raw, facts: Facts) -> tuple[bool, object]:
        """(True, the value) of one key, or (False, None) with a problem when
        it cannot be read; a dose or duration also sets its parts."""
        text = str(plain(raw)).strip()
        if key in ("n-randomised", "n-completed"):
            return True, self.number(key, raw, as_int=True)
        if key == "duration":
            duration = find_duration(text)
            if duration is None:
                self.problem(key, UNPARSED, f"trial block: duration: '{text}' is not a duration such as '13 weeks'")
                return False, None
            facts.set("duration_raw", text)
            return True, duration[0]
        if key == "dose":
            dose = find_dose(text)
            if dose is None or dose.value is None:
                self.problem(key, UNPARSED, f"trial block: dose: '{text}' is not a dose such as '100 mg/day s.c.'")
                return False, None
            for part in ("unit", "frequency", "route", "raw"):
                facts.set(f"dose_{part}", getattr(dose, part))
                self.explicit_fields.append(f"dose_{part}")
            return True, dose.value
        if key == "phase":
            value = phase_cell(text)
            if value is None:
                self.problem(key, INVALID, f"trial block: phase: '{text}' is not a phase such as 2 or 1/2")
                return False, None
            return True, value
        if key == "randomised":
            if not isinstance(raw, bool):
                self.problem(key, INVALID, f"trial block: randomised: '{text}' must be true or false")
                return False, None
            return True, raw
        if key == "registry-id" and not REGISTRY_ID.fullmatch(text):
            self.problem(key, INVALID, f"trial block: registry-id: '{text}' is not an NCT id")
            return False, None
        return True, text

    def arms(self, facts: Facts) -> None:
        arms = self.data.get("arms")
        if arms is None:
            return
        for item in arms if isinstance(arms, list) else []:
            if not hasattr(item, "get") or not item.get("label"):
                self.problem("arms", INVALID, "trial block: each arm needs a label (and n)")
                continue
            n = self.number("arms", item.get("n"), as_int=True) if item.get("n") is not None else None
            done = (
                self.number("arms", item.get("completed"), as_int=True) if item.get("completed") is not None else None
            )
            facts.arms.append(Arm(str(item["label"]), n, done))
        if facts.arms:
            self.explicit_fields.append("arms")


def explicit_outcome(item, line: int, enums: dict[str, set]):
    """One outcome of an explicit block: its statistics are written as
    they would be in prose ('−0.46 pp', '95% CI 0.01–0.90', 'P=0.03') and
    read by the same parsers."""
    problems = []
    if not hasattr(item, "get") or not item.get("measure"):
        return None, [(line, INVALID, "trial block: each outcome needs a measure")]
    for key in item:
        if key not in OUTCOME_KEYS:
            known = ", ".join(sorted(OUTCOME_KEYS))
            problems.append((line, INVALID, f"trial block: unknown outcome key '{key}' (known: {known})"))
    outcome = Outcome(measure=str(item["measure"]), text=", ".join(f"{k}: {plain(v)}" for k, v in item.items()))
    outcome.role = str(item["role"]) if item.get("role") else None
    if outcome.role and outcome.role not in enums["role"]:
        allowed = ", ".join(sorted(enums["role"]))
        problems.append((line, INVALID, f"trial block: role '{outcome.role}' is not one of {allowed}"))
        outcome.role = None
    if item.get("effect") is not None:
        problems += _effect(outcome, item, line)
    outcome.effect_metric = str(item["metric"]) if item.get("metric") else None
    outcome.comparison = str(item["comparison"]) if item.get("comparison") else None
    if item.get("direction"):
        outcome.direction = str(item["direction"])
        if outcome.direction not in enums["direction"]:
            allowed = ", ".join(sorted(enums["direction"]))
            problems.append((line, INVALID, f"trial block: direction '{outcome.direction}' is not one of {allowed}"))
            outcome.direction = None
    for key, read in (("arms", _arms), ("ci", _ci), ("p", _p)):
        if item.get(key) is not None and (key != "arms" or item.get(key)):
            problems += read(outcome, item, line)
    settle(outcome)
    return outcome, problems


def _effect(outcome: Outcome, item, line: int) -> list:
    raw = str(item["effect"]).strip()
    match = re.match(r"^\s*(\S+)\s*(.*)$", raw)
    value = parse_number(match.group(1)) if match else None
    if value is None:
        value = parse_number(raw)
    if value is None:
        return [(line, UNPARSED, f"trial block: effect '{raw}' of '{outcome.measure}' is not a number")]
    outcome.effect_value, outcome.effect_raw = value, raw
    outcome.effect_unit = (
        str(item["unit"])
        if item.get("unit")
        else (match.group(2).strip() or None if match and parse_number(match.group(1)) is not None else None)
    )
    return []


def _arms(outcome: Outcome, item, line: int) -> list:
    raw = str(item["arms"])
    found, _ = read_outcome(raw, measure=outcome.measure)
    if not (found and found.arm_a_value is not None):
        return [(line, UNPARSED, f"trial block: arms '{raw}' of '{outcome.measure}' is not 'A vs B'")]
    outcome.arm_a_value, outcome.arm_b_value = found.arm_a_value, found.arm_b_value
    outcome.arm_unit, outcome.arm_raw = found.arm_unit, found.arm_raw
    return []


def _ci(outcome: Outcome, item, line: int) -> list:
    raw = plain(item["ci"])
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, (int, float)) for v in raw):
        outcome.ci_level, outcome.ci_low, outcome.ci_high, outcome.ci_raw = 95.0, float(raw[0]), float(raw[1]), str(raw)
        return []
    ci = find_ci(str(raw)) or (find_ci("95% CI " + str(raw)) if parse_range(str(raw)) else None)
    if not ci:
        message = f"trial block: ci '{raw}' of '{outcome.measure}' is not an interval such as '95% CI 0.01–0.90'"
        return [(line, UNPARSED, message)]
    outcome.ci_level, outcome.ci_low, outcome.ci_high, outcome.ci_raw = ci.level, ci.low, ci.high, str(raw)
    return []


def _p(outcome: Outcome, item, line: int) -> list:
    raw = str(plain(item["p"])).strip()
    p = find_p_value(raw) or (find_p_value("P=" + raw) if parse_number(raw) is not None else None)
    if not p:
        return [(line, UNPARSED, f"trial block: p '{raw}' of '{outcome.measure}' is not a p-value such as 'P=0.03'")]
    outcome.p_operator, outcome.p_value, outcome.p_raw = p.operator, p.value, raw
    return []

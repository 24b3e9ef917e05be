"""Clinical trials as the wiki writes them: the facts of a trial (design,
blinding, phase, size, arms, duration, dose, comparator, condition) read
from a piece of text: prose, a footnote record, a cell of a trial table
(etl/wiki/trial_tables.py reads the tables) or a value of an explicit
```trial block; and the clause helpers its outcomes share
(etl/wiki/trial_outcomes.py reads measures, effects, intervals, p-values).

Pure: text in, values out. Every number keeps the raw text it came from,
and text that looks like a number but does not read as one is returned
as a problem, so the caller can report it with its file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numbers import CI_LOOKS, P_LOOKS, M, parse_number
from .syntax import REGISTRY_ID, WIKILINK, link_text

# --- facts ---------------------------------------------------------------

DESIGNS = [
    (re.compile(r"\bcross-?over\b", re.I), "crossover"),
    (re.compile(r"\bfactorial\b", re.I), "factorial"),
    (re.compile(r"\bcluster[- ]randomi[sz]ed\b", re.I), "cluster"),
    (re.compile(r"\bsingle[- ]arm\b", re.I), "single-arm"),
    (re.compile(r"\bparallel(?:[- ]group)?\b", re.I), "parallel"),
]
BLINDING = [
    (re.compile(r"\b(?:triple|quadruple)[- ]blind(?:ed)?\b", re.I), "triple-blind"),
    (re.compile(r"\bdouble[- ]blind(?:ed)?\b", re.I), "double-blind"),
    (re.compile(r"\bsingle[- ]blind(?:ed)?\b", re.I), "single-blind"),
    (re.compile(r"\bopen[- ]label\b|\bunblinded\b", re.I), "open-label"),
]
NOT_RANDOMISED = re.compile(r"\bnon-?randomi[sz]ed\b|\bsingle[- ]arm\b", re.I)
RANDOMISED = re.compile(r"\brandomi[sz]ed\b|\bRCTs?\b|\bplacebo-controlled\b")
ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4"}
PHASE = re.compile(
    r"\b(?:phase|ph\.?)\s*(?P<a>IV|I{1,3}|[1-4])(?P<a_letter>[ab])?(?:\s*(?:/|-|–)\s*(?P<b>IV|I{1,3}|[1-4])(?P<b_letter>[ab])?)?\b",
    re.I,
)
PHASE_CELL = re.compile(
    r"^\s*(?:phase\s*)?(?P<a>IV|I{1,3}|[1-4])(?P<a_letter>[ab])?(?:\s*(?:/|-|–)\s*(?P<b>IV|I{1,3}|[1-4])(?P<b_letter>[ab])?)?\b",
    re.I,
)
REGISTRY_STATUSES = [  # longest wording first; values as ClinicalTrials.gov names them, in kebab case
    ("not yet recruiting", "not-yet-recruiting"),
    ("active not recruiting", "active-not-recruiting"),
    ("enrolling by invitation", "enrolling-by-invitation"),
    ("recruiting", "recruiting"),
    ("completed", "completed"),
    ("terminated", "terminated"),
    ("withdrawn", "withdrawn"),
    ("suspended", "suspended"),
    ("unknown status", "unknown"),
]
WEEKS_PER = {"day": 1 / 7, "week": 1.0, "month": 365.25 / 12 / 7, "year": 365.25 / 7}
DURATION = re.compile(
    r"(?<![\w.])(?P<value>\d+(?:\.\d+)?)(?:\s*|-)(?P<unit>weeks?|wks?|days?|months?|mo|years?|yrs?)\b", re.I
)
UNIT_NAMES = {"w": "week", "d": "day", "m": "month", "y": "year"}
DOSE = re.compile(
    rf"(?<![\w.])(?P<value>\d+(?:[.,]\d+)?(?:\s*[{M}–]\s*\d+(?:\.\d+)?)?)\s*(?P<unit>mg/kg|µg/kg|mcg/kg|mg/m2|mg/m²|mg|µg|mcg|ug|g|IU|mL|ml|units?)(?![\w])"
    r"(?:\s*/\s*(?P<per>day|d|week|wk|kg/day|kg/d|month))?"
)
ROUTES = [
    (re.compile(r"\bs\.?c\.?(?=[\s,;)]|$)|\bsubcutaneous(?:ly)?\b", re.I), "subcutaneous"),
    (re.compile(r"\bi\.?v\.?(?=[\s,;)]|$)|\bintravenous(?:ly)?\b", re.I), "intravenous"),
    (re.compile(r"\bi\.?m\.?(?=[\s,;)]|$)|\bintramuscular(?:ly)?\b", re.I), "intramuscular"),
    (re.compile(r"\bp\.o\.|\boral(?:ly)?\b", re.I), "oral"),
    (re.compile(r"\bintranasal(?:ly)?\b", re.I), "intranasal"),
    (re.compile(r"\btopical(?:ly)?\b", re.I), "topical"),
    (re.compile(r"\binhaled\b", re.I), "inhaled"),
]
FREQUENCIES = [
    (re.compile(r"\btwice[- ]daily\b|\bb\.?i\.?d\.?\b", re.I), "twice daily"),
    (re.compile(r"\bthree times daily\b|\bt\.?i\.?d\.?\b", re.I), "three times daily"),
    (re.compile(r"\bonce[- ]weekly\b|\bweekly\b", re.I), "weekly"),
    (re.compile(r"\bonce[- ]daily\b|\bdaily\b|\bq\.?d\.?\b", re.I), "daily"),
    (re.compile(r"\bmonthly\b", re.I), "monthly"),
]
PER_FREQUENCY = {
    "day": "daily",
    "d": "daily",
    "kg/day": "daily",
    "kg/d": "daily",
    "week": "weekly",
    "wk": "weekly",
    "month": "monthly",
}
VERSUS = re.compile(r"\s+(?:vs\.?|versus|compared with)\s+", re.I)
CONTROL = re.compile(r"\b(?:placebo|control|standard|usual|sham|vehicle|no treatment|untreated)", re.I)
ACRONYM = r"[A-Z][A-Za-z]*[A-Z0-9](?:-[A-Z0-9]+)*|[A-Z]+(?:-[A-Z0-9]+)+"
ACRONYM_CLAUSE = re.compile(
    rf"^(?:the\s+)?(?P<acronym>{ACRONYM})(?:\s+(?:pilot|trial|study|RCT|extension|sub-?study))+\s*$"
)
# 'the TAME trial (NCT02432287)', 'ENRGISE pilot study [[studies/x]] NCT01234567'.
ACRONYM_BEFORE_ID = re.compile(
    rf"\b(?P<acronym>{ACRONYM})\s+(?:pilot\s+|phase\s+\S+\s+)?(?:trial|study|RCT)\s*[(,:]?\s*"
    rf"(?:{WIKILINK.pattern}\s*)?\(?\s*{REGISTRY_ID.pattern}"
)
N_COUNT = re.compile(
    r"^\s*(?:n\s*[=:]\s*)?(?P<approx>[~≈>]|about |approx\.? |approximately )?\s*"
    r"(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?!\s*(?:[.,]\d|%|/))",
    re.I,
)
N_IN_TEXT = re.compile(r"\bn\s*(?:=\s*[~≈]?|[~≈])\s*(?P<n>\d{1,3}(?:,\d{3})+|\d+)\b", re.I)
N_LOOKS = re.compile(r"\bn\s*[=≈~<>]\s*[~≈<>]?\s*\d", re.I)  # 'n=' followed by a number-like start
NOT_PARTICIPANTS = re.compile(
    r"^\s*(?:(?!participants|patients|adults|subjects|people|persons|women|men|children|volunteers|individuals)"
    r"[A-Za-z-]+\s+){0,2}(?:RCTs?|trials?|studies|cohorts?|meta-analys[ie]s|datasets?|sites?|centres?|centers?"
    r"|countries|cell lines?|experiments?)\b",
    re.I,
)
COMPLETED = re.compile(r"(?P<n>\d{1,3}(?:,\d{3})+|\d+)\s+(?:completed|completers)\b(?:\s*\((?P<arms>[^)]*)\))?", re.I)
ARM_COUNT = re.compile(
    r"^\s*(?:(?P<n1>\d{1,3}(?:,\d{3})+|\d+)\s+(?P<label1>[A-Za-z][\w.+ -]*?)"
    r"|(?P<label2>[A-Za-z][\w.+ -]*?)\s*:?\s*n\s*=\s*(?P<n2>\d{1,3}(?:,\d{3})+|\d+))\s*$"
)
EMPTY_CELL = re.compile(r"^\s*(?:[-—–?]|n/?a|nr|not reported|tbd|—|none|unknown|pending|ongoing)?\s*$", re.I)


def _phase(match) -> str:
    a = ROMAN.get(match.group("a").upper(), match.group("a")) + (match.group("a_letter") or "").lower()
    if match.group("b"):
        return a + "/" + ROMAN.get(match.group("b").upper(), match.group("b")) + (match.group("b_letter") or "").lower()
    return a


def find_phase(text: str) -> str | None:
    """'phase 3' -> '3', 'Phase I/II' -> '1/2', 'Phase 2b' -> '2b'."""
    match = PHASE.search(text or "")
    return _phase(match) if match else None


def phase_cell(text: str) -> str | None:
    """A Phase column cell: '2', 'II', '1/2', 'Phase 3'."""
    match = PHASE_CELL.match(text or "")
    return _phase(match) if match else None


def find_registry_status(text: str) -> tuple[str, str] | None:
    """(status, wording) for 'ACTIVE_NOT_RECRUITING', 'active, not recruiting', 'Completed'."""
    normal = re.sub(r"[_,*]+", " ", (text or "").lower())
    normal = re.sub(r"\s+", " ", normal)
    for wording, status in REGISTRY_STATUSES:
        match = re.search(rf"(?<![\w-]){wording}(?![\w-])", normal)
        if match and not (status == "recruiting" and re.search(r"\bnot (?:yet )?recruiting\b", normal)):
            return status, wording
    return None


DURATION_BEFORE = re.compile(r"(?:\bfor|\bover|\bduring|\blasting|\bafter|\bx|×|^)\s*$", re.I)
DURATION_AFTER = re.compile(
    r"^\s*(?:of\s+(?:treatment|supplementation|intervention|follow-?up|therapy|dosing|administration|training)|treatment|intervention|supplementation|follow-?up|trial|study|period|course|$)",
    re.I,
)
AGE_AFTER = re.compile(r"^\s*(?:old|of age|and older|or older|\+|-old)", re.I)


def find_duration(text: str) -> tuple[float, str] | None:
    """(weeks, raw) for a treatment length: '13-week', '14-day treatment
    periods', 'for 6 months', a cell reading '2 years'. Ages ('aged 65
    years', '40 years old') and other spans of time are not durations."""
    match = None
    for candidate in DURATION.finditer(text or ""):
        before, after = text[: candidate.start()], text[candidate.end() :]
        if AGE_AFTER.match(after) or re.search(r"(?:\bage[sd]?|[≥>≤<]|\bover)\s*$", before, re.I):
            continue
        hyphenated = "-" in candidate.group(0)
        if hyphenated or DURATION_BEFORE.search(before) or DURATION_AFTER.match(after):
            match = candidate
            break
    if not match:
        return None
    unit = UNIT_NAMES[match.group("unit")[0].lower()]
    return round(float(match.group("value")) * WEEKS_PER[unit], 2), match.group(0)


def find_first(patterns, text: str) -> str | None:
    for pattern, value in patterns:
        if pattern.search(text or ""):
            return value
    return None


@dataclass
class Dose:
    value: float | None
    unit: str
    frequency: str | None
    route: str | None
    raw: str


def find_dose(text: str) -> Dose | None:
    """'100 mg/day s.c.' -> Dose(100, 'mg', 'daily', 'subcutaneous', ...)."""
    match = DOSE.search(text or "")
    if not match:
        return None
    value_text = (
        match.group("value").replace(",", ".")
        if re.fullmatch(r"\d+,\d{1,2}", match.group("value"))
        else match.group("value").replace(",", "")
    )
    value = parse_number(value_text)  # a range ('50–100 mg') keeps value empty and its raw text
    tail = text[match.end() : match.end() + 40]
    end = match.end()
    route = None
    for pattern, name in ROUTES:
        found = pattern.search(tail)
        if found and found.start() <= 16 and not re.search(r"[;(]|\bvs\b", tail[: found.start()]):
            route, end = name, max(end, match.end() + found.end())
            break
    frequency = PER_FREQUENCY.get((match.group("per") or "").lower())
    if frequency is None:
        found = next(((p.search(tail), name) for p, name in FREQUENCIES if p.search(tail)), (None, None))
        if found[0] and found[0].start() <= 12:
            frequency, end = found[1], max(end, match.end() + found[0].end())
    unit = match.group("unit").replace("mcg", "µg").replace("ug", "µg").replace("ml", "mL").replace("m2", "m²")
    return Dose(value, unit, frequency, route, text[match.start() : end].strip())


def parse_count(text: str) -> tuple[int | None, bool]:
    """(count, read) for a sample-size cell: '70', '1,961', '~120',
    'n=70', '74 (fisetin 34; placebo 40)'. read is False when the cell
    holds something other than a count, so the caller can report it."""
    if EMPTY_CELL.match(text or "") or not re.search(r"\d", text or ""):
        return None, True  # nothing, or words ('various', 'undisclosed'): no number was written
    match = N_COUNT.match(unmarked(text))
    if not match:
        return None, False
    return int(match.group("n").replace(",", "")), True


def unmarked(text: str) -> str:
    """Markdown emphasis and wikilink brackets removed."""
    text = link_text(text or "")
    return text.replace("**", "").replace("__", "").strip()


@dataclass
class Arm:
    label: str
    n: int | None
    completed: int | None = None


def find_arms(text: str) -> tuple[list[Arm], int | None]:
    """Per-arm sizes and the number completed from an n statement:
    'n=70 randomised (34 anakinra / 35 placebo; 67 completed)',
    'n=70 (34 anakinra, 35 placebo); 67 completed (34 anakinra, 33 placebo)',
    '74 (fisetin n=34; placebo n=40)'."""
    arms: list[Arm] = []
    completed = None
    done = COMPLETED.search(text or "")
    if done:
        completed = int(done.group("n").replace(",", ""))
    for group in re.finditer(r"\(([^()]*)\)", text or ""):
        if done and done.group("arms") is not None and group.start() >= done.start():
            continue
        for part in re.split(r"\s*(?:/|;|,|\bvs\.?\b|\bversus\b)\s*", group.group(1)):
            if re.search(r"\bcompleted\b|\bcompleters\b", part, re.I):
                continue
            found = ARM_COUNT.match(part)
            if found:
                label = (found.group("label1") or found.group("label2")).strip()
                n = int((found.group("n1") or found.group("n2")).replace(",", ""))
                arms.append(Arm(label, n))
        if arms:
            break
    if done and done.group("arms"):
        for part in re.split(r"\s*(?:/|;|,)\s*", done.group("arms")):
            found = ARM_COUNT.match(part)
            if not found:
                continue
            label = (found.group("label1") or found.group("label2")).strip()
            n = int((found.group("n1") or found.group("n2")).replace(",", ""))
            for arm in arms:
                if arm.label.lower() == label.lower():
                    arm.completed = n
    return arms, completed


def split_clauses(text: str, separators: str = ";") -> list[str]:
    """Split at separators outside parentheses and brackets."""
    clauses, current, depth = [], [], 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
        if char in separators and depth == 0:
            clauses.append("".join(current))
            current = []
        else:
            current.append(char)
    clauses.append("".join(current))
    return [c.strip() for c in clauses if c.strip()]


def clipped(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --- facts from free text ------------------------------------------------


@dataclass
class Facts:
    """Trial facts read from one place; None means 'not stated here'."""

    values: dict = field(default_factory=dict)
    arms: list[Arm] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def set(self, name: str, value) -> None:
        if value is not None and value != "" and self.values.get(name) is None:
            self.values[name] = value

    def merge(self, other: Facts) -> None:
        for name, value in other.values.items():
            self.set(name, value)
        if not self.arms:
            self.arms = other.arms
        self.problems += other.problems


def design_facts(text: str) -> Facts:
    """Design, blinding, randomisation and phase words anywhere in text."""
    facts = Facts()
    facts.set("design", find_first(DESIGNS, text))
    facts.set("blinding", find_first(BLINDING, text))
    if NOT_RANDOMISED.search(text):
        facts.set("randomised", False)
    elif RANDOMISED.search(text):
        facts.set("randomised", True)
    facts.set("phase", find_phase(text))
    return facts


def intervention_facts(clause: str) -> Facts:
    """'anakinra 100 mg/day s.c. vs placebo in T2D (HbA1c >7.5%)'."""
    facts = Facts()
    parts = VERSUS.split(clause, maxsplit=1)
    if len(parts) != 2:
        return facts
    left, right = parts
    dose = find_dose(left)
    if ":" in left or re.search(r"\d/\d", clause) or not (dose or CONTROL.search(right)):
        return facts  # a results clause comparing arms, not the trial's arms
    if dose:
        facts.set("dose_value", dose.value)
        facts.set("dose_unit", dose.unit)
        facts.set("dose_frequency", dose.frequency)
        facts.set("dose_route", dose.route)
        facts.set("dose_raw", dose.raw)
        left = left.replace(dose.raw, " ")
    intervention = unmarked(re.sub(r"\s+", " ", left)).strip(" ,;:")
    if intervention and len(intervention.split()) <= 6:
        facts.set("intervention", intervention)
    where = re.split(r"\s+in\s+", right, maxsplit=1)
    comparator = unmarked(where[0]).strip(" ,;:")
    if comparator and len(comparator.split()) <= 6:
        facts.set("comparator", comparator)
    if len(where) == 2:
        condition = where[1].strip()
        inclusion = re.search(r"\(([^()]*)\)\s*$", condition)
        if inclusion:
            facts.set("inclusion", inclusion.group(1).strip())
            condition = condition[: inclusion.start()].strip()
        facts.set("condition", unmarked(condition).strip(" ,;:."))
    return facts


def text_facts(text: str) -> Facts:
    """Facts from a ';'-separated run of design and results clauses, e.g.
    the segments of a footnote record after its design segment."""
    facts = Facts()
    for clause in split_clauses(text):
        if P_LOOKS.search(clause) or CI_LOOKS.search(clause):
            continue  # a results clause
        if match := ACRONYM_CLAUSE.match(unmarked(clause)):
            facts.set("acronym", match.group("acronym"))
            continue
        facts.merge(design_facts(clause))
        if duration := find_duration(clause):
            facts.set("duration_weeks", duration[0])
            facts.set("duration_raw", duration[1])
        facts.merge(intervention_facts(clause))
    return facts


def sample_size_facts(text: str) -> Facts:
    """n randomised, per-arm sizes and completers from an n statement."""
    facts = Facts()
    match = N_IN_TEXT.search(text)
    if match and NOT_PARTICIPANTS.match(text[match.end() :]):
        facts.set("n_raw", text.strip())  # 'n=2 identical multicentre RCTs' counts trials, not people
    elif match:
        facts.set("n_randomised", int(match.group("n").replace(",", "")))
        facts.set("n_raw", text.strip())
    elif N_LOOKS.search(text):
        facts.problems.append(f"sample size not read: '{clipped(text)}'")
    arms, completed = find_arms(text)
    facts.arms = arms
    facts.set("n_completed", completed)
    return facts

"""Clinical trial outcomes as the wiki writes them: the measure, its role
(primary, secondary), the effect (metric, value, unit, or two arms compared),
its direction, confidence interval and p-value, read from a results clause of
prose, a footnote record, a trial-table row or an explicit ```trial block.

Pure, like etl/wiki/trials.py (the trial's facts), whose clause helpers it
uses. Every number keeps the raw text it came from; text that looks like a
p-value or an interval but does not read as one is returned as a problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numbers import CI_LOOKS, MINUS, NUMBER, P_LOOKS, ConfidenceInterval, M, find_ci, find_p_value, parse_number
from .trials import clipped, find_first, split_clauses

ROLE_PREFIX = re.compile(
    r"^\s*(?P<role>(?:co-)?primary|secondary|exploratory)\s+"
    r"(?:end-?point|outcome|efficacy end-?point|measure)s?\s*(?:\([^)]*\))?\s*[:—–-]\s*",
    re.I,
)
ROLE_WORD = re.compile(r"\b(?P<role>(?:co-)?primary|secondary)\b(?:\s+(?:end-?point|outcome))?", re.I)
METRICS = (
    r"(?i:rate ratio|hazard ratio|odds ratio|risk ratio|relative risk)|"
    r"aHR|aOR|HR|OR|RR|IRR|SMD|WMD|MD|β|beta|ρ|rho|Cohen's d|d|r|R²|r²"
)
EFFECT_METRIC = re.compile(
    rf"(?<![\w-])(?P<metric>{METRICS})\s*(?:=|:|of)?\s*(?=[{M}+]?\.?\d)(?P<value>{NUMBER})(?!\s*[–—-]\s*\d)(?P<unit>\s*%)?"
    # '2.6-fold rise', '3-fold higher': a ratio of the arms or of after to before
    rf"|(?<![\w.])(?P<fold>\d+(?:\.\d+)?)[\s-]?(?P<fold_word>fold)\b"
)
UNIT = r"%|pp|percentage points?|points?|(?:[A-Za-zµμ°][\w/·^²³⁻¹µμ%.]*)"
UNIT_STOP = {
    "vs",
    "vs.",
    "versus",
    "and",
    "in",
    "at",
    "with",
    "from",
    "to",
    "for",
    "after",
    "per",
    "compared",
    "of",
    "on",
    "or",
    "the",
    "p",
    "ci",
    "n",
    "more",
    "less",
    "than",
    "over",
    "by",
    "within",
    "between",
    "among",
    "relative",
}
# '−0.46 pp', '− 0.5 kg', '+2.1 kg'; not '+ 1%' (a combination: 'laser + 1% cream').
SIGNED_EFFECT = re.compile(
    rf"(?:(?<=\s)|(?<=^)|(?<=\())(?P<value>(?:[{M}]\s?|\+)(?:\d+(?:\.\d+)?|\.\d+))(?:\s*(?P<unit>{UNIT}))?"
)
BY_EFFECT = re.compile(rf"\bby\s+(?P<value>(?:\d+(?:\.\d+)?|\.\d+))\s*(?P<unit>{UNIT})?")
# An interval in brackets right after a named effect, without 'CI':
# 'HR 1.29 (1.02–1.63)', 'OR 2.3 (1.1 to 4.8;'.
BARE_INTERVAL = re.compile(rf"^\s*\(\s*(?P<low>{NUMBER})\s*(?:[–—]|-|\bto\b)\s*(?P<high>{NUMBER})\s*(?=[;,)])")
# '36% reduction in mortality', '42% lower risk', 'RRR 11%', 'relative risk reduction of 31%'.
CHANGE_EFFECT = re.compile(
    r"(?<![\d.,])(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>%)\s+(?:relative\s+)?(?:risk\s+)?"
    r"(?:reduction|decrease|lower|fewer|increase|higher|more|excess)\b"
    r"|\b(?:RRR|relative risk reduction)\s*(?:of\s+)?(?P<rrr>\d+(?:\.\d+)?)\s*%",
    re.I,
)
ARM_UNIT = r"%|pp|[A-Za-zµμ]+/[\w/]+"
DIGIT_AHEAD = rf"(?=[{M}+]?\.?\d)"  # NUMBER alone also matches the empty string
ARM_COMPARISON = re.compile(
    rf"(?<![\d/.,]){DIGIT_AHEAD}(?P<a>{NUMBER})\s*(?P<unit>{ARM_UNIT})?\s+(?:vs\.?|versus)\s+{DIGIT_AHEAD}(?P<b>{NUMBER})(?![\d/])\s*(?P<unit_b>{ARM_UNIT})?",
    re.I,
)
COMPARATOR = re.compile(
    r"\b(?:vs\.?|versus|compared with|relative to)\s+"
    r"(?P<comparator>[A-Za-z][\w\s/+-]*?)(?=\s*[(;,.]|\s+(?:at|after|over|in|on|for)\b|$)",
    re.I,
)
DIRECTIONS = [
    (
        re.compile(
            r"\bno (?:significant |statistically significant )?"
            r"(?:effect|change|difference|benefit|improvement|reduction)s?\b"
            r"|\bunchanged\b|\bnot (?:statistically )?significant(?:ly)?\b|\bnon-?significant(?:ly)?\b|\bneutral\b"
            r"|\bdid not (?:significantly )?(?:reduce|improve|change|differ|lower|increase)\b"
            r"|\bnull\b|\bns\b|\bn\.s\.",
            re.I,
        ),
        "no-difference",
    ),
    (re.compile(r"\bimprov(?:ed|ement|es)\b|\benhanced\b|\bbetter\b", re.I), "improved"),
    (re.compile(r"\bworse(?:ned)?\b|\bimpaired\b|\bfavou?r(?:s|ed|ing)? placebo\b", re.I), "worsened"),
    (
        re.compile(
            r"\breduc(?:ed|tion|es)\b|\bdecreas(?:ed|e|es)\b|\blower(?:ed)?\b|\bslowed\b|\battenuated\b|\bdeclin(?:ed|e)\b|\bfell\b|\bsuppress(?:ed)\b",
            re.I,
        ),
        "decrease",
    ),
    (
        re.compile(r"\bincreas(?:ed|e|es)\b|\bhigher\b|\braised\b|\belevated\b|\brose\b|\bgain(?:ed)?\b", re.I),
        "increase",
    ),
]
MEASURE_STOP = re.compile(
    r"\s(?:was|were|is|are|significantly|not|no|improv\w*|reduc\w*|decreas\w*|increas\w*|lower\w*|higher|enhanced|unchanged|slowed|attenuated|declin\w*|fell|rose|raised|elevated|worse\w*|impaired|suppress\w*|better)\b|\s+(?:vs\.?|versus)\s|\s*\(|\s+[Pp]\s*[=<>≤≥]|\s*[:—–]\s",
    re.I,
)
NO_EFFECT_ON = re.compile(
    r"^\s*no (?:significant |statistically significant )?"
    r"(?:effect|change|difference|benefit|improvement)s?\s+(?:on|in)\s+",
    re.I,
)
SKIP_CLAUSE = re.compile(r"^\s*(?:n\s*=|model\s*:|doi:|pmid|\[\[|verified|pdf\b|full text)", re.I)


@dataclass
class Outcome:
    measure: str | None  # None when the text names no measure for the number
    text: str
    role: str | None = None
    comparison: str | None = None
    effect_metric: str | None = None
    effect_value: float | None = None
    effect_unit: str | None = None
    effect_raw: str | None = None
    direction: str | None = None
    arm_a_value: float | None = None
    arm_b_value: float | None = None
    arm_unit: str | None = None
    arm_raw: str | None = None
    ci_level: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_raw: str | None = None
    p_operator: str | None = None
    p_value: float | None = None
    p_raw: str | None = None
    metric: str | None = None  # the effect's kind, from a fixed list (see settle)
    scale_problem: str | None = None  # why the effect and its interval are not on one scale
    line: int | None = None  # the line it was read from, when its mention spans several (a study page)

    @property
    def has_statistic(self) -> bool:
        return any(v is not None for v in (self.effect_value, self.arm_a_value, self.ci_low, self.p_operator))


def _split_compound(clause: str) -> list[str]:
    """'CHD HR 1.29 (1.02–1.63), stroke HR 1.41 (1.07–1.85)' or '+7 CHD,
    +8 stroke' -> one clause per comma-separated part when each part has
    its own effect; 'IL-6 (P<0.001) and CRP (P=0.002) reduced' -> two
    clauses, when each part carries its own p-value."""
    parts = split_clauses(clause, ",")
    if len(parts) > 1 and all(EFFECT_METRIC.search(p) or SIGNED_EFFECT.search(p) for p in parts):
        return parts
    if len(P_LOOKS.findall(clause)) < 2:
        return [clause]
    parts = [p for p in re.split(r"(?<=\))\s*(?:,\s*(?:and\s+)?|\s+and\s+)", clause) if p.strip()]
    if len(parts) > 1 and all(P_LOOKS.search(p) for p in parts):
        return parts
    return [clause]


def _unit(text: str | None) -> str | None:
    if not text:
        return None
    unit = text.strip().rstrip(".,")
    if unit.lower() in UNIT_STOP or not unit:
        return None
    return unit


# 'Semaglutide lowered the primary composite, HR 0.80': what a treatment
# changed is the measure, not the treatment named before the verb.
VERB_OBJECT = re.compile(
    r"^(?P<subject>(?:\S+\s+){0,3}?\S+)\s+(?:significantly\s+|also\s+)?"
    r"(?:lowered|reduced|decreased|increased|improved|raised|slowed|attenuated|worsened|prevented|delayed)\s+"
    r"(?:the\s+)?(?P<object>[A-Za-z][^,;()]*?)"
    r"(?=\s*[,;(:]|\s+(?:by|to|from|vs\.?|versus|at|with|compared|in)\b|\s+[-−+~]?\d|$)",
    re.I,
)


def measure_of(clause: str) -> str:
    text = NO_EFFECT_ON.sub("", clause)
    text = re.sub(r"^\s*(?:and|but|with|while)\s+", "", text, flags=re.I)
    acted = VERB_OBJECT.match(text.strip())
    if acted and names_a_measure(acted.group("object")) and len(acted.group("object")) <= 80:
        return acted.group("object").strip(" *_:;,—–-")
    stop = MEASURE_STOP.search(" " + text)
    head = (" " + text)[: stop.start()] if stop else " " + text
    signed = SIGNED_EFFECT.search(head)
    if signed and signed.start() > 0:
        head = head[: signed.start()]
    # 'vertebral fracture 48% lower risk', 'NAD+ 2.6-fold rise'
    change = re.search(r"\s~?\d+(?:\.\d+)?(?:\s*%|[\s-]?fold\b)", head)
    if change and re.search(r"[A-Za-z]", head[: change.start()]):
        head = head[: change.start()]
    head = re.sub(rf"(?:^|\s+)(?:{METRICS})\s*(?:=|:|of)?\s*(?:[{M}+]?\d[\d.]*.*)?$", "", head)
    return head.strip(" *_:;,—–-")


# Words that join a measure to its number: '36% reduction in mortality', 'HR 0.8 for stroke'.
LINK_WORDS = re.compile(
    r"^(?:(?:relative\s+)?(?:risk\s+)?(?:reduction|decrease|increase|lower|higher|fewer|more|change|difference)\s+)?"
    r"(?:in|of|for|on|at)\s+(?:the\s+)?",
    re.I,
)
# A number opening a measure's name is part of it: '28-day mortality', '6-minute walk'.
STATISTIC_WORDS = re.compile(
    rf"\d\s*%|\bCI\b|\b[Pp]\s*[=<>≤≥]|^\W*[{M}+]?\d(?![\d.,]*-[A-Za-z])|\b(?:{METRICS})\s*[=:]?\s*[{M}+]?\d"
)


# Words around a measure that are not the measure: 'reduced IL-6', 'primary
# endpoint disease-free survival', 'ejection fraction ↑', 'mFARS treatment difference'.
MEASURE_LEAD = re.compile(
    r"^(?:(?:`?#gap/\S+`?|[-—–:]|primary|secondary|co-primary|exploratory|notable|key|(?:the\s+)?main|"
    r"endpoints?|outcomes?|findings?|results?|ITT|per-protocol|specifically|significant(?:ly)?|"
    r"no\s+(?:significant\s+)?(?:benefit|effect|change|difference)\s+(?:on|in)(?:\s+the)?|"
    r"improved?|reduced|increased|decreased|lowered|raised|enhanced)\s+)+",
    re.I,
)
MEASURE_TAIL = re.compile(r"(?:\s+(?:treatment|between-group)\s+difference|\s*[Δ↑↓])+$")
NOT_MEASURES = {"difference", "combination", "change", "effect", "result", "primary endpoint", "endpoint"}


def tidy_measure(text: str | None) -> str | None:
    """A measure without the words around it; None when nothing is left or
    what is left is a word such as 'difference'."""
    if not text:
        return text
    tidy = MEASURE_TAIL.sub("", MEASURE_LEAD.sub("", text.strip() + " ").strip()).strip(" :;,—–-")
    return None if not tidy or tidy.lower() in NOT_MEASURES else tidy


def names_a_measure(text: str | None) -> bool:
    """Whether text can be what was measured: words, not a statistic
    ('36%', 'HR 0.82 (95% CI ...)') or a connecting word."""
    if not text or len(re.findall(r"[A-Za-z]", text)) < 2:
        return False
    if re.fullmatch(r"(?:at|in|on|for|after|over|vs|and|with|both|the|primary|secondary)\b.*", text, re.I | re.S):
        return bool(re.match(r"(?:primary|secondary)\s+\w", text, re.I)) and not STATISTIC_WORDS.search(text)
    return not STATISTIC_WORDS.search(text)


def _leftover(text: str, used: list[str | None]) -> str:
    """What a clause says besides its numbers: 'HR 0.72 (95% CI 0.56–0.93),
    p=0.01 (all-cause mortality)' -> 'all-cause mortality'."""
    for raw in used:
        if raw:
            text = text.replace(raw, " ")
    text = re.sub(r"[()\[\],;:=]+", " ", text)
    return " ".join(text.split()).strip(" *_.—–-")


def read_outcome(clause: str, role: str | None = None, measure: str | None = None) -> tuple[Outcome | None, list[str]]:
    """One outcome from a clause such as 'primary endpoint: HbA1c −0.46 pp
    vs placebo (95% CI 0.01–0.90; P=0.03)'. None when the clause carries no
    statistic; problems lists text that looked like a number but did not read."""
    problems: list[str] = []
    text = clause.strip()
    prefix = ROLE_PREFIX.match(text)
    if prefix:
        role = role or prefix.group("role").lower().replace("co-", "")
        text = text[prefix.end() :]
    p = find_p_value(text)
    ci = find_ci(text)
    if p is None and P_LOOKS.search(text):
        problems.append(f"p-value not read: '{P_LOOKS.search(text).group(0)}' in '{clipped(clause)}'")
    if ci is None and CI_LOOKS.search(text):
        problems.append(f"confidence interval not read in '{clipped(clause)}'")
    statistics_text = text
    if ci:
        statistics_text = statistics_text.replace(ci.raw, " ")
    if p:
        statistics_text = statistics_text.replace(p.raw, " ")
    arms = ARM_COMPARISON.search(statistics_text)
    measure_text = text.replace(arms.group(0), " (", 1) if arms else text
    outcome = Outcome(measure=measure or measure_of(measure_text), text=clause.strip(), role=role)
    if arms:
        a, b = parse_number(arms.group("a")), parse_number(arms.group("b"))
        if a is not None and b is not None:
            outcome.arm_a_value, outcome.arm_b_value = a, b
            outcome.arm_unit = _unit(arms.group("unit") or arms.group("unit_b"))
            outcome.arm_raw = arms.group(0).strip()
            statistics_text = statistics_text.replace(arms.group(0), " ")
    effect = EFFECT_METRIC.search(statistics_text)
    if effect and parse_number(effect.group("value") or effect.group("fold")) is not None:
        outcome.effect_metric = effect.group("metric") or "fold ratio"
        outcome.effect_value = parse_number(effect.group("value") or effect.group("fold"))
        outcome.effect_unit = _unit(effect.group("unit"))
        outcome.effect_raw = effect.group(0).strip()
        bare = BARE_INTERVAL.match(statistics_text[effect.end() :]) if ci is None else None
        if bare and None not in (low := parse_number(bare.group("low")), high := parse_number(bare.group("high"))):
            ci = ConfidenceInterval(
                None, low, high, bare.group(0).strip(" ;,")
            )  # 'HR 1.29 (1.02–1.63)': level not stated
    elif outcome.arm_raw is None:
        signed = SIGNED_EFFECT.search(statistics_text) or BY_EFFECT.search(statistics_text)
        change = CHANGE_EFFECT.search(statistics_text) if signed is None else None
        if change:
            outcome.effect_value = float(change.group("value") or change.group("rrr"))
            outcome.effect_unit, outcome.effect_raw = "%", change.group(0).strip()
        elif signed and parse_number(signed.group("value").replace(" ", "")) is not None:
            outcome.effect_value = parse_number(signed.group("value").replace(" ", ""))
            outcome.effect_unit = _unit(signed.group("unit"))
            raw = signed.group(0).strip()
            if outcome.effect_unit is None and signed.group("unit"):
                raw = signed.group("value").strip()
            outcome.effect_raw = raw
    comparator = COMPARATOR.search(text if not arms else text.replace(arms.group(0), " "))
    if comparator:
        outcome.comparison = comparator.group("comparator").strip()
    elif outcome.arm_raw:
        outcome.comparison = outcome.arm_raw
    if ci:
        outcome.ci_level, outcome.ci_low, outcome.ci_high, outcome.ci_raw = ci.level, ci.low, ci.high, ci.raw
    if p:
        outcome.p_operator, outcome.p_value, outcome.p_raw = p.operator, p.value, p.raw
    outcome.direction = find_first(DIRECTIONS, text)
    outcome.measure = tidy_measure(outcome.measure)
    if not names_a_measure(outcome.measure):
        rest = _leftover(text, [outcome.effect_raw, outcome.ci_raw, outcome.p_raw, outcome.arm_raw])
        rest = tidy_measure(LINK_WORDS.sub("", rest))
        outcome.measure = rest if names_a_measure(rest) and len(rest) <= 80 else None
    if role is None and (found := ROLE_WORD.search(text)):
        outcome.role = found.group("role").lower().replace("co-", "")
    settle(outcome)
    return (outcome if outcome.has_statistic else None), problems


# The effect's kind, whatever its spelling: a hazard ratio is 'hr' whether
# written HR or aHR, a standardised difference 'smd' whether SMD or Cohen's d.
METRIC_KINDS = {
    "hr": "hr", "ahr": "hr", "or": "or", "aor": "or", "rr": "rr", "irr": "irr",
    "md": "md", "smd": "smd", "d": "smd", "cohen's d": "smd", "wmd": "wmd",
    "β": "beta", "beta": "beta", "r": "r", "ρ": "r", "rho": "r",
    "hazard ratio": "hr", "odds ratio": "or", "risk ratio": "rr", "relative risk": "rr", "rate ratio": "irr",
}  # fmt: skip
RATIO_KINDS = {"hr", "or", "rr", "irr"}


def settle(outcome: Outcome) -> None:
    """What follows from an outcome's numbers as read: the kind of its
    effect (metric); whether the effect and its interval can be on one scale
    (scale_problem: a flag, the numbers stay as written); and, when no
    word states a direction, the one the numbers state: no-difference when
    the interval holds the null (1 for a ratio, 0 for a difference) or
    p >= 0.05, else the effect's side of the null."""
    written = (outcome.effect_metric or "").strip().lower()
    unit = (outcome.effect_unit or "").strip().lower()
    if written in METRIC_KINDS:
        outcome.metric = METRIC_KINDS[written]
    elif written:
        outcome.metric = "ratio" if "ratio" in written else "other"
    elif outcome.effect_value is not None:
        outcome.metric = "percent" if unit == "%" else "pp" if unit in ("pp", "percentage points") else "difference"
    ratio = outcome.metric in RATIO_KINDS
    low, high, value = outcome.ci_low, outcome.ci_high, outcome.effect_value
    if low is not None and high is not None:
        if value is None:
            outcome.scale_problem = "interval-without-effect"
        elif ratio and min(low, high) <= 0:
            outcome.scale_problem = "ratio-interval-not-positive"
        elif not min(low, high) <= value <= max(low, high):
            outcome.scale_problem = "effect-outside-interval"
    if outcome.direction is None or _not_significant(outcome):
        # A word can say which way a result went; a p of 0.05 or more says it did not differ.
        outcome.direction = _direction_from_numbers(outcome, ratio)


def _not_significant(outcome: Outcome) -> bool:
    return outcome.p_value is not None and outcome.p_operator in ("=", ">", "≥") and outcome.p_value >= 0.05


def _direction_from_numbers(outcome: Outcome, ratio: bool) -> str | None:
    """The direction an outcome's numbers state: no-difference when its
    interval holds the null strictly inside (1 for a ratio, 0 for a
    difference) or p is 0.05 or more; else the side of the null a named
    or signed effect lies on ('d=−0.29', '+2.1 kg', 'HR 0.8'), or, for two
    arms ('43% vs 65%'), the first arm's side of the second."""
    value, low, high = outcome.effect_value, outcome.ci_low, outcome.ci_high
    null = 1.0 if ratio else 0.0
    not_significant = _not_significant(outcome)
    if value is not None and not outcome.scale_problem and low is not None and high is not None:
        not_significant = not_significant or min(low, high) < null < max(low, high)
    if not_significant:
        return "no-difference"
    named = outcome.metric not in (None, "difference", "percent", "pp")
    if value is not None and (named or (outcome.effect_raw or "")[:1] in MINUS + "+"):
        return "increase" if value > null else "decrease" if value < null else None
    a, b = outcome.arm_a_value, outcome.arm_b_value
    if value is None and a is not None and b is not None and a != b:
        return "increase" if a > b else "decrease"
    return None


def read_outcomes(text: str) -> tuple[list[Outcome], list[str]]:
    """Every outcome in a run of ';'-separated results clauses."""
    outcomes, problems = [], []
    for clause in split_clauses(text):
        if SKIP_CLAUSE.match(clause):
            continue
        for part in _split_compound(clause):
            outcome, found = read_outcome(part)
            problems += found
            if outcome:
                outcomes.append(outcome)
    return outcomes, problems

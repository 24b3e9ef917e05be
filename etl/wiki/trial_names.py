"""Parse stage, trial names: what a trial is called in a citation record or
a sentence of prose, the trial a report is part of, an intervention's name
without its dose or schedule, and the species a text names. Pure: text in,
names out."""

from __future__ import annotations

import re

from .trials import ACRONYM, DOSE, unmarked

# A trial's name in a citation record: 'Ridker PM et al. (CANTOS trial)',
# '(WOSCOPS Group)', 'et al. (DOPS)', 'analysis of CANTOS RCT', 'HELIOS-B
# trial', '(REDUCE-IT; icosapent ethyl ...)'. Several words for
# 'ODYSSEY OUTCOMES', 'PROVE-IT TIMI 22', 'NSABP P-1'.
TRIAL_NAME = rf"(?:{ACRONYM})(?:\s+(?:{ACRONYM}|\d+))*"
GROUP_WORDS = r"(?:\s+(?:Study|Research|Collaborative|Cooperative|Trial|Writing))*\s+(?:Investigators|Group|Trialists)"
NAMED_TRIAL = re.compile(
    rf"\((?:the\s+)?(?P<a>{TRIAL_NAME})(?:\s+(?:trial|study|Study|Trial|RCT)|{GROUP_WORDS})\)"
    rf"|et al\.?,?\s*\((?P<b>{TRIAL_NAME})\)"
    rf"|\((?P<c>{TRIAL_NAME});"
    rf"|\b(?:of|from|in)\s+(?:the\s+)?(?P<d>{TRIAL_NAME})\s+(?:RCT|trial|study)\b"
    rf"|(?<![\w-])(?P<e>{TRIAL_NAME})\s+(?:trial|RCT)\b"
    rf"|\bthe\s+(?P<f>{TRIAL_NAME}){GROUP_WORDS}\b"
)
NOT_TRIAL_NAMES = {
    "RCT",
    "RCTS",
    "NCT",
    "II",
    "III",
    "IV",
    "MI",
    "CI",
    "HR",
    "ITT",
    "NS",
    "NIH",
    "FDA",
    "EMA",
    "US",
    "UK",
}


# A name as a trial table's name cell or a bold lead writes it, in mixed case
# too ('STEP-HFpEF', 'TROFFi', 'Can-Prevent-Lung'): at least two capitals.
LOOSE_NAME = r"[A-Z][A-Za-z0-9]*(?:[-/][A-Za-z0-9]+)*"
NAME_BEFORE_ID = re.compile(rf"(?P<name>{LOOSE_NAME})\s*\(\s*(?P<id>NCT\d{{8}})")


def loose_name(text: str) -> str | None:
    """The text, when it is a trial's name in mixed case."""
    text = text.strip()
    # Three capitals or fewer are more often a condition ('IPF', 'CKD', 'AD') than a trial.
    fits = (
        re.fullmatch(LOOSE_NAME, text) and sum(c.isupper() for c in text) >= 2 and not re.fullmatch(r"[A-Z]{2,3}", text)
    )
    return text if fits and text.upper() not in NOT_TRIAL_NAMES and not re.fullmatch(r"NCT\d+", text) else None


def name_before_id(sentence: str, registry_id: str) -> str | None:
    """The name written right before an NCT id in brackets: 'OPTIMA
    (NCT05394116)', '**Can-Prevent-Lung** (NCT04789681)'."""
    for match in NAME_BEFORE_ID.finditer(unmarked(sentence)):
        if match.group("id") == registry_id:
            return loose_name(match.group("name"))
    return None


# A paper reporting part of a trial: 'subgroup analysis of CANTOS RCT',
# 'ancillary analysis of the CATIS trial', 'follow-up of TOHP RCT'.
REPORT_OF = re.compile(
    r"\b(?:analysis|analyses|substudy|sub-study|follow-up|extension|ancillary study)\b"
    r"[^·;]{0,40}?\b(?:of|within|in)\s+(?:the\s+)?"
    rf"(?P<name>{TRIAL_NAME})\s+(?:RCT|trial|study|Trial|Study)\b",
    re.I,
)


def report_of(text: str) -> str | None:
    """The trial a record reports part of (a secondary analysis, a
    follow-up), when it names that trial."""
    match = REPORT_OF.search(unmarked(text))
    name = match.group("name") if match else None
    return name if name and name.upper() not in NOT_TRIAL_NAMES and re.search(r"[A-Z]{2}", name) else None


# A sentence naming a trial as one: 'the COLCOT trial', 'In APPROACH trial',
# 'GAMMA-1 RCT', 'a well-powered RCT (CALERIE-2; ...)'. Stricter than records:
# a bare '(ELISA; ...)' or 'SAPHIR study' in prose is not a trial.
TRIAL_IN_PROSE = re.compile(
    rf"(?<![\w-])(?P<a>{TRIAL_NAME})\s+(?:trial|RCT)\b|\b(?:RCT|trial)\s*\((?P<b>{TRIAL_NAME})[;,)]"
)


def trial_named_in(sentence: str) -> str | None:
    """The trial a sentence of prose names as a trial, if any."""
    plain = unmarked(sentence)
    if "trial" not in plain and "RCT" not in plain:  # the pattern's words: most sentences, searched fast
        return None
    for match in TRIAL_IN_PROSE.finditer(plain):
        name = match.group("a") or match.group("b")
        if name.upper() not in NOT_TRIAL_NAMES and not re.fullmatch(r"NCT\d+|[A-Z]\d*|Phase.*", name):
            return name
    return None


def find_trial_name(text: str) -> str | None:
    """The trial's acronym as a citation record names it, if it does."""
    for match in NAMED_TRIAL.finditer(unmarked(text)):
        name = next(group for group in match.groups() if group)
        if name.upper() not in NOT_TRIAL_NAMES and not re.fullmatch(r"NCT\d+|[A-Z]\d*|Phase.*", name):
            return name
    return None


def term_pattern(vocabulary: list[dict], key: str) -> tuple[re.Pattern, dict[str, str]]:
    """One pattern for every term of a data/vocabularies.yml list whose
    entries name their value under `key`, and the value each term (lower
    case) names; at one place the longest term wins."""
    value_of = {term.lower(): entry[key] for entry in vocabulary for term in entry["terms"]}
    words = sorted(value_of, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w-])", re.I), value_of


def species_pattern(vocabulary: list[dict]) -> tuple[re.Pattern, dict[str, str]]:
    return term_pattern(vocabulary, "species")


def find_term(text: str, pattern: tuple[re.Pattern, dict[str, str]]) -> tuple[str, str] | None:
    """The value the earliest vocabulary term in the text names, and the term as written."""
    regex, value_of = pattern
    match = regex.search(text or "")
    return (value_of[match.group(1).lower()], match.group(1)) if match else None


def find_species(text: str, pattern: tuple[re.Pattern, dict[str, str]]) -> str | None:
    """The species the earliest species term in the text names."""
    found = find_term(text, pattern)
    return found[0] if found else None


# Wording that states a result, not a treatment.
NOT_AN_INTERVENTION = re.compile(  # lower case: 'REDUCE-IT' names a trial
    r"\b(?:[Nn]o |[Ss]ignificant\w*|endpoint|analysis|post-hoc|efficacy|outcome|"
    r"reduc\w+|improv\w+|increas\w+|decreas\w+|primary|secondary)"
)
# What an intervention's wording says besides what it is (shared with the
# trial_terms lookup, etl/corpus/trial_terms.py): parentheticals, doses,
# durations and dosing words.
PARENTHETICAL = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
UNCLOSED = re.compile(r"\s*[(\[][^)\]]*$")  # a cell cut inside its parenthesis: 'rct (REDUCE-IT; icosapent ethyl'
DOSE_UNIT = r"(?:mg/kg|mg|g|µg|μg|ug|mcg|iu|ml|%|pts?)(?:\s*/\s*(?:day|d|g|wk|week))?"
# A dose, a bare number or a per-day unit: looser than trials.DOSE, which reads a dose's value.
DOSE_TEXT = re.compile(
    rf"(?<![\w-])[<≤>≥]?\s*\d[\d.,/–-]*\s*{DOSE_UNIT}(?![\w])|(?<![\w-])\d[\d.,/–-]*(?=\s|$)|\s*/\s*(?:day|d|g)\b", re.I
)
TIMES = r"(?:×|(?<!\S)x(?=[\s\d]))"  # '× 36 wk', 'x 3 mo'; not the x inside 'UBX0101'
DURATION = re.compile(
    rf"(?:\bfor\s+|{TIMES}\s*)?\b\d+[\s-]*(?:weeks?|wks?|wk|months?|mo|years?|yrs?|yr|days?|d|hr|hours?)\b|{TIMES}\s*\d+.*$",
    re.I,
)
DOSING_WORDS = re.compile(
    r"\b(?:alone|orally|daily|twice|once|nightly|b\.i\.d\.?|q\.d\.?|single doses?|single dose|doses?)(?=\W|$)", re.I
)


def strip_parentheticals(text: str) -> str:
    """Text without its bracketed asides, nested ones and an unclosed one too."""
    previous = None
    while previous != text:
        previous, text = text, PARENTHETICAL.sub(" ", text)
    return UNCLOSED.sub("", text)


def without_dosing(text: str) -> str:
    """An intervention's wording without its durations, dosing words and
    doses: 'fisetin 20 mg/kg/day × 2 days' -> 'fisetin'."""
    return DOSE_TEXT.sub(" ", DOSING_WORDS.sub(" ", DURATION.sub(" ", text)))


# A record's label before the name, and the route or form of a dose.
INTERVENTION_LEADS = [
    re.compile(r"^(?:rct|trial|study)\s*\(\s*", re.I),  # 'rct (REDUCE-IT; icosapent ethyl'
    re.compile(rf"^(?:{ACRONYM});\s*"),
    re.compile(r"^\d+\s+doses?\s+", re.I),  # '3 doses canakinumab'
]
ROUTES_AND_FORMS = re.compile(
    r"\b(?:oral|topical|intravenous|subcutaneous|intranasal|inhaled|cream|gel|tablets?|capsules?|single|"
    r"weekly|q\d+\w*|qd|bid|tid|s\.?c\.?|i\.?v\.?|SC|IV)(?=\W|$)|\s/\s?g\b",
    re.I,
)


def intervention_name(text: str | None) -> str | None:
    """An intervention's name from its wording: dose, route, schedule and
    duration left out ('Semaglutide 2.4 mg' -> 'Semaglutide', 'NMN × 10
    weeks' -> 'NMN'); None for wording that is a result, not a treatment."""
    name = unmarked(text or "")
    if not name or NOT_AN_INTERVENTION.search(name):
        return None
    for pattern in INTERVENTION_LEADS:
        name = pattern.sub("", name).strip()
    name = ROUTES_AND_FORMS.sub(" ", without_dosing(strip_parentheticals(name)))
    name = re.sub(r"\s+", " ", name).strip(" ,;:.×-–")
    name = re.sub(r"\s*\+\s*", " + ", name)
    return name if len(re.findall(r"[^\W\d_]", name)) >= 2 else None


# The words right before a dose name what is dosed: 'fenofibrate 200 mg/day',
# 'oral icosapent ethyl 4 g/d'. Words that are not a treatment end the name.
NAME_WORD = r"[A-Za-zα-ωΑ-Ω][\w\-+αβγ']*"
BEFORE_DOSE = re.compile(rf"(?P<name>(?:{NAME_WORD}\s+){{0,2}}{NAME_WORD})\s*$")
NOT_A_NAME = re.compile(
    r"^(?:of|at|with|to|and|or|vs|versus|plus|daily|per|in|on|by|from|for|the|a|an|n|dose[sd]?|placebo|"
    r"mean|median|total|up|low|high|about|approximately|group|arm|each|every|received|given|"
    r"taking|took|containing|weekly|twice|once|oral|orally|topical|intravenous|subcutaneous|combined|"
    r"weeks?|days?|months?|years?|declared|rct|trial|study|mtd|rp2d|mw|egfr|bmi|ldl|hdl|tg|hba1c)$",
    re.I,
)


def dosed_intervention(text: str) -> str | None:
    """The name of what a text doses, from the words before its first dose;
    None when those words name no treatment."""
    plain = unmarked(text or "")
    for match in DOSE.finditer(plain):
        before = BEFORE_DOSE.search(plain[: match.start()])
        if not before:
            continue
        words = before.group("name").split()
        while words and NOT_A_NAME.match(words[0]):
            words.pop(0)  # 'week semaglutide', 'RCT of saracatinib'
        if any(NOT_A_NAME.match(w) for w in words):
            continue
        if words and not any(NOT_A_NAME.match(w) for w in words[-1:]):
            return intervention_name(" ".join(words))
    return None


# Who a trial enrolled, by the condition they have: 'patients with
# hATTR amyloidosis with polyneuropathy', 'adults aged 60–85 with knee
# osteoarthritis'. The condition ends at a clause, a count or a treatment.
CONDITION_WITH = re.compile(
    r"\b(?:patients|adults|men|women|participants|people|subjects|children|individuals|humans|carriers|"
    r"survivors|volunteers|outpatients|veterans)\s+(?:aged\s+[^,;()·]{1,20}?\s+)?with\s+"
    r"(?P<condition>[^;,.()·\[]{3,80}?)"
    r"(?=\s*(?:[;,.()·\[]|$|\b(?:on|receiving|who|randomi[sz]ed|vs|treated|taking|after|at|for|in)\b))",
    re.I,
)


def condition_of(text: str) -> str | None:
    """The condition of the people a text says a trial enrolled, as written."""
    match = CONDITION_WITH.search(unmarked(text or ""))
    condition = match.group("condition").strip(" \"'“”") if match else None
    # A threshold or a result is an inclusion criterion or an outcome: 'TG 200–499 mg/dL'.
    if condition and re.search(r"[<>≥≤]|\d\s*(?:mg|pmol|mmol|µg|m\b|%)|\b(?:showed|score)\b", condition, re.I):
        return None
    return condition or None


# A drug without a page of its own is recognised by the stem of its
# International Nonproprietary Name ('alirocumab', 'vutrisiran',
# 'semagacestat') or by a development code ('AZD4017', 'KT-474').
INN_STEMS = (
    "mab",
    "cept",
    "tinib",
    "anib",
    "rafenib",
    "ciclib",
    "parib",
    "zomib",
    "lisib",
    "degib",
    "gliptin",
    "gliflozin",
    "glitazone",
    "glutide",
    "enatide",
    "patide",
    "pretide",
    "lanotide",
    "melanotide",
    "paratide",
    "vastatin",
    "gacestat",
    "listat",
    "pril",
    "sartan",
    "olol",
    "dipine",
    "siran",
    "rsen",
    "limus",
    "mycin",
    "cycline",
    "floxacin",
    "trozole",
    "dronate",
    "parin",
    "xaban",
    "gatran",
    "kinra",
    "formin",
    "lukast",
    "afil",
    "tegravir",
    "previr",
    "asvir",
    "buvir",
    "lutamide",
    "setron",
    "triptan",
    "semide",
    "prazole",
    "oxetine",
    "methasone",
    "nisolone",
    "sonide",
    "ximab",
    "kinig",
    "tercept",
    "fermin",
    "teplase",
)
# Not inside a link's target or a file name ('[[studies/qin-2026-semaglutide-oa]]').
INN = re.compile(
    r"(?<![\w/-])[A-Za-z][a-z]{2,}(?:" + "|".join(sorted(INN_STEMS, key=len, reverse=True)) + r")(?![\w/-])"
)
NOT_A_DRUG = re.compile(r"^(?:(?i:concept|intercept|percept|precept)|[A-Z]\w*rsen)s?$")  # 'Petersen' is a surname
# Letters, a hyphen or not, then three or more digits: a sponsor's code. Not
# the prefixes of genes, cell lines, registries and databases ('CD206',
# 'HEK293', 'PMC524230', 'CHEMBL196').
DEVELOPMENT_CODE = re.compile(
    r"\b(?!(?:NCT|ISRCTN|ACTRN|PMID|PMC|DRKS|CHICTR|EUDRACT|ICD|ISO|CD|CYP|EP|FIP|ATG|AS|GPR|HEK|HCT|MB|JCI|"
    r"CHEMBL|DB|HSA|WP|GSE|NDA|BLA|MISEV|NFBC|TMEM|RNF|HSP|RAW|SW|BY|HT|TO|AF|PEG|HB|GM|KP|SV|UMR|BT|SCF|RV)"
    r"-?\d)[A-Z]{2,6}-?\d{3,6}[A-Z]?\b"
)


def drugs_named(text: str) -> list[tuple[int, int, str]]:
    """The drugs a text names by an INN stem, in reading order: (start,
    end, words)."""
    return [(m.start(), m.end(), m.group(0)) for m in INN.finditer(text or "") if not NOT_A_DRUG.match(m.group(0))]


def development_code(text: str) -> str | None:
    """The first development code a text names ('AZD4017', 'KT-474')."""
    match = DEVELOPMENT_CODE.search(text or "")
    return match.group(0) if match else None


def slug_words(page: str) -> str:
    """A page id's last part as words: 'molecules/compounds/vitamin-d' -> 'vitamin d'."""
    return page.rsplit("/", 1)[-1].replace("-", " ")

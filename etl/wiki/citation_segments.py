"""What one segment of a footnote record says, read by its shape: an
author list, a journal and its year, a study design, a sample size.

Pure functions of text; etl/wiki/citations.py splits the record into its
' · '-separated segments, decides which segment is which and fills the
Citation. Every pattern is linear: no nested quantifier can backtrack over
a long segment.
"""

from __future__ import annotations

import re

from ..venues import VenueIndex
from .syntax import not_after

# --- names --------------------------------------------------------------------
UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĘĚĞİŁŃŇŐŒŘŚŞŠŢŤŮŰŹŻŽ"
LOWER = "a-zß-öø-ÿāăąćčďđēęěğıłńňőœřśşšţťůűźżž"
PARTICLE = (
    r"(?:[vV]an der|[vV]an den|[vV]an de|[vV]on der|[dD]e la|de los"
    r"|van|von|de|del|della|der|den|la|le|da|di|du|dos|das|ten|ter|el|al|bin|ibn)"
)
# A surname: capitalised words joined by a space, hyphen or apostrophe
# ('Gonzalez-Duarte', "O'Riordan", 'San Filippo'), optionally after a particle.
SURNAME_WORD = rf"[{UPPER}][{LOWER}{UPPER}'’]*[{LOWER}][{LOWER}{UPPER}'’]*"
SURNAME = (
    rf"(?:{PARTICLE}\s|[dD]['’])?{SURNAME_WORD}"
    rf"(?:[-\s'’]{SURNAME_WORD}|-[{LOWER}]+|-[{UPPER}](?![{LOWER}{UPPER}])"
    rf"|\s(?:de|di|du|da|van|von|der|la|le|y)\s{SURNAME_WORD}){{0,2}}"
)
INITIALS = rf"[{UPPER}](?:\.?-?[{UPPER}][a-z]?){{0,3}}\.?"
# 'Del Greco M F': initials spaced apart, taken only before the next name.
NAME_WITH_INITIALS = rf"{SURNAME}\s{INITIALS}(?:\s[{UPPER}](?=\s*[,;&]))?"
ET_AL = r"et\s+al\.?"
# A group named beside people: 'Promislow DEL and DAP Consortium', 'Lei L et al; BRAVO Collaborative Group'.
GROUP_WORDS = (
    r"Consortium|Collaborative Group|Collaboration|Collaborators|Investigators|Study Group|Working Group"
    r"|Research Group|Cooperative Group|Network|Committee|Society|Association|Task Force|Panel"
    r"|Therapeutics|Pharmaceuticals"
)
GROUP_NAME = rf"(?:[{UPPER}\d][\w'’-]*\s){{1,6}}(?:{GROUP_WORDS})\b"
# An affiliation after a name, before the next one: 'Creevy KE (Texas A&M), Akey JM (Princeton)'.
AFFILIATION = r"(?:\s*\((?!\s*(?:18|19|20)\d\d)[^()]{1,80}\))?"
NAME_SEPARATOR = r"(?:,?\s*(?:…|\.{2,3})\s*,?|,|;|&|\band\b|,\s*(?:&|and))"
# 'Dorsheimer L, Assmus B, Rasper T et al.', 'Singh R & Green DR',
# 'Wahl A, van den Akker E et al., Gieger C', 'Adams D, O'Riordan WD, et al.', 'Bakooshli MA,..., Blau HM'
AUTHORS_WITH_INITIALS = re.compile(
    rf"^(?P<names>{NAME_WITH_INITIALS}(?:{AFFILIATION}\s*{NAME_SEPARATOR}\s*{NAME_WITH_INITIALS})*)"
    rf"(?P<etal>,?\s+{ET_AL}(?:,?\s*(?:and\s+|&\s*)?(?P<last>{NAME_WITH_INITIALS}))?)?"
    rf"(?:{AFFILIATION}(?:\s*[,;]\s*|\s+(?:and|&)\s+)(?P<group>{GROUP_NAME})"
    rf"(?P<more>(?:\s*[,;]\s*{NAME_WITH_INITIALS})*))?(?=$|[\s,.;:(\[\"“'])"
)
# 'Savitsky et al.', 'Imai, Guarente', 'Imai & Guarente' (surnames only: only
# taken when followed by 'et al.' or a year, see authors_prefix).
SURNAMES_ONLY = re.compile(
    rf"^(?P<names>{SURNAME}(?:\s*(?:,|&|\band\b)\s*{SURNAME}){{0,3}})(?P<etal>,?\s+{ET_AL})?(?=$|[\s,.;:(\[])"
)
GROUP_AUTHOR = re.compile(
    rf"^(?P<names>(?:The\s)?[{UPPER}\d][\w'’-]*\s(?:(?:[{UPPER}\d][\w'’-]*|for|of|and|on|in|the|&)\s){{0,8}}"
    rf"(?:{GROUP_WORDS}))\b(?P<rest>.*)$"
)
SPLIT_NAMES = re.compile(r"\s*(?:,\s*(?:&|and)\s+|,?\s*(?:…|\.{2,3})\s*,?|,|;|&|\band\b)\s*")

# --- years and journals -------------------------------------------------------
YEAR = r"(?:18|19|20)\d\d"
# A year among volume and pages, not a page number ('32(10):1819-1826').
# Nor a volume before its issue and pages ('Biochim Biophys Acta 1864(4):1220'; 'Cochrane 2021(5)' is a year).
LOOSE_YEAR = re.compile(rf"(?<![\d:–/.-])(?<!\d\()({YEAR})(?![\d–:/-]|\(\d+\)\s*:)")
ISO_DATE = re.compile(rf"\b{YEAR}-\d\d(?:-\d\d)?\b")
# Dates of the wiki's own upkeep, never a work's year.
UPKEEP = re.compile(
    r"\b(?:verified|downloaded|accessed|retrieved|checked|updated|fetched|archived|attempted|searched|read|added|seeded|last)\b[^·]*$",
    re.I,
)
VOLUME_PAGES = (
    r"(?:\d+[A-Za-z]?(?:\s*\([\w\s/–-]+\))?(?::\s*[A-Za-z]?\d+[A-Za-z]?(?:\s*[–-]\s*[A-Za-z]?\d+)?)?"
    r"|[A-Za-z]?\d+(?:\s*[–-]\s*[A-Za-z]?\d+)?)"
)
VENUE_NAME = r"(?P<venue>[^\W\d_][^·;:()\[\]=]*?(?:\s\([A-Z][\w .]{1,20}\))?)"
# 'Nature Aging 2025;5(10):1957-1969', 'Cell 1993', 'JAMA Cardiology 2019;4(1):25-33'
VENUE_THEN_YEAR = re.compile(rf"^{VENUE_NAME}\.?,?\s+\(?(?P<year>{YEAR})\)?(?=$|[\s;:,.)])")
# 'J Biol Chem 277:26733–26740 (2002)', 'J Exp Med 179(3):881–887, 1994', 'Cell Death Differ. 25:486–541'
VENUE_THEN_VOLUME = re.compile(
    rf"^{VENUE_NAME}\.?,?\s+(?:vol\.?\s*)?{VOLUME_PAGES}(?:[,;]?\s*(?:[A-Z][a-z]{{2,8}}\.?\s+)?(?:\d{{1,2}},?\s+)?\(?(?P<year>{YEAR})\)?)?(?:\s*\(.*\))?\.?$"
)
# Words that open a journal-shaped segment without naming a journal.
NOT_A_VENUE = re.compile(
    r"^(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|PMID|PMC|DOI|Level of evidence|Published|Accessed|Updated)\b",
    re.I,
)
ITALIC_THEN_YEAR = re.compile(rf"\*(?P<name>[^*·]{{2,80}})\*[,.]?\s+\(?(?P<year>{YEAR})\)?(?P<volume>\s*[;(]\s*\d)?")
ITALIC = re.compile(r"\*{1,2}([^*]{2,120}?)\*{1,2}")
LOWERCASE_JOURNALS = ("npj ", "eLife", "mBio", "iScience", "bioRxiv", "medRxiv", "eNeuro", "mSphere", "mSystems")

# --- designs ------------------------------------------------------------------
GENERIC_DESIGN_HEAD = re.compile(r"\b(?:experimental|experiment|study|mechanistic|comparative|preclinical|genetics)\b")
RANDOMISED = re.compile(r"(?<![\w-])(?:randomi[sz]ed|rcts?)(?![\w-])", re.I)
DESIGN_LABEL = re.compile(r"^(?:study\s+)?design\s*:\s*", re.I)
ANIMAL_MODEL = re.compile(
    r"\b(?:mice|mouse|murine|rodents?|crustaceans?|rats?|C57BL|Mus musculus|Rattus|worms?|C\. elegans"
    r"|Caenorhabditis|Drosophila|flies|fly|zebrafish|Danio|killifish|Nothobranchius|yeast|Saccharomyces"
    r"|dogs?|Canis|monkeys?|macaques?|primates?|pigs?|hamsters?|rabbits?|naked mole-rats?|Heterocephalus"
    r"|bats?|hydra|planarians?)\b",
    re.I,
)
CELL_MODEL = re.compile(
    r"\b(?:cells?|cell lines?|cultures?|in vitro|in-vitro|fibroblasts|HEK293\w*|HeLa|organoids?|iPSCs?"
    r"|recombinant|purified|biochemical|crystal structure|cryo-EM)\b",
    re.I,
)

# --- sample sizes -------------------------------------------------------------
N_VALUE = re.compile(not_after(r"[\w/]", "[nN]") + r"\s*=\s*[~≈]?\s*(\d{1,3}(?:,\d{3})+|\d+)(?![\d,.]*\d)")
# What after 'n=N' shows it is not the number of participants: a range or a
# per-group count, a count of trials, studies, cell lines or clones, or a
# sum of groups with no total ('n=27 cases + 24 controls').
N_NOT_A_TOTAL = re.compile(
    r"^\s*(?:[–-]\s*\d|/|per\b|each\b|in each\b|a group\b)"
    r"|^\s*(?:(?-i:[A-Z])[\w-]*\s*/\s*\d|[\w-]*\s*/\s*(?:group|arm|genotype|condition|sex))"
    r"|^\+?\s*(?:[\w-]+[\s-]){0,2}(?:RCTs?|trials?|studies|cohorts|meta-analys[ie]s|datasets|countries|sites"
    r"|centres|centers|cell lines?|lines|clones|families|pedigrees|traits|replicates|biopsies|per arm|per group)\b",
    re.I,
)
PARTICIPANTS_BESIDE = re.compile(
    r"^\s*(?:[\w-]+\s){0,2}(?:studies|trials|RCTs|cohorts|biopsies),\s*(\d{1,3}(?:,\d{3})+|\d+)\s+(?:adults|participants|patients|subjects|individuals|people|women|men)\b",
    re.I,
)


def looks_like_journal(venue: str, italic: bool = False) -> bool:
    """Whether a venue string reads as a journal name rather than authors,
    a date or a fragment of results. A name set in italics may hold commas
    ('Cancer Epidemiology, Biomarkers & Prevention')."""
    if (
        re.search(r"[\d=;]|\bet al\b|\bcited\b|\bverified\b", venue)
        or len(venue.split()) > 10
        or ("," in venue and not italic)
    ):
        return False
    return venue[:1].isupper() or venue.startswith(LOWERCASE_JOURNALS)


def surname(name: str) -> str:
    """'Zhuravleva EYu' -> 'Zhuravleva'; a name without initials is kept."""
    match = re.match(rf"^(?P<surname>.+?)\s{INITIALS}(?:\s[{UPPER}])?$", name.strip())
    return match.group("surname") if match else name.strip()


def authors_prefix(segment: str) -> tuple[list[str], str, str] | None:
    """(names, the authors as written, the rest of the segment) when the
    segment opens with an author list."""
    match = AUTHORS_WITH_INITIALS.match(segment)
    if match:
        without_affiliations = re.sub(r"\s*\([^()]*\)", "", match.group("names"))
        names = [n for n in SPLIT_NAMES.split(without_affiliations) if n.strip()]
        names += [match.group(group) for group in ("last", "group") if match.group(group)]
        # names after the group: '...; NIH SenNet Consortium; Robbins P, Fan R'
        names += [n for n in SPLIT_NAMES.split(match.group("more") or "") if n.strip()]
        rest = segment[match.end() :]
        # One 'Word AB' followed by prose is a phrase ('Triple KO HSCs ...'),
        # not an author: a lone author stands alone or before a year, a
        # parenthesis, a quoted title or a journal.
        if (
            len(names) > 1
            or match.group("etal")
            or not rest.strip()
            or re.match(r"^[\s,.;:]*(?:\(|[\"“*]|(?:18|19|20)\d\d\b|$)", rest)
            or venue_and_year(rest.strip(" ,.;"), None)
        ):
            return [n.strip().rstrip(".") for n in names], match.group(0).strip(), rest
    match = SURNAMES_ONLY.match(segment)
    if match:
        names = [n.strip() for n in SPLIT_NAMES.split(match.group("names")) if n.strip()]
        rest = segment[match.end() :]
        several = len(names) > 1
        # A lone capitalised word is a surname only when 'et al.' or a year
        # follows; 'Cell 1993' is a journal, 'Imai, Guarente 2014' authors.
        if match.group("etal") or (several and re.match(rf"^,?\s*\(?{YEAR}\b", rest)):
            return names, match.group(0).strip(), rest
    match = GROUP_AUTHOR.match(segment)
    if match and len(match.group("names")) < 120:
        return [match.group("names").strip()], match.group("names").strip(), match.group("rest")
    return None


# One surname each, not an institution ('(Aarhus University Hospital, Denmark)').
CO_AUTHOR = rf"(?:{PARTICLE}\s)?{SURNAME_WORD}(?:-{SURNAME_WORD})?"
CO_AUTHORS = re.compile(rf"^(?P<names>{CO_AUTHOR}(?:\s*,\s*{CO_AUTHOR})+)(?:,?\s+{ET_AL})?$")
# A database cited by its entry: 'UniProt Q00978 (IRF9_HUMAN)', 'GenAge entry 39 (MYC)'.
DATABASE_ID = re.compile(r"^\s+(?:entry\s+\w+|[A-Z][A-Z0-9]*\d[A-Z0-9]*)\b")


def co_authors(inside: str) -> list[str] | None:
    """Surnames listed in a parenthesis after the first author, 'et al.'
    allowed at the end: '(Bacqueville, Bogdanowicz, Haure, Duprat, et al.)'."""
    match = CO_AUTHORS.match(inside.strip())
    return [name.strip() for name in match.group("names").split(",")] if match else None


def database_entry(segment: str, venues: VenueIndex | None) -> str | None:
    """The declared database a segment cites an entry of, or None."""
    leading = venues.leading_venue(segment) if venues else None
    return leading if leading and DATABASE_ID.match(segment[len(leading) :]) else None


def venue_and_year(text: str, venues: VenueIndex | None) -> tuple[str | None, int | None, bool] | None:
    """(venue, year, confident) when the text is a journal reference such as
    'Nature Aging 2025;5(10):1957-1969' or 'J Biol Chem 277:26733 (2002)'."""
    text = text.strip().rstrip(".")
    # A declared journal wins, so 'Periodontology 2000 2019;80:7' is not 'Periodontology' of 2000.
    if (
        venues
        and (leading := venues.leading_venue(text))
        and (after := text[len(leading) :])
        and re.match(r"^[\s.,;:]*(?:\(?(?:18|19|20)\d\d\b|\d|$)", after)
    ):
        year = LOOSE_YEAR.search(after.split("(", 1)[0] if after.lstrip().startswith("(") else after)
        return leading, int(year.group(1)) if year else None, True
    for pattern in (VENUE_THEN_YEAR, VENUE_THEN_VOLUME):
        match = pattern.match(text)
        if not match:
            continue
        venue = match.group("venue").strip().rstrip(".,; ")
        year = int(match.group("year")) if match.group("year") else None
        if (
            not venue
            or len(venue) > 120
            or UPKEEP.search(venue)
            or re.search(r"\b(?:et al|n=|p[<=])", venue, re.I)
            or NOT_A_VENUE.match(venue)
        ):
            continue
        known = venues.lookup(venue) if venues else None
        if known or looks_like_journal(venue):
            return venue, year, bool(known) or looks_like_journal(venue)
    return None


def italic_venue(raw_segment: str, venues: VenueIndex | None) -> str | None:
    """A journal name set in italics: '*J Clin Endocrinol Metab* 105(11):...'.
    Species names ('*Mus musculus*') are not journals."""
    match = ITALIC.search(raw_segment)
    if not match or match.start() > 3:
        return None
    name = match.group(1).strip().rstrip(".")
    words = name.split()
    if (
        len(words) in (2, 3)
        and words[0][:1].isupper()
        and all(w.islower() for w in words[1:])
        and not (venues and venues.lookup(name))
    ):
        return None  # a binomial: Homo sapiens, Canis lupus familiaris
    if venues and venues.lookup(name):
        return name
    after = raw_segment[match.end() :].strip()
    if looks_like_journal(name, italic=True) and (
        not after or re.match(rf"^[,;.]?\s*(?:\(?{YEAR}\b|\d|vol\b|e\d)", after)
    ):
        return name
    return None


def journal_anywhere(text: str, venues: VenueIndex | None) -> tuple[str, int] | None:
    """A journal reference inside another segment ('model: dogs; *J Gerontol A*
    2026 (81(4):glaf279)'): an italic name followed by a year, taken only
    when the name is a declared journal or volume and pages follow."""
    for match in ITALIC_THEN_YEAR.finditer(text):
        name = match.group("name").strip().rstrip(".")
        if (venues and venues.lookup(name)) or match.group("volume"):
            return name, int(match.group("year"))
    return None


class DesignPatterns(list):
    """(pattern, design) for each wording of the vocabulary, longest wording
    first, and `any`: one pattern that matches wherever one of them does,
    so text that names no design is searched once, not once per wording."""

    def __init__(self, pairs: list[tuple[str, str]]):
        super().__init__((re.compile(rf"(?<![\w-]){re.escape(wording)}(?![\w-])"), design) for wording, design in pairs)
        self.any = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(wording) for wording, _ in pairs) + r")(?![\w-])")


def _design_lookup(study_designs: list[dict]) -> DesignPatterns:
    pairs = []
    for entry in study_designs:
        for synonym in entry["synonyms"]:
            pairs.append((synonym.lower(), entry["design"]))
    pairs.sort(key=lambda pair: -len(pair[0]))  # longest wording first
    return DesignPatterns(pairs)


_DESIGN_CACHE: dict[tuple, DesignPatterns] = {}


def design_patterns(study_designs: list[dict]) -> DesignPatterns:
    """The vocabulary's wordings as compiled patterns, compiled once per
    vocabulary (keyed by its content, so another vocabulary never reuses them)."""
    key = tuple((entry["design"], tuple(entry["synonyms"])) for entry in study_designs)
    if key not in _DESIGN_CACHE:
        _DESIGN_CACHE[key] = _design_lookup(study_designs)
    return _DESIGN_CACHE[key]


def _designs_in(text: str, designs: DesignPatterns) -> list[tuple[int, str]]:
    """(where, design) of every wording found in text."""
    if not designs.any.search(text):
        return []
    return [(match.start(), design) for pattern, design in designs if (match := pattern.search(text))]


def classify_design(segment: str, designs: DesignPatterns) -> str | None:
    """Design of a short segment such as 'rct', 'in-vitro (cDNA cloning)',
    'double-blind RCT' or 'design: systematic review + network
    meta-analysis'; None when the segment is not a design statement. Where
    several designs are named ('in-vivo + in-vitro'), the first one written.
    A generic head ('experimental (ex vivo)', 'comparative study
    (non-randomized)', 'expression study (rat)') is read by its parenthesis."""
    labelled = DESIGN_LABEL.match(segment)
    text = segment[labelled.end() :] if labelled else segment
    head = re.split(r"[(;:,]", text, maxsplit=1)[0].strip().lower()
    if not head:
        return None
    found = _designs_in(head, designs)
    if not found:
        if (
            GENERIC_DESIGN_HEAD.search(head)
            and len(head.split()) <= 4
            and (inside := re.match(r"[^(;]*[(;]\s*([^();]{2,80})", text))
        ):
            found = _designs_in(inside.group(1).lower(), designs)
            # 'preclinical (mouse burn model + in-vitro cells)': the animals come first.
            if animals := ANIMAL_MODEL.search(inside.group(1)):
                found.append((animals.start(), "in-vivo"))
            if not found and (from_model := infer_design_from_model(inside.group(1))):
                return from_model
        if not found:
            return None
    start, design = min(found, key=lambda item: item[0])
    if design == "clinical-trial" and RANDOMISED.search(head):
        design = "rct"  # 'Phase 1b randomised double-blind', 'open-label RCT': randomised is the design
    # 'in-vivo (human, phase 1 trial)': a trial in people, named in the parenthesis.
    if (
        design == "in-vivo"
        and (inside := re.match(r"[^(]*\(([^()]{2,80})\)", text))
        and re.search(r"\b(?:human|patients?|participants?)\b", inside.group(1), re.I)
    ):
        trial = [
            (m.start(), d)
            for pattern, d in designs
            if (m := pattern.search(inside.group(1).lower())) and d in ("rct", "clinical-trial")
        ]
        if trial:
            return min(trial)[1]
    # A long segment states a design only when it opens with one.
    if len(head.split()) > 6 and not labelled and start > 0:
        return None
    return design


def infer_design_from_model(model: str) -> str | None:
    """A record with no design segment but an animal or cell model reports
    an experiment in that model ('in vitro' named outright wins)."""
    if re.search(r"\bin[ -]vitro\b", model, re.I):
        return "in-vitro"
    if ANIMAL_MODEL.search(model):
        return "in-vivo"
    if CELL_MODEL.search(model):
        return "in-vitro"
    return None


def depth_at(text: str, position: int) -> int:
    """How many parentheses are open at `position`."""
    depth = 0
    for character in text[:position]:
        depth += character == "("
        depth -= character == ")" and depth > 0
    return depth


def _sums_groups(after: str) -> bool:
    """Whether the words after 'n=N' add another group at the same level
    ('+ 24 controls', '(6 groups) + n=21 humans'), with no total."""
    depth = 0
    for position, character in enumerate(after[:100]):
        if character in ";·":
            return False
        depth += character == "("
        depth -= character == ")" and depth > 0
        if character == "+" and depth == 0 and re.match(r"\+\s*(?:[\w-]+\s){0,5}(?:n\s*=\s*)?\d", after[position:]):
            return True
    return False


def sample_size(text: str, segments: list[str]) -> tuple[int | None, str | None]:
    """The record's one clear total: the first n=N, unless what follows it
    shows a range, a per-group count, a count of trials or studies, or a sum
    of groups; unless it sits among other n= in one parenthesis without
    being called the total; unless the same clause states another n. Later
    n= values in other clauses or in parentheses are usually its subsets."""
    for segment in segments:
        match = N_VALUE.search(segment)
        if not match:
            continue
        written = segment.strip()
        after = segment[match.end(1) :]
        clause = segment[match.start() :].split(";", 1)[0]
        others = {
            int(m.group(1).replace(",", "")) for m in N_VALUE.finditer(clause) if depth_at(clause, m.start()) == 0
        }
        if depth_at(segment, match.start()):
            start = segment.rfind("(", 0, match.start())
            inside = segment[
                start : segment.find(")", match.start()) if ")" in segment[match.start() :] else len(segment)
            ]
            if len(N_VALUE.findall(inside)) > 1 and not re.match(r"^\s*total\b", after):
                return None, written
        # 'n=12 randomized, n=8 completers': the randomised are the total.
        randomised = re.match(r"^\s*(?:randomi[sz]ed|enrolled)\b", after)
        if N_NOT_A_TOTAL.match(after) or _sums_groups(after) or (len(others) > 1 and not randomised):
            # 'n=25 studies, 63,842 adults': the participants stand beside the studies.
            if people := PARTICIPANTS_BESIDE.match(after):
                return int(people.group(1).replace(",", "")), written
            return None, written
        return int(match.group(1).replace(",", "")), written
    return None, None

"""Footnote citation records: ``doi:... · authors · journal year · design ·
n=... · results · model: ...``.

Pure: one function from record text to parsed fields. Segment order varies
across the wiki, so each ' · '-separated segment is recognised by its shape,
not its position. The grammar as read here is written out in
docs/citations.md; tests/gold/footnotes.jsonl measures it.

Every pattern is linear: no nested quantifier can backtrack over a long
segment, and at most MAX_FIELD_SEGMENT characters of a segment are read.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .syntax import BARE_DOI, DOI, PAGE_LINK, VALID_DOI, clean_doi, mask_code
from .venues import VenueIndex

SEGMENT_SPLIT = re.compile(r"\s+·\s+")
MAX_FIELD_SEGMENT = 1000

# --- identifiers -------------------------------------------------------------
# Identifiers are captured loosely and validated against their scheme's
# pattern later, so a malformed one is reported rather than missed (DOIs:
# etl/wiki/syntax.py).
PMID = re.compile(r"\bPMID:?\s*(\d+)\b", re.IGNORECASE)
PMC = re.compile(r"\bPMC(?:ID)?\s*:?\s*(?:PMC)?\s?(\d{4,9})\b")
ISBN = re.compile(r"\bISBN:?\s*((?:97[89][-\s]?)?(?:\d[-\s]?){9}[\dX])\b")

# --- names -------------------------------------------------------------------
UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĘĚĞİŁŃŇŐŒŘŚŞŠŢŤŮŰŹŻŽ"
LOWER = "a-zß-öø-ÿāăąćčďđēęěğıłńňőœřśşšţťůűźżž"
PARTICLE = r"(?:[vV]an der|[vV]an den|[vV]an de|[vV]on der|[dD]e la|de los|van|von|de|del|della|der|den|la|le|da|di|du|dos|das|ten|ter|el|al|bin|ibn)"
# A surname: capitalised words joined by a space, hyphen or apostrophe
# ('Gonzalez-Duarte', "O'Riordan", 'San Filippo'), optionally after a particle.
SURNAME_WORD = rf"[{UPPER}][{LOWER}{UPPER}'’]*[{LOWER}][{LOWER}{UPPER}'’]*"
SURNAME = rf"(?:{PARTICLE}\s|[dD]['’])?{SURNAME_WORD}(?:[-\s'’]{SURNAME_WORD}|-[{LOWER}]+|-[{UPPER}](?![{LOWER}{UPPER}])|\s(?:de|di|du|da|van|von|der|la|le|y)\s{SURNAME_WORD}){{0,2}}"
INITIALS = rf"[{UPPER}](?:\.?-?[{UPPER}][a-z]?){{0,3}}\.?"
NAME_WITH_INITIALS = rf"{SURNAME}\s{INITIALS}"
ET_AL = r"et\s+al\.?"
# 'Dorsheimer L, Assmus B, Rasper T et al.', 'Singh R & Green DR',
# 'Wahl A, van den Akker E et al., Gieger C', 'Adams D, O'Riordan WD, et al.'
AUTHORS_WITH_INITIALS = re.compile(
    rf"^(?P<names>{NAME_WITH_INITIALS}(?:\s*(?:,\s*(?:…|\.\.\.)|,|;|&|\band\b|,\s*(?:&|and))\s*{NAME_WITH_INITIALS})*)"
    rf"(?P<etal>,?\s+{ET_AL}(?:,?\s*(?:and\s+|&\s*)?(?P<last>{NAME_WITH_INITIALS}))?)?(?=$|[\s,.;:(\[\"“'])"
)
# 'Savitsky et al.', 'Imai, Guarente', 'Imai & Guarente' (surnames only: only
# taken when followed by 'et al.' or a year, see _authors_prefix).
SURNAMES_ONLY = re.compile(
    rf"^(?P<names>{SURNAME}(?:\s*(?:,|&|\band\b)\s*{SURNAME}){{0,3}})(?P<etal>,?\s+{ET_AL})?(?=$|[\s,.;:(\[])"
)
GROUP_AUTHOR = re.compile(
    rf"^(?P<names>(?:The\s)?[{UPPER}\d][\w'’-]*\s(?:(?:[{UPPER}\d][\w'’-]*|for|of|and|on|in|the|&)\s){{0,8}}(?:Consortium|Collaboration|Collaborators|Investigators|Study Group|Working Group|Research Group|Cooperative Group|Network|Committee|Society|Association|Task Force|Panel))\b(?P<rest>.*)$"
)
SPLIT_NAMES = re.compile(r"\s*(?:,\s*(?:&|and)\s+|,\s*(?:…|\.\.\.)|,|;|&|\band\b)\s*")

# --- years, venues, designs, sizes ------------------------------------------
YEAR = r"(?:18|19|20)\d\d"
# A year among volume and pages, not a page number ('32(10):1819-1826').
LOOSE_YEAR = re.compile(rf"(?<![\d:–/.-])(?<!\d\()({YEAR})(?![\d–:/-])")
ISO_DATE = re.compile(rf"\b{YEAR}-\d\d(?:-\d\d)?\b")
# Dates of the wiki's own upkeep, never a work's year.
UPKEEP = re.compile(
    r"\b(?:verified|downloaded|accessed|retrieved|checked|updated|fetched|archived|attempted|searched|read|added|seeded|last)\b[^·]*$",
    re.I,
)
YEAR_SEGMENT = re.compile(rf"^\(?(?P<year>{YEAR})[a-z]?\)?(?:\s*\((?:published|epub|online|print)[^)]*\))?\.?$", re.I)
VOLUME_PAGES = r"(?:\d+[A-Za-z]?(?:\s*\([\w\s/–-]+\))?(?::\s*[A-Za-z]?\d+[A-Za-z]?(?:\s*[–-]\s*[A-Za-z]?\d+)?)?|[A-Za-z]?\d+(?:\s*[–-]\s*[A-Za-z]?\d+)?)"
VENUE_NAME = r"(?P<venue>[^\W\d_][^·;:()\[\]=]*?(?:\s\([A-Z][\w .]{1,20}\))?)"
# 'Nature Aging 2025;5(10):1957-1969', 'Cell 1993', 'JAMA Cardiology 2019;4(1):25-33'
VENUE_THEN_YEAR = re.compile(rf"^{VENUE_NAME}\.?,?\s+\(?(?P<year>{YEAR})\)?(?=$|[\s;:,.)])")
# 'J Biol Chem 277:26733–26740 (2002)', 'J Exp Med 179(3):881–887, 1994', 'Cell Death Differ. 25:486–541'
VENUE_THEN_VOLUME = re.compile(
    rf"^{VENUE_NAME}\.?,?\s+(?:vol\.?\s*)?{VOLUME_PAGES}(?:[,;]?\s*(?:[A-Z][a-z]{{2,8}}\.?\s+)?(?:\d{{1,2}},?\s+)?\(?(?P<year>{YEAR})\)?)?(?:\s*\(.*\))?\.?$"
)
VOLUME_AND_PAGES = re.compile(r"\b\d+(?:\s*\([\w\s/–-]+\))?:\s*[A-Za-z]?\d+")
# Words that open a journal-shaped segment without naming a journal.
NOT_A_VENUE = re.compile(
    r"^(?:January|February|March|April|May|June|July|August|September|October|November|December|PMID|PMC|DOI|Level of evidence|Published|Accessed|Updated)\b",
    re.I,
)
ITALIC_THEN_YEAR = re.compile(rf"\*(?P<name>[^*·]{{2,80}})\*[,.]?\s+\(?(?P<year>{YEAR})\)?(?P<volume>\s*[;(]\s*\d)?")
PREPRINT = re.compile(r"\b(bioRxiv|medRxiv|arXiv|Research Square|SSRN)\b", re.I)
ITALIC = re.compile(r"\*{1,2}([^*]{2,120}?)\*{1,2}")
N_VALUE = re.compile(r"(?<![\w/])[nN]\s*=\s*[~≈]?\s*(\d{1,3}(?:,\d{3})+|\d+)(?![\d,.]*\d)")
# What after 'n=N' shows it is not the number of participants: a range or a
# per-group count, a count of trials, studies, cell lines or clones, or a
# sum of groups with no total ('n=27 cases + 24 controls').
N_NOT_A_TOTAL = re.compile(
    r"^\s*(?:[–-]\s*\d|/|per\b|each\b|in each\b|a group\b)"
    r"|^\s*(?:(?-i:[A-Z])[\w-]*\s*/\s*\d|[\w-]*\s*/\s*(?:group|arm|genotype|condition|sex))"
    r"|^\+?\s*(?:[\w-]+[\s-]){0,2}(?:RCTs?|trials?|studies|cohorts|meta-analys[ie]s|datasets|countries|sites|centres|centers|cell lines?|lines|clones|families|pedigrees|traits|per arm|per group)\b",
    re.I,
)
PARTICIPANTS_BESIDE = re.compile(
    r"^\s*(?:[\w-]+\s){0,2}(?:studies|trials|RCTs|cohorts),\s*(\d{1,3}(?:,\d{3})+|\d+)\s+(?:adults|participants|patients|subjects|individuals|people|women|men)\b",
    re.I,
)
P_VALUE = re.compile(
    r"(?<![\w])[Pp]\s*(?:[<>=≤≥]|&lt;|&gt;)\s*(?:0|[1-9]\d*)?\.?\d+(?:\s*[x×]\s*10\s*[⁻−-]?\s*\d+)?|(?<![\w])ns(?![\w])"
)
CITATIONS = re.compile(r"(\d[\d,]*)\s+citations\b", re.IGNORECASE)
RETRACTED = re.compile(r"\bRETRACTED\b")
QUOTED_TITLE = re.compile(r"[\"“](?P<title>[^\"”]{8,400})[\"”]")
GENERIC_DESIGN_HEAD = re.compile(r"\b(?:experimental|experiment|study|mechanistic|comparative)\b")
DESIGN_LABEL = re.compile(r"^(?:study\s+)?design\s*:\s*", re.I)
MODEL_LABEL = re.compile(r"^model\s*:\s*", re.I)
ANIMAL_MODEL = re.compile(
    r"\b(?:mice|mouse|murine|rodents?|crustaceans?|rats?|C57BL|Mus musculus|Rattus|worms?|C\. elegans|Caenorhabditis|Drosophila|flies|fly|zebrafish|Danio|killifish|Nothobranchius|yeast|Saccharomyces|dogs?|Canis|monkeys?|macaques?|primates?|pigs?|hamsters?|rabbits?|naked mole-rats?|Heterocephalus|bats?|hydra|planarians?)\b",
    re.I,
)
CELL_MODEL = re.compile(
    r"\b(?:cells?|cell lines?|cultures?|in vitro|in-vitro|fibroblasts|HEK293\w*|HeLa|organoids?|iPSCs?|recombinant|purified|biochemical|crystal structure|cryo-EM)\b",
    re.I,
)

LOWERCASE_JOURNALS = ("npj ", "eLife", "mBio", "iScience", "bioRxiv", "medRxiv", "eNeuro", "mSphere", "mSystems")


@dataclass
class Citation:
    segments: int = 0
    doi: str | None = None
    pmid: str | None = None
    pmc: str | None = None
    isbn: str | None = None
    study_link: str | None = None  # first [[studies/...]] target as written
    wikilinks: list[str] = field(default_factory=list)  # every [[target]] in the record, in order
    authors: str | None = None  # the authors as written
    author_names: list[str] = field(default_factory=list)  # 'Surname I' (or 'Surname' where no initials are given)
    author_surnames: list[str] = field(default_factory=list)
    first_author: str | None = None
    author_note: str | None = None  # what follows the names in parentheses: lab, trial acronym, '50+ co-authors'
    title: str | None = None
    venue: str | None = None
    venue_confident: bool = False  # a journal name, not a fragment of prose
    year: int | None = None
    design: str | None = None
    design_text: str | None = None
    n: int | None = None
    n_text: str | None = None
    p_value_text: str | None = None
    model: str | None = None
    retracted: bool = False
    citation_count: int | None = None
    parse_status: str = "unparsed"
    missing: list[str] = field(default_factory=list)  # what a complete record would add: identifier, authors, year
    malformed: list[tuple[str, str]] = field(default_factory=list)  # (scheme, text) that failed its pattern
    more_identifiers: list[tuple[str, str]] = field(default_factory=list)  # (scheme, value) after the first of each

    def as_dict(self) -> dict:
        return asdict(self)


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


def _strip_markup(segment: str) -> str:
    return segment.replace("**", "").replace("*", "").replace("__", "").strip(" _—–-").strip()


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
            if not found and (from_model := infer_design_from_model(inside.group(1))):
                return from_model
        if not found:
            return None
    start, design = min(found, key=lambda item: item[0])
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


def _identifiers(text: str, citation: Citation) -> None:
    """Every identifier in the record; the first of each scheme is the
    work's (a later DOI is typically a retraction notice or erratum)."""
    dois = [(m.start(1), m.group(1)) for m in DOI.finditer(text)]
    taken = {start for start, _ in dois}
    dois += [(m.start(1), m.group(1)) for m in BARE_DOI.finditer(text) if m.start(1) not in taken]
    found = [("doi", start, clean_doi(value)) for start, value in dois]
    found += [("pmid", m.start(), m.group(1)) for m in PMID.finditer(text)]
    found += [("pmc", m.start(), "PMC" + m.group(1)) for m in PMC.finditer(text)]
    found += [("isbn", m.start(), re.sub(r"[-\s]", "", m.group(1))) for m in ISBN.finditer(text)]
    checks = {"doi": VALID_DOI.fullmatch, "pmid": lambda v: len(v) <= 9, "pmc": bool, "isbn": bool}
    for scheme, _, value in sorted(found, key=lambda item: item[1]):
        if not checks[scheme](value):
            citation.malformed.append((scheme, value))
        elif getattr(citation, scheme) is None:
            setattr(citation, scheme, value)
        else:  # every occurrence is kept: an identifier written twice gives two identifier rows
            citation.more_identifiers.append((scheme, value))


def _surname(name: str) -> str:
    """'Zhuravleva EYu' -> 'Zhuravleva'; a name without initials is kept."""
    match = re.match(rf"^(?P<surname>.+?)\s{INITIALS}$", name.strip())
    return match.group("surname") if match else name.strip()


def _authors_prefix(segment: str) -> tuple[list[str], str, str] | None:
    """(names, the authors as written, the rest of the segment) when the
    segment opens with an author list."""
    match = AUTHORS_WITH_INITIALS.match(segment)
    if match:
        names = [n for n in SPLIT_NAMES.split(match.group("names")) if n.strip()]
        if match.group("last"):
            names.append(match.group("last"))
        rest = segment[match.end() :]
        # One 'Word AB' followed by prose is a phrase ('Triple KO HSCs ...'),
        # not an author: a lone author stands alone or before a year, a
        # parenthesis, a quoted title or a journal.
        if (
            len(names) > 1
            or match.group("etal")
            or not rest.strip()
            or re.match(r"^[\s,.;:]*(?:\(|[\"“*]|(?:18|19|20)\d\d\b|$)", rest)
            or _venue_and_year(rest.strip(" ,.;"), None)
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


def _read_rest_of_authors(rest: str, citation: Citation, venues: VenueIndex | None) -> None:
    """After the names: '(lab note)', a year, '(Venue vol:pages)', a title."""
    rest = rest.strip(" ,.;")
    while rest:
        if paren := re.match(r"^\((?P<inside>[^()]*(?:\([^()]*\)[^()]*)*)\)\s*", rest):
            inside = paren.group("inside").strip()
            venue_year = _venue_and_year(inside, venues)
            if re.fullmatch(rf"{YEAR}[a-z]?", inside):
                citation.year = citation.year or int(inside[:4])
            elif venue_year and venue_year[0] and (venue_year[1] or venue_year[2]):
                citation.venue = citation.venue or venue_year[0]
                citation.venue_confident = citation.venue_confident or venue_year[2]
                citation.year = citation.year or venue_year[1]
            else:
                citation.author_note = citation.author_note or inside
            rest = rest[paren.end() :].strip(" ,.;")
            continue
        if year := re.match(rf"^(?P<year>{YEAR})[a-z]?\b\.?\s*", rest):
            citation.year = citation.year or int(year.group("year"))
            rest = rest[year.end() :].strip(" ,.;")
            continue
        if title := QUOTED_TITLE.match(rest):
            citation.title = citation.title or title.group("title").strip().rstrip(".")
            rest = rest[title.end() :].strip(" ,.;")
            continue
        break
    if rest and citation.venue is None:
        venue_year = _venue_and_year(rest, venues)
        if venue_year and venue_year[0] and (venue_year[1] or venue_year[2]):
            citation.venue, year, citation.venue_confident = venue_year
            citation.year = citation.year or year
        elif venues and (leading := venues.leading_venue(rest)):
            citation.venue, citation.venue_confident = leading, True  # 'Montagne A et al. 2020 Nature — ...'


def _venue_and_year(text: str, venues: VenueIndex | None) -> tuple[str | None, int | None, bool] | None:
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


def _italic_venue(raw_segment: str, venues: VenueIndex | None) -> str | None:
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


def _journal_anywhere(text: str, venues: VenueIndex | None) -> tuple[str, int] | None:
    """A journal reference inside another segment ('model: dogs; *J Gerontol A*
    2026 (81(4):glaf279)'): an italic name followed by a year, taken only
    when the name is a declared journal or volume and pages follow."""
    for match in ITALIC_THEN_YEAR.finditer(text):
        name = match.group("name").strip().rstrip(".")
        if (venues and venues.lookup(name)) or match.group("volume"):
            return name, int(match.group("year"))
    return None


def _depth_at(text: str, position: int) -> int:
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


def _sample_size(text: str, segments: list[str]) -> tuple[int | None, str | None]:
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
            int(m.group(1).replace(",", "")) for m in N_VALUE.finditer(clause) if _depth_at(clause, m.start()) == 0
        }
        if _depth_at(segment, match.start()):
            start = segment.rfind("(", 0, match.start())
            inside = segment[
                start : segment.find(")", match.start()) if ")" in segment[match.start() :] else len(segment)
            ]
            if len(N_VALUE.findall(inside)) > 1 and not re.match(r"^\s*total\b", after):
                return None, written
        if N_NOT_A_TOTAL.match(after) or _sums_groups(after) or len(others) > 1:
            # 'n=25 studies, 63,842 adults': the participants stand beside the studies.
            if people := PARTICIPANTS_BESIDE.match(after):
                return int(people.group(1).replace(",", "")), written
            return None, written
        return int(match.group(1).replace(",", "")), written
    return None, None


def parse_citation(record: str, study_designs: list[dict], venues: VenueIndex | None = None) -> Citation:
    """Parse one footnote record into a Citation."""
    designs = design_patterns(study_designs)
    citation = Citation()
    text = record.strip()
    segments = [s for s in SEGMENT_SPLIT.split(text) if s.strip()]
    citation.segments = len(segments)
    citation.retracted = bool(RETRACTED.search(text))
    # Text in a code span is quoted, not cited ('user-supplied DOI `10.x/y` was incorrect').
    _identifiers(mask_code(text), citation)
    citation.wikilinks = [m.group(1).strip() for m in PAGE_LINK.finditer(text)]
    citation.study_link = next(
        (target for target in citation.wikilinks if re.match(r"^(?:[\w.-]+/)*studies/", target)), None
    )
    if match := CITATIONS.search(text):
        citation.citation_count = int(match.group(1).replace(",", ""))
    citation.n, citation.n_text = _sample_size(text, segments)
    if match := P_VALUE.search(text):
        citation.p_value_text = match.group(0)

    standalone_years: list[int] = []
    subjects = None  # an animal named in an n= segment ('n=40 UM-HET3 mice')
    previous_unclaimed = None  # a short segment nothing claimed, kept in case a lone year follows
    for raw_segment in segments:
        raw = RETRACTED.sub("", raw_segment[:MAX_FIELD_SEGMENT]).replace("****", "").strip(" _—–-:")
        segment = _strip_markup(raw)
        if not segment:
            continue
        lowered = segment.lower()
        if MODEL_LABEL.match(segment):
            citation.model = citation.model or segment[MODEL_LABEL.match(segment).end() :].strip()
            previous_unclaimed = None
            continue
        if ISO_DATE.search(segment) and UPKEEP.search(segment) or UPKEEP.match(segment):
            previous_unclaimed = None
            continue  # upkeep notes: 'PDF verified 2026-06-03'
        is_statistic = bool(re.match(r"^[np]\s*[=<>≤]|^n\s*/\s*a\b", lowered))
        if citation.authors is None and not is_statistic:
            italic = _italic_venue(raw, venues)
            prefix = None if italic or (venues and venues.starts_with_venue(segment)) else _authors_prefix(segment)
            if prefix:
                names, written, rest = prefix
                citation.authors = written
                citation.author_names = names
                citation.author_surnames = [_surname(n) for n in names]
                citation.first_author = names[0] if names else None
                _read_rest_of_authors(rest, citation, venues)
                previous_unclaimed = None
                continue
        if (
            citation.venue is None
            and not DOI.search(segment)
            and not is_statistic
            and (claimed := _read_venue_segment(raw, segment, citation, venues, designs))
        ):
            previous_unclaimed = claimed[1]
            continue
        if is_statistic:
            _read_statistic_segment(segment, citation, designs)
            subjects = subjects or (animals.group(0) if (animals := ANIMAL_MODEL.search(segment)) else None)
            previous_unclaimed = None
            continue
        if _read_design_segment(segment, citation, designs, venues):
            previous_unclaimed = None
            continue
        if year_only := YEAR_SEGMENT.match(segment):
            standalone_years.append(int(year_only.group("year")))
            if previous_unclaimed and citation.venue is None:
                name = _venue_and_year(previous_unclaimed + " " + year_only.group("year"), venues)
                if name:
                    citation.venue, citation.venue_confident = name[0], name[2]
            previous_unclaimed = None
            continue
        if citation.title is None and (title := QUOTED_TITLE.fullmatch(segment.strip())):
            citation.title = title.group("title").strip().rstrip(".")
            continue
        if not subjects and N_VALUE.search(segment) and (animals := ANIMAL_MODEL.search(segment)):
            subjects = animals.group(0)
        short = (
            len(segment) <= 80
            and not DOI.search(segment)
            and not PAGE_LINK.search(segment)
            and not PMID.search(segment)
        )
        previous_unclaimed = segment if short else None
    _fill_from_elsewhere(citation, text, venues, standalone_years, subjects)
    citation.parse_status, citation.missing = completeness(citation, bool(citation.study_link))
    return citation


def _read_venue_segment(
    raw: str, segment: str, citation: Citation, venues: VenueIndex | None, designs
) -> tuple[bool, str | None] | None:
    """Read a journal reference ('*Nature Aging* 2025;5:1957', 'Cell Death
    Differ. 25:486', 'Science', 'preprint (bioRxiv)'); returns (True, the
    segment a lone year may still complete) when the segment was one."""
    italic = _italic_venue(raw, venues)
    venue_year = _venue_and_year(segment, venues)
    if italic:
        citation.venue, citation.venue_confident = italic, True
        year = venue_year[1] if venue_year else None
        if year is None and (trailing := LOOSE_YEAR.search(segment[len(italic) :])) and not ISO_DATE.search(segment):
            year = int(trailing.group(1))
        citation.year = citation.year or year
        return True, segment
    known = bool(venues and venue_year and venues.lookup(venue_year[0]))
    # 'RCT 2019' is a design and a year, not a journal; 'Name 25:486–541' is a journal.
    cited_like_a_journal = bool(venue_year and (venue_year[1] or VOLUME_AND_PAGES.search(segment)))
    if venue_year and (known or (cited_like_a_journal and classify_design(venue_year[0], designs) is None)):
        citation.venue, year, citation.venue_confident = venue_year
        citation.year = citation.year or year
        return True, segment if year is None else None
    preprint = PREPRINT.search(segment)
    if venues and (venues.lookup(segment) or (preprint and venues.lookup(preprint.group(1)))):
        citation.venue = segment if venues.lookup(segment) else preprint.group(1)
        citation.venue_confident = True
        return True, segment
    return None


def _read_statistic_segment(segment: str, citation: Citation, designs) -> None:
    """A design stated beside the sample size: 'n/a (review)', 'n=55 studies
    (meta-analysis)', 'n=22 women ...; 6-week crossover RCT'."""
    if citation.design is not None:
        return
    candidates = [
        inside.group(1)
        for inside in [re.search(r"\(([^()]{3,40})\)", segment)]
        if inside and len(inside.group(1).split()) <= 3
    ]
    candidates += [clause for clause in segment.split(";")[1:] if len(clause.split()) <= 6]
    for candidate in candidates:
        if design := classify_design(candidate.strip(), designs):
            citation.design, citation.design_text = design, segment
            return


def _read_design_segment(segment: str, citation: Citation, designs, venues: VenueIndex | None) -> bool:
    """The record's design, and a journal its parenthesis may name ('review
    (Nat Rev Mol Cell Biol)', 'review (Cell 2012)'); True when it was read."""
    if not (DESIGN_LABEL.match(segment) or citation.design is None):
        return False
    design = classify_design(segment, designs)
    if not design or citation.design is not None:
        return False
    citation.design, citation.design_text = design, segment
    inside = re.search(r"\(([^()]{2,80})\)", segment)
    if citation.venue is None and inside:
        cited = _venue_and_year(inside.group(1), venues)
        if cited and (cited[1] or (venues and venues.lookup(cited[0]))):
            citation.venue, year, citation.venue_confident = cited
            citation.year = citation.year or year
        elif venues and venues.lookup(inside.group(1)):
            citation.venue, citation.venue_confident = inside.group(1).strip(), True
    return True


def _fill_from_elsewhere(
    citation: Citation, text: str, venues: VenueIndex | None, standalone_years: list[int], subjects: str | None
) -> None:
    """What no segment gave by its shape: a lone year, a journal inside
    another segment, a design from the model or the animals counted."""
    if citation.year is None and standalone_years:
        citation.year = standalone_years[0]
    if citation.venue is None and (cited := _journal_anywhere(text, venues)):
        citation.venue, year = cited
        citation.venue_confident = True
        citation.year = citation.year or year
    if citation.design is None and citation.model:
        citation.design = infer_design_from_model(citation.model)
        citation.design_text = f"model: {citation.model}" if citation.design else None
    if citation.design is None and subjects:
        citation.design, citation.design_text = "in-vivo", citation.n_text


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


def completeness(citation: Citation, links_a_study: bool) -> tuple[str, list[str]]:
    """parsed: an identifier plus authors and year, or a link to a study
    page (whose frontmatter, where the page is in the snapshot, supplies the
    rest; a link to an absent page is reported as wikilink-missing);
    partial: some of them; unparsed: none. Also what is missing, for the
    warnings."""
    identified = bool(citation.doi or citation.pmid or citation.pmc or citation.isbn)
    if links_a_study:
        return "parsed", []
    missing = [
        name
        for name, present in (
            ("identifier", identified),
            ("authors", bool(citation.author_names)),
            ("year", citation.year is not None),
        )
        if not present
    ]
    if not missing:
        return "parsed", []
    return ("partial" if len(missing) < 3 else "unparsed"), missing

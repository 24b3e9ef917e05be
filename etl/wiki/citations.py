"""Footnote citation records: ``doi:... · authors · journal year · design ·
n=... · results · model: ...``.

Pure: one function from record text to parsed fields. Segment order varies
across the wiki, so each ' · '-separated segment is recognised by its shape,
not its position: etl/wiki/citation_segments.py reads what one segment says
(authors, journal and year, design, sample size); this module reads the
record, its identifiers, and decides which segment is which. A record written
as sentences is cut into its sentences and clauses and read the same way;
etl/wiki/citation_prose.py reads what sentences say that no segment gave (a
work named in a sentence, a design in a clause, n in words). The grammar as
read here is written out in docs/citations.md; tests/gold/footnotes.jsonl and
tests/gold/footnotes_styles.jsonl measure it.

Every pattern is linear: no nested quantifier can backtrack over a long
segment, and at most MAX_FIELD_SEGMENT characters of a segment are read.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from ..venues import VenueIndex
from .citation_prose import (
    count_in_words,
    design_from_result,
    design_in_clauses,
    journal_in_clauses,
    named_work,
    sentences,
)
from .citation_segments import (
    ANIMAL_MODEL,
    DESIGN_LABEL,
    ISO_DATE,
    LOOSE_YEAR,
    N_VALUE,
    UPKEEP,
    YEAR,
    authors_prefix,
    classify_design,
    co_authors,
    database_entry,
    design_patterns,
    infer_design_from_model,
    italic_venue,
    journal_anywhere,
    sample_size,
    surname,
    venue_and_year,
)
from .syntax import BARE_DOI, DOI, PAGE_LINK, VALID_DOI, clean_doi, mask_code, not_after

SEGMENT_SPLIT = re.compile(r"\s+·\s+")
MAX_FIELD_SEGMENT = 1000

# Identifiers are captured loosely and validated against their scheme's
# pattern later, so a malformed one is reported rather than missed (DOIs:
# etl/wiki/syntax.py).
PMID = re.compile(r"\bPMID:?\s*(\d+)\b", re.IGNORECASE)
PMC = re.compile(not_after(r"\w", "PMC") + r"(?:ID)?\s*:?\s*(?:PMC)?\s?(\d{4,9})\b")
ISBN = re.compile(not_after(r"\w", "ISBN") + r":?\s*((?:97[89][-\s]?)?(?:\d[-\s]?){9}[\dX])\b")

# --- the record ---------------------------------------------------------------
YEAR_SEGMENT = re.compile(rf"^\(?(?P<year>{YEAR})[a-z]?\)?(?:\s*\((?:published|epub|online|print)[^)]*\))?\.?$", re.I)
VOLUME_AND_PAGES = re.compile(r"\b\d+(?:\s*\([\w\s/–-]+\))?:\s*[A-Za-z]?\d+")
PREPRINT = re.compile(r"\b(bioRxiv|medRxiv|arXiv|Research Square|SSRN)\b", re.I)
P_VALUE = re.compile(
    not_after(r"\w", "[Pp]")
    + r"\s*(?:[<>=≤≥]|&lt;|&gt;)\s*(?:0|[1-9]\d*)?\.?\d+(?:\s*[x×]\s*10\s*[⁻−-]?\s*\d+)?|"
    + not_after(r"\w", "ns")
    + r"(?![\w])"
)
CITATIONS = re.compile(r"(\d[\d,]*)\s+citations\b", re.IGNORECASE)
RETRACTED = re.compile(not_after(r"\w", "RETRACTED") + r"\b")
QUOTED_TITLE = re.compile(r"[\"“](?P<title>[^\"”]{8,400})[\"”]")
MODEL_LABEL = re.compile(r"^model\s*:\s*", re.I)
HUMANS_OR_CELLS = re.compile(r"\bhumans?\b|\bpatients?\b|\bin[ -]vitro\b", re.I)
N_WRITTEN = re.compile(r"(?<![\w/])n\s*=", re.I)  # 'n=' in any form: the record states n that way
IDENTIFIER_NOTE = re.compile(r"\bdoi\b|\bPMID\b|\b10\.\d{4,9}/", re.I)


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


def _strip_markup(segment: str) -> str:
    return segment.replace("**", "").replace("*", "").replace("__", "").strip(" _—–-").strip()


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


def _read_rest_of_authors(rest: str, citation: Citation, venues: VenueIndex | None) -> None:
    """After the names: '(lab note)', a year, '(Venue vol:pages)', a title."""
    rest = rest.strip(" ,.;")
    while rest:
        if paren := re.match(r"^\((?P<inside>[^()]*(?:\([^()]*\)[^()]*)*)\)\s*", rest):
            inside = paren.group("inside").strip()
            venue_year = venue_and_year(inside, venues)
            if re.fullmatch(rf"{YEAR}[a-z]?", inside):
                citation.year = citation.year or int(inside[:4])
            elif venue_year and venue_year[0] and (venue_year[1] or venue_year[2]):
                citation.venue = citation.venue or venue_year[0]
                citation.venue_confident = citation.venue_confident or venue_year[2]
                citation.year = citation.year or venue_year[1]
            elif venues and citation.venue is None and venues.lookup(inside):  # '(Nature)'
                citation.venue, citation.venue_confident = inside, True
            elif names := co_authors(inside):  # 'Rouvrais C et al. (Bacqueville, Bogdanowicz, et al.)'
                # '(Farooqi, Keogh, Yeo, ...)' may repeat the first author.
                names = [name for name in names if name not in citation.author_surnames[:1]]
                citation.author_names += names
                citation.author_surnames += names
            elif not IDENTIFIER_NOTE.search(inside):
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
        venue_year = venue_and_year(rest, venues)
        if venue_year and venue_year[0] and (venue_year[1] or venue_year[2]):
            citation.venue, year, citation.venue_confident = venue_year
            citation.year = citation.year or year
        elif venues and (leading := venues.leading_venue(rest)):
            citation.venue, citation.venue_confident = leading, True  # 'Montagne A et al. 2020 Nature — ...'


def _read_whole_record(text: str, segments: list[str], citation: Citation) -> None:
    """What is read from the record as a whole, wherever it is written:
    identifiers, links, a retraction, a citation count, n and a p-value."""
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
    citation.n, citation.n_text = sample_size(text, segments)
    if match := P_VALUE.search(text):
        citation.p_value_text = match.group(0)


def _read_authors_segment(raw: str, segment: str, citation: Citation, venues: VenueIndex | None) -> bool:
    """The record's authors, when the segment opens with them (and is not a
    journal reference); True when it does."""
    italic = italic_venue(raw, venues)
    prefix = None if italic or (venues and venues.starts_with_venue(segment)) else authors_prefix(segment)
    if not prefix:
        return False
    names, written, rest = prefix
    citation.authors = written
    citation.author_names = names
    citation.author_surnames = [surname(n) for n in names]
    citation.first_author = names[0] if names else None
    _read_rest_of_authors(rest, citation, venues)
    return True


def parse_citation(record: str, study_designs: list[dict], venues: VenueIndex | None = None) -> Citation:
    """Parse one footnote record into a Citation."""
    designs = design_patterns(study_designs)
    citation = Citation()
    text = record.strip()
    segments = [s for s in SEGMENT_SPLIT.split(text) if s.strip()]
    # A record written as prose is read sentence by sentence, clause by clause.
    prose = len(segments) == 1
    parts = sentences(text) if prose else segments
    _read_whole_record(text, parts, citation)
    citation.segments = len(segments)

    standalone_years: list[int] = []
    subjects = None  # an animal named in an n= segment ('n=40 UM-HET3 mice')
    previous_unclaimed = None  # a short segment nothing claimed, kept in case a lone year follows
    for raw_segment in parts:
        raw = RETRACTED.sub("", raw_segment[:MAX_FIELD_SEGMENT]).replace("****", "").strip(" _—–-:")
        segment = _strip_markup(raw)
        if not segment:
            continue
        if _read_labelled_segment(segment, citation, venues):
            previous_unclaimed = None
            continue
        is_statistic = bool(re.match(r"^[np]\s*[=<>≤]|^n\s*/\s*a\b", segment.lower()))
        # In prose, names are read where a sentence cites them (named_work), not wherever a clause opens.
        if not prose and citation.authors is None and not is_statistic:
            if _read_authors_segment(raw, segment, citation, venues):
                previous_unclaimed = None
                continue
        if prose and not is_statistic and authors_prefix(segment):
            previous_unclaimed = None
            continue  # names, not a journal: 'Chen & Parmigiani 2007 PMID ...'
        if (
            citation.venue is None
            and not DOI.search(segment)
            and not is_statistic
            and (claimed := _read_venue_segment(raw, segment, citation, venues, designs, prose))
        ):
            previous_unclaimed = claimed[1]
            continue
        if is_statistic:
            _read_statistic_segment(segment, citation, designs)
            subjects = subjects or _animals_counted(segment)
            previous_unclaimed = None
            continue
        if not prose and _read_design_segment(segment, citation, designs, venues):
            previous_unclaimed = None
            continue
        if year_only := YEAR_SEGMENT.match(segment):
            standalone_years.append(int(year_only.group("year")))
            if previous_unclaimed and citation.venue is None:
                name = venue_and_year(previous_unclaimed + " " + year_only.group("year"), venues)
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
    _fill_from_elsewhere(citation, text, parts, venues, designs, (standalone_years, subjects))
    citation.parse_status, citation.missing = completeness(citation, bool(citation.study_link))
    return citation


def _read_labelled_segment(segment: str, citation: Citation, venues: VenueIndex | None) -> bool:
    """A model, a database entry or an upkeep note; True when the segment was one."""
    if model := MODEL_LABEL.match(segment):
        citation.model = citation.model or segment[model.end() :].strip()
        return True
    if citation.venue is None and (database := database_entry(segment, venues)):
        citation.venue, citation.venue_confident = database, True  # 'UniProt Q00978 (IRF9_HUMAN), accessed ...'
        return True
    # upkeep notes: 'PDF verified 2026-06-03'
    return bool(ISO_DATE.search(segment) and UPKEEP.search(segment) or UPKEEP.match(segment))


def _animals_counted(segment: str) -> str | None:
    """The animals an n= segment counts, before any people or cells: not
    'n=human post-mortem brains + mouse infection model'."""
    counted = ANIMAL_MODEL.search(segment)
    if counted and (other := HUMANS_OR_CELLS.search(segment)) and other.start() < counted.start():
        return None
    return counted.group(0) if counted else None


def _read_venue_segment(
    raw: str, segment: str, citation: Citation, venues: VenueIndex | None, designs, prose: bool = False
) -> tuple[bool, str | None] | None:
    """Read a journal reference ('*Nature Aging* 2025;5:1957', 'Cell Death
    Differ. 25:486', 'Science', 'preprint (bioRxiv)'); returns (True, the
    segment a lone year may still complete) when the segment was one. In
    prose only a declared journal or one in italics is read: a sentence
    opening 'Li 1997 demonstrated ...' names an author."""
    italic = italic_venue(raw, venues)
    if italic and prose and not (venues and venues.lookup(italic)) and not re.search(r"\d", segment[len(italic) :]):
        italic = None  # '**Existence confirmed via secondary citation** — ...' is emphasis
    venue_year = venue_and_year(segment, venues)
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
    journal_like = cited_like_a_journal and not prose and classify_design(venue_year[0], designs) is None
    if venue_year and (known or journal_like):
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
        cited = venue_and_year(inside.group(1), venues)
        if cited and (cited[1] or (venues and venues.lookup(cited[0]))):
            citation.venue, year, citation.venue_confident = cited
            citation.year = citation.year or year
        elif venues and venues.lookup(inside.group(1)) and inside.group(1)[:1].isupper():
            # 'review (Cell)' names a journal; 'in-vivo (human genetics)' a field.
            citation.venue, citation.venue_confident = inside.group(1).strip(), True
    return True


def _fill_from_elsewhere(
    citation: Citation, text: str, parts: list[str], venues: VenueIndex | None, designs, found: tuple
) -> None:
    """What no segment gave by its shape: a lone year, a work named inside a
    sentence, a journal inside another segment or clause, a design stated
    in a clause, by the model, by the animals counted or by a result's subjects."""
    standalone_years, subjects = found
    if citation.year is None and standalone_years:
        citation.year = standalone_years[0]
    if citation.authors is None and (named := named_work(text, venues)):
        names, citation.authors, rest = named
        citation.author_names, citation.author_surnames = names, [surname(n) for n in names]
        citation.first_author = names[0]
        _read_rest_of_authors(rest, citation, venues)
    if citation.venue is None and (cited := journal_anywhere(text, venues) or journal_in_clauses(parts, venues)):
        citation.venue, year = cited
        citation.venue_confident = True
        citation.year = citation.year or year
    if citation.design is None and (stated := design_in_clauses(parts, designs)):
        citation.design, citation.design_text = stated
    if citation.design is None and citation.model:
        citation.design = infer_design_from_model(citation.model)
        citation.design_text = f"model: {citation.model}" if citation.design else None
    if citation.design is None and subjects:
        citation.design, citation.design_text = "in-vivo", citation.n_text
    # n in words, when the record writes no 'n=': 'RCT (903 adults)', '9 studies / 219 patients';
    # a review's counts are the reviewed studies' people.
    if not N_WRITTEN.search(text) and citation.design != "review" and (in_words := count_in_words(text)):
        citation.n, citation.n_text = in_words
    names_a_work = citation.doi or citation.pmid or citation.author_names or citation.study_link
    if citation.design is None and names_a_work and (result := design_from_result(text)):
        citation.design, citation.design_text = result


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

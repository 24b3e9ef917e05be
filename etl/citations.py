"""Footnote citation records: ``doi:... · authors · journal year · design ·
n=... · results · model: ...``.

Pure: one function from record text to parsed fields. Segment order varies
across the wiki, so each segment is recognised by its shape, not position.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

SEGMENT_SPLIT = re.compile(r"\s+·\s+")
# Identifiers are captured loosely and validated against their scheme's
# pattern later, so a malformed one is reported rather than missed.
DOI = re.compile(r"(?:\bdoi:\s*|https?://(?:dx\.)?doi\.org/)([^\s·]+)", re.IGNORECASE)
PMID = re.compile(r"\bPMID:?\s*(\d+)\b", re.IGNORECASE)
VALID_DOI = re.compile(r"10\.\d{4,9}/\S+")
PMC = re.compile(r"\b(PMC\d+)\b")
ISBN = re.compile(r"\bISBN:?\s*((?:97[89][-\s]?)?(?:\d[-\s]?){9}[\dX])\b")
STUDY_LINK = re.compile(r"\[\[((?:[\w.-]+/)*studies/[^\]|#]+)(?:#[^\]|]*)?(?:\|[^\]]*)?\]\]")
PARTICLE = r"(?:van|von|de|del|della|der|den|la|le|da|di|du|dos|ten|ter)"
AUTHOR = rf"(?:{PARTICLE}\s)?[A-Z][\w'’.-]*(?:[ -](?:{PARTICLE}|[A-Z][\w'’.-]*))*\s[A-Z](?:-?[A-Z]){{0,3}}"
AUTHOR_NAME = re.compile(rf"^{AUTHOR}$")
AUTHORS_SEGMENT = re.compile(
    rf"^{AUTHOR}(?:,\s*{AUTHOR})*(?:,?\s+(?:et al\.?|(?:and|&)\s+{AUTHOR}))?"
    rf"(?:\s*\((?!(?:18|19|20)\d\d\)).*\))?(?:,?\s+\(?(?P<year>(?:18|19|20)\d\d)\)?)?\.?$"
)
VENUE_YEAR = re.compile(r"^\*?(?P<venue>[^*A-Za-z]{0,3}[A-Za-z][^*]*?)\*?,?\s+(?P<year>(?:18|19|20)\d\d)\b")
MAX_FIELD_SEGMENT = 1000
YEAR_ONLY = re.compile(r"^\(?(?P<year>(?:18|19|20)\d\d)\)?$")
VENUE_TRAILING_YEAR = re.compile(r"^\*?(?P<venue>[A-Za-z][^*\d(]*?)\*?\s+[\d(].*\((?P<year>(?:18|19|20)\d\d)\)$")
N_VALUE = re.compile(r"\bn\s*=\s*(\d{1,3}(?:,\d{3})+|\d+)\b", re.IGNORECASE)
P_VALUE = re.compile(r"(?<![\w])[Pp]\s*(?:[<>=≤≥]|&lt;|&gt;)\s*(?:0|[1-9]\d*)?\.?\d+(?:\s*[x×]\s*10\s*[⁻−-]?\s*\d+)?|(?<![\w])ns(?![\w])")
CITATIONS = re.compile(r"(\d[\d,]*)\s+citations\b", re.IGNORECASE)
RETRACTED = re.compile(r"\bRETRACTED\b")


@dataclass
class Citation:
    segments: int = 0
    doi: str | None = None
    pmid: str | None = None
    pmc: str | None = None
    isbn: str | None = None
    study_link: str | None = None
    authors: str | None = None
    author_names: list[str] = field(default_factory=list)
    first_author: str | None = None
    venue: str | None = None
    venue_confident: bool = False  # venue and year stood together in one segment
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
    malformed: list[tuple[str, str]] = field(default_factory=list)  # (scheme, text) that failed its pattern
    more_identifiers: list[tuple[str, str]] = field(default_factory=list)  # (scheme, value) after the first of each

    def as_dict(self) -> dict:
        return asdict(self)


LOWERCASE_JOURNALS = ("npj ", "eLife", "mBio", "iScience", "bioRxiv", "medRxiv", "eNeuro", "mSphere", "mSystems")


def looks_like_journal(venue: str) -> bool:
    """Whether a venue string reads as a journal name rather than authors,
    a date or a fragment of results; only such names are compared across
    citations of one work."""
    if re.search(r"[\d=,;&]|\bet al\b|\bcited\b|\bverified\b", venue) or len(venue.split()) > 8:
        return False
    return venue[:1].isupper() or venue.startswith(LOWERCASE_JOURNALS)


def clean_doi(doi: str) -> str:
    """Trim punctuation that ends a sentence rather than the DOI; keep
    parentheses that balance (e.g. Wiley SICI DOIs)."""
    doi = doi.rstrip(".,;:*_")
    while doi.endswith(")") and doi.count(")") > doi.count("("):
        doi = doi[:-1].rstrip(".,;:")
    while doi.endswith("]") and doi.count("]") > doi.count("["):
        doi = doi[:-1]
    return doi


IDENTIFIER_FINDERS = [
    ("doi", DOI, VALID_DOI.fullmatch, clean_doi),
    ("pmid", PMID, lambda v: len(v) <= 9, str),
    ("pmc", PMC, bool, str),
    ("isbn", ISBN, bool, lambda v: re.sub(r"[-\s]", "", v)),
]


def _strip_markup(segment: str) -> str:
    return segment.strip().strip("*_ ").replace("**", "").strip()


def _design_lookup(study_designs: list[dict]) -> list[tuple[str, str]]:
    pairs = []
    for entry in study_designs:
        for synonym in entry["synonyms"]:
            pairs.append((synonym.lower(), entry["design"]))
    pairs.sort(key=lambda pair: -len(pair[0]))  # longest wording first
    return pairs


def classify_design(segment: str, designs: list[tuple[str, str]]) -> str | None:
    """Design of a short segment such as 'rct', 'in-vitro (cDNA cloning)' or
    'double-blind RCT'; None when the segment is not a design statement."""
    head = re.split(r"[(;:]", segment, maxsplit=1)[0].strip().lower()
    if not head or len(head.split()) > 6:
        return None
    for wording, design in designs:
        if re.search(rf"(?<![\w-]){re.escape(wording)}(?![\w-])", head):
            return design
    return None


def parse_citation(record: str, study_designs: list[dict]) -> Citation:
    """Parse one footnote record into a Citation."""
    designs = _design_lookup(study_designs)
    citation = Citation()
    text = record.strip()
    segments = [s for s in SEGMENT_SPLIT.split(text) if s.strip()]
    citation.segments = len(segments)
    citation.retracted = bool(RETRACTED.search(text))

    # Every identifier in the record is kept; the first of each scheme is
    # the work's (a later DOI is typically a retraction notice or erratum).
    for scheme, pattern, valid, normalise in IDENTIFIER_FINDERS:
        for match in pattern.finditer(text):
            value = normalise(match.group(1))
            if not valid(value):
                citation.malformed.append((scheme, value))
            elif getattr(citation, scheme) is None:
                setattr(citation, scheme, value)
            else:
                citation.more_identifiers.append((scheme, value))
    if match := STUDY_LINK.search(text):
        citation.study_link = match.group(1).strip()
    if match := CITATIONS.search(text):
        citation.citation_count = int(match.group(1).replace(",", ""))
    if match := N_VALUE.search(text):
        citation.n = int(match.group(1).replace(",", ""))
        citation.n_text = next((s.strip() for s in segments if match.group(0) in s), match.group(0))
    if match := P_VALUE.search(text):
        citation.p_value_text = match.group(0)

    authors_index = None
    unclassified_before = None  # the previous segment, when nothing claimed it
    for index, raw_segment in enumerate(segments):
        # Fields sit at the start of a segment; reading at most the first
        # MAX_FIELD_SEGMENT characters bounds the cost of the patterns below.
        segment = _strip_markup(RETRACTED.sub("", raw_segment[:MAX_FIELD_SEGMENT]).lstrip(" —-"))
        if citation.authors is None and (authors := AUTHORS_SEGMENT.match(segment)):
            citation.authors = segment
            named = re.split(r",?\s+et al\.?|\s*\(|,?\s+\(?(?:18|19|20)\d\d\)?\.?$", segment)[0]
            names = [n.strip() for n in re.split(r",\s*|\s+(?:and|&)\s+", named) if n.strip()]
            citation.author_names = [n for n in names if AUTHOR_NAME.match(n)]
            citation.first_author = citation.author_names[0] if citation.author_names else None
            if authors.group("year") and citation.year is None:
                citation.year = int(authors.group("year"))
            authors_index = index
            unclassified_before = None
            continue
        near_authors = authors_index is not None and index <= authors_index + 2
        if citation.year is None and (near_authors or index <= 4):
            venue_year = VENUE_YEAR.match(segment) or VENUE_TRAILING_YEAR.match(segment)
            if venue_year and not DOI.search(segment) and not segment.lower().startswith(("n=", "n ", "model:")):
                venue = venue_year.group("venue").strip().strip("*,; ")
                if venue and (citation.authors or not AUTHOR_NAME.match(venue)) and classify_design(segment, designs) is None:
                    citation.venue = venue
                    citation.venue_confident = looks_like_journal(venue)
                    citation.year = int(venue_year.group("year"))
                    unclassified_before = None
                    continue
            if year_only := YEAR_ONLY.match(segment):
                citation.year = int(year_only.group("year"))
                if unclassified_before and citation.venue is None:
                    citation.venue = unclassified_before
                unclassified_before = None
                continue
        if citation.design is None:
            design = classify_design(segment, designs)
            if design:
                citation.design = design
                citation.design_text = segment
                continue
        if citation.model is None and segment.lower().startswith("model:"):
            citation.model = segment[len("model:") :].strip()
            unclassified_before = None
            continue
        is_identifier = DOI.search(segment) or STUDY_LINK.search(segment) or PMID.search(segment)
        unclassified_before = None if is_identifier or len(segment) > 80 else segment

    identified = bool(citation.doi or citation.pmid or citation.pmc or citation.isbn or citation.study_link)
    found = [identified, citation.authors is not None, citation.year is not None]
    # Records that link a study page take authors and year from that page.
    complete = identified and ((citation.authors is not None and citation.year is not None) or citation.study_link)
    citation.parse_status = "parsed" if complete else "partial" if any(found) else "unparsed"
    return citation

"""What a citation record written in sentences says: its sentences and
clauses, a work named inside a sentence ('Kaeberlein et al. 2004 (Nature)
reported ...'), a design stated in a clause ('...; mechanistic review') or
by the subjects of a result ('... in aged mice'), and a count of people
written in words ('RCT (903 adults)', '9 studies / 219 patients').

Pure functions of text; etl/wiki/citations.py calls them for what the
record's ' · ' segments did not give. Every pattern is linear.
"""

from __future__ import annotations

import re

from ..venues import VenueIndex
from .citation_segments import (
    SURNAME,
    YEAR,
    DesignPatterns,
    authors_prefix,
    classify_design,
    depth_at,
    venue_and_year,
)

# --- sentences and clauses ----------------------------------------------------
# A sentence ends at '.', '!' or '?' (a closing quote may follow) before a
# capital, a quote, an asterisk or a bracket; not after 'et al.', an
# initial or a common abbreviation.
SENTENCE_END = re.compile(r"(?<=[.!?])(?P<quote>[\"”]?)\s+(?=[A-Z\"“*\[#(]|doi:|https?:)")
NOT_A_SENTENCE_END = re.compile(
    r"(?:\bet al|\b[A-Z]|\b(?:e\.g|i\.e|vs|cf|Fig|Figs|No|Vol|Suppl|Ref|approx|ca|Dr|St|Jr|Inc|Ltd|Co))\.[\"”]?$"
)
DASH = re.compile(r"\s+[—–]\s+")


def _depth_split(text: str, separator: str) -> list[str]:
    """text cut at `separator` where no bracket is open."""
    parts, depth, start = [], 0, 0
    for position, character in enumerate(text):
        depth += character in "(["
        depth -= character in ")]" and depth > 0
        if depth == 0 and text.startswith(separator, position):
            parts.append(text[start:position])
            start = position + len(separator)
    parts.append(text[start:])
    return parts


def sentences(text: str) -> list[str]:
    """A prose record cut into its sentences, each cut at ' — ' and at
    '; ' outside brackets: the parts a segment reader can take one by one."""
    pieces, start = [], 0
    for match in SENTENCE_END.finditer(text):
        end = match.start() + len(match.group("quote"))
        if NOT_A_SENTENCE_END.search(text[max(start, end - 12) : end]):
            continue
        pieces.append(text[start:end])
        start = match.end()
    pieces.append(text[start:])
    parts = []
    for piece in pieces:
        for clause in DASH.split(piece):
            parts += [part.strip() for part in _depth_split(clause, "; ") if part.strip()]
    return parts


# --- a work named in a sentence ----------------------------------------------
# Where a name may start inside a text: after a sentence, clause or label
# ('...: Anderson S et al.'), an opening parenthesis, 'See' or 'authors:'.
MENTION_START = re.compile(r"(?:^|[.;:!?—–]\s+|\(\s*|\bSee\s+(?!also\b))")
# Words that introduce another work than the one cited ('Candidate replacements: ...').
OTHER_WORK = re.compile(
    r"\b(?:candidates?|replacements?|distinct from|supersed\w*|see also|cf\.|instead|rather than"
    r"|confused with|unlike)\b",
    re.I,
)
AUTHORS_LABEL = re.compile(r"\bauthors?\s*:\s*", re.I)
ENCLOSING = re.compile(r" · |[()]")
MAX_MENTIONS = 200  # candidate names looked at in one record
# 'See Nichols 1998 (doi:...)': a lone surname names the work only with its identifier.
SEE_SURNAME_YEAR = re.compile(rf"^(?P<name>{SURNAME})\s+(?P<year>{YEAR})\s+\((?:doi|PMID)\b", re.I)


def _enclosed(text: str, start: int, limit: int = 400) -> str:
    """From `start` to the end of its segment, or to the parenthesis that
    closes the one `start` is in; at most `limit` characters."""
    window, depth = text[start : start + limit], 0
    for mark in ENCLOSING.finditer(window):
        if mark.group(0) == "(":
            depth += 1
        elif mark.group(0) == ")" and depth:
            depth -= 1
        else:
            return window[: mark.start()]
    return window


def named_work(text: str, venues: VenueIndex | None) -> tuple[list[str], str, str] | None:
    """(names, the names as written, what follows them) of the first work
    named inside the record's sentences: names after 'authors:', or names
    with 'et al.' or initials followed by a year, a parenthesis, a journal
    or the end of their clause; a lone surname only as 'See Nichols 1998'."""
    plain = text.replace("*", "")
    for label in AUTHORS_LABEL.finditer(plain):
        found = authors_prefix(_enclosed(plain, label.end()))
        if found:
            return found
    starts = (start for start in MENTION_START.finditer(plain) if plain[start.end() : start.end() + 1].isupper())
    for _, start in zip(range(MAX_MENTIONS), starts):
        candidate = _enclosed(plain, start.end())
        if start.group(0).lower().strip().startswith("see") and (single := SEE_SURNAME_YEAR.match(candidate)):
            if not (venues and venues.lookup(single.group("name"))):
                return [single.group("name")], single.group("name"), candidate[len(single.group("name")) :]
        found = _without_journal(authors_prefix(candidate), candidate, venues)
        if not found:
            continue
        # A record that opens with names is their work, as a segment that opens with them.
        if start.start() == 0 or _cited_like(found, venues) and not OTHER_WORK.search(_before(plain, start.start())):
            return found
    return None


def _without_journal(found, candidate: str, venues: VenueIndex | None):
    """Names less a last one that opens a journal's name ('Ellahham S, Am J Med 2001': not 'Am J')."""
    if not found or not venues:
        return found
    names, written, rest = found
    while len(names) > 1 and (at := candidate.rfind(names[-1], 0, len(written))) > 0:
        if not venues.leading_venue(candidate[at:]):
            break
        names, written = names[:-1], candidate[:at].rstrip(" ,;&")
        rest = candidate[len(written) :]
    return names, written, rest


def _before(text: str, position: int) -> str:
    """The words before a position in its segment, up to 160 characters."""
    return text[max(0, position - 160) : position].rsplit(" · ", 1)[-1]


def _cited_like(found: tuple[list[str], str, str], venues: VenueIndex | None) -> bool:
    """Names as a citation writes them: with initials or 'et al.', then a
    year, a parenthesis, a journal, or nothing more in their clause."""
    names, written, rest = found
    # Surnames alone ('Lord & Ashworth 2017 review', 'Age and Ageing 2017') name no cited work.
    et_al = re.search(r"\bet\s+al\b", written)
    if not (et_al or re.search(r"\s[A-Z]{1,3}\.?(?:$|[,;&])", written)):
        return False
    after = rest.lstrip(" ,")
    # One name with initials and nothing after it is no citation ('...; Table I)'); several
    # may end their clause or stand before a title ('Gargiulo AW, Wentz FM, Orban B. Dimensions ...').
    several = len(names) > 1 or et_al
    return bool(
        several
        and re.match(r"^(?:[.;]?\s*$|\.\s+[A-Z\"“])", after)
        or re.match(rf"^(?:\(|{YEAR}\b|[.,]?\s*[\"“])", after)
        or re.match(rf"^[A-Z][\w .&-]{{1,60}}?\s{YEAR}\b", after)
        or (venues and venues.leading_venue(after.strip(" .")))
    )


def journal_in_clauses(segments: list[str], venues: VenueIndex | None) -> tuple[str, int | None] | None:
    """(journal, year) of a clause of a longer segment that is a reference
    to a declared journal with its volume or year: '...; Autophagy
    5(7):973–979 (2009); authors: ...'."""
    if not venues:
        return None
    for segment in segments:
        for clause in _depth_split(segment, ";")[1:] if ";" in segment else []:
            clause = clause.replace("*", "").strip(" .")
            leading = venues.leading_venue(clause)
            if leading and leading[:1].isupper() and re.match(r"^[\s.,]*\(?\d", clause[len(leading) :]):
                cited = venue_and_year(clause, venues)
                return leading, cited[1] if cited else None
    return None


# --- a design in a clause or in the subjects of a result ----------------------
RESULT_SUBJECTS = re.compile(
    r"\bin\s+(?P<words>(?:[\w-]+\s+){0,3}?)(?P<noun>cells|cell lines|fibroblasts|oocytes|organoids|mice|rats"
    r"|worms|flies|yeast|zebrafish|killifish|dogs|monkeys|macaques|primates|hamsters|animals)\b",
    re.I,
)
IN_VITRO_STUDY = re.compile(
    r"\b(?:structural|biochemical|biophysical)\s+(?:study|analysis|characteri[sz]ation)\b", re.I
)
CELLS = ("cells", "cell lines", "fibroblasts", "oocytes", "organoids")
# A design's head ends before a count of people or a parenthesis: 'RCT in 2,033 men', 'cohort (UK Biobank)'.
COUNT_AFTER_HEAD = re.compile(r"\s+(?:in|of|with|among|including|enrolling)\s+[~≈]?\d|\s*\(")
TRIAL_NOUN = re.compile(r"^(?:trials?|study|studies|design|analysis)$", re.I)
STATISTIC = re.compile(r"^[np]\s*[=<>≤]", re.I)
METHODS_PAPER = re.compile(r"^n\s*/\s*a\s*\(\s*(?:methods?|simulation)\b", re.I)  # 'n/a (methods)'
QUOTED = re.compile(r"[\"“][^\"”]{0,400}[\"”]")


def design_in_clauses(segments: list[str], designs: DesignPatterns) -> tuple[str, str] | None:
    """(design, the clause) of the first clause that states a design:
    'estrogen deficiency → bone loss; mechanistic review', '...; Phase 1b;
    ~85 patients', 'Factorial dietary-advice RCT in 2,033 men ...'."""
    for segment in segments:
        for clause in _depth_split(segment, ";"):
            clause = clause.strip(" .")
            if METHODS_PAPER.match(clause):
                return "in-silico", clause
            if design := design_of_clause(clause, designs):
                return design, clause
    return None


def design_of_clause(clause: str, designs: DesignPatterns) -> str | None:
    """The design a short clause names as its head noun, before any count or
    parenthesis ('mechanistic review', 'Factorial dietary-advice RCT in
    2,033 men'), or by its first words when the clause is a design's name
    ('Phase 1b', 'Randomized crossover feeding trial'): 'increased muscle
    cross-sectional area' and 'MR confirms causal direction' state none."""
    head = COUNT_AFTER_HEAD.split(clause, maxsplit=1)[0].strip(" .,")
    words = head.split()
    if not words or len(words) > 5 or STATISTIC.match(head) or authors_prefix(head):
        return None
    design = classify_design(head, designs)
    if not design:
        return None
    if classify_design(words[-1], designs) == design:
        return design
    named_first = classify_design(" ".join(words[:2]), designs) == design
    return design if named_first and (len(words) <= 3 or TRIAL_NOUN.match(words[-1])) else None


def design_from_result(text: str) -> tuple[str, str] | None:
    """(design, the words) when a record with no design states a result in
    animals ('... in aged mice': in-vivo) or in cells ('... in human cells',
    'a structural/biochemical study': in-vitro)."""
    found = []
    text = QUOTED.sub("", text)  # a title's words are not the record's result
    if match := RESULT_SUBJECTS.search(text):
        following = text[match.end() :].lstrip()
        cells = match.group("noun").lower() in CELLS or following.lower().startswith(CELLS)
        found.append((match.start(), "in-vitro" if cells else "in-vivo", match.group(0)))
    if match := IN_VITRO_STUDY.search(text):
        found.append((match.start(), "in-vitro", match.group(0)))
    if not found:
        return None
    _, design, words = min(found)
    return design, words


# --- a count of people in words -----------------------------------------------
PEOPLE = (
    r"(?:patients|participants|subjects|individuals|adults|men|women|people|persons|volunteers|children"
    r"|adolescents|infants|cases|veterans|residents|centenarians|twins|smokers|survivors|nonagenarians"
    r"|controls|dogs)"
)
# 'in 84 patients', '2,033 men', '~59,000 participants total', '>30,000 dogs'
# (a bound, not a total); a count inside a name, a decimal, a range or an age is not one.
COUNT_OF_PEOPLE = re.compile(
    r"(?P<bound>[>≥<≤]\s*|\b(?:over|more than|at least|up to|fewer than|less than)\s+)?[~≈]?\s*"
    r"(?<![\w/.,−–+-])(?<!age )(?<!aged )(?<!per )(?P<count>\d{1,3}(?:,\d{3})+|\d+)(?![.,]\d|[–-]\d)\s+"
    r"(?P<scale>(?:million|billion|thousand)\s+)?"
    r"(?:(?!(?:in|of|vs|per|to|from|at|after|and|or|with|each)\b)[A-Za-z][\w'-]*\s+){0,3}?"
    rf"(?P<who>{PEOPLE})\b(?P<after>\s*(?:per|each|in each|/)\b)?",
    re.I,
)
MAX_CLAUSE = 1000  # characters of a clause searched for counts
DIGIT = re.compile(r"\d")  # what COUNT_OF_PEOPLE's count is made of


def count_in_words(text: str) -> tuple[int | None, str] | None:
    """(n, as written) from the first count of people in a record with no
    'n=': None as n when it is a bound or a per-group count, or when its
    clause counts other people beside it ('48 patients vs 146 controls');
    later counts in other clauses are usually its subsets. None when the
    record counts no people."""
    for segment in re.split(r"\s+·\s+", text):
        clauses = segment.split(";")
        for clause in clauses:
            # A count is digits: a clause without one is not searched (the pattern is tried at every position).
            matches = list(COUNT_OF_PEOPLE.finditer(clause[:MAX_CLAUSE])) if DIGIT.search(clause, 0, MAX_CLAUSE) else ()
            if not matches:
                continue
            first = matches[0]
            written = first.group(0).strip()
            # A bound, a per-group count, a rounded count or controls alone are not the total.
            qualified = first.group("bound") or first.group("after") or first.group("scale")
            if qualified or first.group("who").lower() == "controls":
                return None, written
            depth = depth_at(clause, first.start("count"))
            others = {
                m.group("count")
                for m in matches[1:]
                if depth_at(clause, m.start("count")) == depth and m.group("count") != first.group("count")
            }
            # '48 patients vs 146 controls', 'fibroblasts from 4 patients + KO mice': no single total.
            if others or " + " in _at_depth(clause, depth):
                return None, written
            return int(first.group("count").replace(",", "")), written
    return None


def _at_depth(text: str, depth: int) -> str:
    """The characters of text at bracket depth `depth`."""
    kept, level = [], 0
    for character in text:
        level += character == "("
        if level == depth:
            kept.append(character)
        level -= character == ")" and level > 0
    return "".join(kept)

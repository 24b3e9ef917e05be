"""Corpus-wide citation tables: works, authors, work_authors and venues,
folded from the per-page work mentions that etl/rows/page_rows.py makes.

Pure apart from the in-memory WorkIndex, which holds one small record per
cited work (never page text).
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from ..diagnostics import Diagnostic, diagnose
from ..rows.result import WorkMention
from ..venues import VenueIndex


def fold(name: str) -> str:
    """Lower case without accents: 'Alcón' and 'Alcon' are one surname."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).lower()


class WorkIndex:
    """Corpus-level aggregation of works, their authors and their venues.

    A work cited by several records keeps the most complete value of each
    field: identifiers and year from the first record that has them, the
    longest author list, a venue that matches a declared journal before one
    that does not. A study page or the project's bibliography overrides the
    records. Real disagreements (year, first author, journal) are reported.
    Where each of year, venue, authors and design came from is kept, so a
    footnote that takes one from its work can say so (etl/corpus/inherited.py).
    """

    def __init__(self, venues: VenueIndex | None = None):
        self.venues = venues or VenueIndex()
        self.works: dict[str, dict] = {}
        self.conflicts: list[Diagnostic] = []
        self.venue_mentions: Counter = Counter()  # venue ID -> footnote records naming it
        self.spellings: dict[str, set[str]] = {}  # venue ID -> spellings seen
        self.unmatched: dict[str, WorkMention] = {}  # venue as written -> first mention naming it
        self._first_cited: dict[str, dict] = {}  # work -> field -> (first value given, as shown, path, line)
        # work -> field -> (value, origin) for year, venue, authors, design, as rows() resolves them
        self.facts: dict[str, dict[str, tuple]] = {}

    def _check_conflict(self, mention: WorkMention) -> None:
        """A work cited with another year, first author or journal than the
        first record that gave one (each field against its own first, so a
        first record giving none hides no later disagreement)."""
        surname = fold(mention.author_surnames[0]) if mention.author_surnames else None
        venue_id = mention.venue_id
        here = {
            "year": (mention.year, mention.year),
            "first author": (surname, f"'{mention.authors[0]}'" if surname else None),
            "journal": (venue_id, f"'{self.venues.venues[venue_id].name}'" if venue_id else None),
        }
        firsts = self._first_cited.setdefault(mention.work, {})
        differences = []
        for name, (value, shown) in here.items():
            if value is None:
                continue
            first, first_shown, path, line = firsts.setdefault(
                name, (value, shown, mention.source_path, mention.source_line)
            )
            if first != value:
                differences.append(f"{name} {shown} here but {first_shown} at {path}:{line}")
        if differences:
            message = f"{mention.work}: {' and '.join(differences)}"
            self.conflicts.append(diagnose(mention.source_path, mention.source_line, "work-conflict", message))

    def _count_venue(self, mention: WorkMention) -> None:
        venue, venue_id = mention.venue, mention.venue_id
        if venue_id:
            self.venue_mentions[venue_id] += 1
            self.spellings.setdefault(venue_id, set()).add(venue)
        elif venue and mention.origin == "footnote":
            self.unmatched.setdefault(venue, mention)

    def add(self, mention: WorkMention) -> None:
        key = mention.work
        work = self.works.get(key)
        authoritative = mention.origin in ("study-page", "bibliography")
        if work is None:
            work = self.works[key] = {
                "work": key,
                "doi": None,
                "pmid": None,
                "pmc": None,
                "isbn": None,
                "title": None,
                "venue": None,
                "venue_id": None,
                "year": None,
                "study_page": None,
                "retracted": False,
                "author_note": None,
                "origin": mention.origin,
                "_designs": Counter(),
                "_study_design": None,
                "_authors": [],
                "_authors_from_study": False,
                "_pages": set(),
                "_footnotes": 0,
                "_venue_unwritten": 0,  # footnote records that write no venue: they take the work's
                "_prov": mention.provenance,
                "_authors_prov": None,
                "_origins": {},  # field -> the origin of the mention that gave it
            }
        origins = work["_origins"]
        for name in ("doi", "pmid", "pmc", "isbn", "title", "year", "study_page", "author_note"):
            if getattr(mention, name) is not None and (work[name] is None or authoritative):
                work[name] = getattr(mention, name)
                origins[name] = mention.origin
        if mention.venue and (work["venue"] is None or authoritative or (mention.venue_id and not work["venue_id"])):
            work["venue"], work["venue_id"] = mention.venue, mention.venue_id
            origins["venue"] = mention.origin
        work["retracted"] = work["retracted"] or bool(mention.retracted)
        if authoritative:
            if mention.design:
                work["_study_design"], origins["design"] = mention.design, mention.origin
            if mention.authors:
                work["_authors"] = list(mention.authors)
                work["_authors_prov"] = mention.provenance
                work["_authors_from_study"] = True
                origins["authors"] = mention.origin
        else:
            self._check_conflict(mention)
            self._count_venue(mention)
            work["_footnotes"] += 1
            work["_venue_unwritten"] += not mention.venue_written
            work["_pages"].add(mention.page)
            if mention.design:
                work["_designs"][mention.design] += 1
            if not work["_authors_from_study"] and len(mention.authors) > len(work["_authors"]):
                work["_authors"] = list(mention.authors)
                work["_authors_prov"] = mention.provenance
                origins["authors"] = "footnote"

    def unmatched_venues(self) -> list[Diagnostic]:
        """One warning per venue spelling that matches no declared journal,
        where it is first written."""
        return [
            diagnose(m.source_path, m.source_line, "venue-unmatched", f"journal '{venue}' is not in data/venues.yml")
            for venue, m in sorted(
                self.unmatched.items(), key=lambda item: (item[1].source_path, item[1].source_line, item[0])
            )
        ]

    def resolve(self, work: dict, study_designs: set[str]) -> dict[str, tuple]:
        """A work's year, venue (as written, ID), authors and design, each
        with its origin (footnote, study-page, bibliography, doi-prefix)."""
        origins = work["_origins"]
        design = work["_study_design"] if work["_study_design"] in study_designs else None
        design_origin = origins.get("design")
        if design is None and work["_designs"]:
            design = sorted(work["_designs"].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            design_origin = "footnote"
        venue, venue_origin = (work["venue"], work["venue_id"]), origins.get("venue")
        # A DOI names a journal only by a prefix data/venues.yml declares.
        if work["venue"] is None and (declared := self.venues.lookup_doi(work["doi"])):
            venue, venue_origin = (declared.name, declared.venue), "doi-prefix"
        authors = list(dict.fromkeys(a.strip() for a in work["_authors"] if a and a.strip()))
        return {
            "year": (work["year"], origins.get("year") if work["year"] is not None else None),
            "venue": (venue, venue_origin if venue[0] else None),
            "authors": (authors, origins.get("authors") if authors else None),
            "design": (design, design_origin if design else None),
        }

    def rows(self, study_designs: set[str]) -> tuple[list[dict], list[dict], list[dict]]:
        works, work_authors, author_counts, author_prov = [], [], Counter(), {}
        for key in sorted(self.works):
            work = self.works[key]
            facts = self.facts[key] = self.resolve(work, study_designs)
            design, authors = facts["design"][0], facts["authors"][0]
            (venue, venue_id), venue_origin = facts["venue"]
            works.append(
                {
                    "work": key,
                    "doi": work["doi"],
                    "pmid": work["pmid"],
                    "pmc": work["pmc"],
                    "isbn": work["isbn"],
                    "title": work["title"],
                    "label": work_label(work["title"], authors[0] if authors else None, work["year"], venue, key),
                    "first_author": authors[0] if authors else None,
                    "author_note": work["author_note"],
                    "venue": venue,
                    "venue_id": venue_id,
                    "venue_origin": venue_origin,
                    "year": work["year"],
                    "design": design,
                    "study_page": work["study_page"],
                    "retracted": work["retracted"],
                    "cited_by_footnotes": work["_footnotes"],
                    "cited_by_pages": len(work["_pages"]),
                    "origin": work["origin"],
                    **work["_prov"],
                }
            )
            for position, author in enumerate(authors, start=1):
                work_authors.append({"work": key, "position": position, "author": author, **work["_authors_prov"]})
                author_counts[author] += 1
                author_prov.setdefault(author, work["_authors_prov"])
        authors_rows = [{"author": a, "works": n, **author_prov[a]} for a, n in sorted(author_counts.items())]
        return works, authors_rows, work_authors

    def venue_rows(self, works: list[dict]) -> list[dict]:
        """One row per declared journal, with the spellings seen and how
        often it is cited: by the footnote records naming it, and by those
        naming no venue that take it from the work they cite."""
        works_per_venue = Counter(w["venue_id"] for w in works if w["venue_id"])
        footnotes = Counter(self.venue_mentions)
        for w in works:
            if w["venue_id"]:
                footnotes[w["venue_id"]] += self.works[w["work"]]["_venue_unwritten"]
        rows = []
        for venue in sorted(self.venues.venues.values(), key=lambda v: v.venue):
            variants = sorted(
                {*(v for v in (venue.iso4, *venue.variants) if v), *self.spellings.get(venue.venue, ())} - {venue.name}
            )
            rows.append(
                {
                    "venue": venue.venue,
                    "name": venue.name,
                    "iso4": venue.iso4,
                    "variants": variants,
                    "doi_prefixes": list(venue.doi_prefixes),
                    "footnotes": footnotes[venue.venue],
                    "works": works_per_venue[venue.venue],
                    "source_path": "data/venues.yml",
                    "source_line": venue.line,
                }
            )
        return rows


def work_label(title: str | None, first_author: str | None, year: int | None, venue: str | None, key: str) -> str:
    """How a work is named to a reader: its title, else 'first author, year,
    venue' from what is known, else its key. Never empty, never 'None'."""
    if title:
        return title
    parts = [str(part) for part in (first_author, year, venue) if part]
    return ", ".join(parts) if parts else key

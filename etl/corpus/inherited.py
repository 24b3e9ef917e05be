"""What a footnote's record leaves out, taken from the work it cites.

The footnotes table is made page by page (etl/rows/footnote_rows.py) and
kept in the page cache, but what a work states is known only once every
page is read: its study page, the other records citing it, the project's
bibliography, a DOI prefix data/venues.yml declares. So the corpus stage
completes each page's footnote rows before they are written: a record that
gives no year, venue, authors or design takes the cited work's, as
WorkIndex.resolve settles it (a study page or the bibliography before the
records; else the first record's year, the longest author list, the
commonest design, a record naming a declared journal), and its
<field>_origin column says where it came from. What a record states is
never replaced, and a footnote citing no work keeps only what it states.
"""

from __future__ import annotations

import pickle
import tempfile

from ..rows.result import PageResult, WorkMention
from ..wiki.citation_segments import surname
from .works import WorkIndex

FIELDS = ("year", "venue", "authors", "design")
# A work's origin for a field, as a footnote that takes it names it.
ORIGINS = {
    "footnote": "other-footnote",
    "study-page": "study-page",
    "bibliography": "bibliography",
    "doi-prefix": "doi-prefix",
}


def missing_fields(mention: WorkMention) -> tuple[str, ...]:
    """The fields a footnote's record leaves out."""
    stated = {"year": mention.year is not None, "venue": mention.venue_written}
    stated |= {"authors": bool(mention.authors), "design": bool(mention.design)}
    return tuple(name for name in FIELDS if not stated[name])


def wanted_facts(result: PageResult) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(work, the fields its record leaves out) for each of a page's
    footnotes that leaves one out: what its rows may take from the works."""
    return tuple(
        (m.work, fields) for m in result.work_mentions if m.origin == "footnote" and (fields := missing_fields(m))
    )


class InheritedFacts:
    """Every page's footnote rows as the page gave them (CSV text), held
    until the works are joined, with what each record leaves out. The text
    waits in a temporary file, in page order: held, it was the largest
    thing the build process kept while it read the pages (11.6 MB for the
    shared wiki, a hundred times that at 100x)."""

    def __init__(self, works: WorkIndex):
        self.works = works
        self._texts = tempfile.TemporaryFile()  # each page's TableText, pickled, in page order
        self._wanting: list[tuple] = []  # per page with footnotes: (its ID, ((work, fields left out), ...))

    def add_page(self, result: PageResult) -> None:
        text = result.tables.get("footnotes")
        if text is None:  # a result read without its rows (etl check)
            return
        pickle.dump(text, self._texts, protocol=pickle.HIGHEST_PROTOCOL)
        self._wanting.append((result.page, wanted_facts(result)))

    def pages(self):
        """Each page with footnotes: its ID, its footnote rows as CSV text,
        in page order, and whether one of them takes something from its work
        (only those are read again). After WorkIndex.rows(), which resolves
        the works' facts; read once."""
        facts = self.works.facts
        self._texts.seek(0)
        with self._texts:
            for page, wanting in self._wanting:
                text = pickle.load(self._texts)
                yield page, text, any(facts[work][name][1] for work, fields in wanting for name in fields)

    def fill(self, rows: list[dict]) -> int:
        """Fill the footnote rows (cells as the CSV holds them) from their
        works; the number of fields filled."""
        filled = 0
        for row in rows:
            facts = self.works.facts.get(row["work"])
            for name in FIELDS if facts else ():
                value, origin = facts[name]
                if row[f"{name}_origin"] or origin is None:  # stated here, or by nothing
                    continue
                row[f"{name}_origin"] = ORIGINS[origin]
                if name == "venue":
                    row["venue"], row["venue_id"] = value
                elif name == "authors":
                    row["authors"], row["first_author"] = ", ".join(value), value[0]
                    row["author_surnames"] = [surname(author) for author in value]
                else:
                    row[name] = value
                filled += 1
        return filled

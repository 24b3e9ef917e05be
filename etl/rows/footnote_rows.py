"""A page's footnotes as rows: references and definitions, the
identifiers their citation records name, and the work each one cites (a
WorkMention for the corpus). Part of PageRows (etl/rows/page_rows.py),
which holds the page, its tables of rows and its mentions."""

from __future__ import annotations

import re
from collections import Counter

from .corpus_index import citation_status, work_key
from .result import WorkMention


def stated(value) -> str | None:
    """A field's origin as the rows stage knows it: 'stated' when the record
    gives it; what the record leaves out the corpus stage may fill from the
    cited work (etl/corpus/inherited.py), with its own origin."""
    return "stated" if value is not None and value != "" else None


class FootnoteRows:
    """The footnote steps of PageRows; they use its page, rows and mentions."""

    def footnotes(self) -> None:
        """Footnote references and definitions, the identifiers in their records, and the works they cite."""
        page, parsed, body, index, schema = self.page, self.parsed, self.body, self.index, self.schema
        defined = {d.label for d in body.footnote_defs}
        ref_counts = Counter(r.label for r in body.footnote_refs)
        for seq, ref in enumerate(body.footnote_refs, start=1):
            self.rows["footnote_refs"].append(
                {
                    "page": page,
                    "seq": seq,
                    "label": ref.label,
                    "defined": ref.label in defined,
                    "section": self.section_of(ref.section_seq),
                    "section_seq": ref.section_seq,
                    **self.prov(ref.line),
                }
            )
        seen: set[str] = set()
        identifier_positions: Counter = Counter()
        for seq, (definition, c) in enumerate(zip(body.footnote_defs, parsed.citations), start=1):
            duplicate = definition.label in seen
            seen.add(definition.label)
            study_page, parse_status, _ = citation_status(c, page, index)
            venue = schema.venues.lookup(c.venue)
            key = work_key(c.doi, c.pmid, c.isbn, study_page, c.study_link, index)
            self.rows["footnotes"].append(
                {
                    "page": page,
                    "label": definition.label,
                    "seq": seq,
                    "record": definition.record or None,
                    "segments": c.segments,
                    "work": key,
                    "doi": c.doi,
                    "pmid": c.pmid,
                    "pmc": c.pmc,
                    "study_page": study_page,
                    "study_link": c.study_link,
                    "authors": c.authors,
                    "author_surnames": c.author_surnames,
                    "first_author": c.first_author,
                    "authors_origin": stated(c.authors),
                    "author_note": c.author_note,
                    "title": c.title,
                    "venue": c.venue,
                    "venue_id": venue.venue if venue else None,
                    "venue_origin": stated(c.venue),
                    "year": c.year,
                    "year_origin": stated(c.year),
                    "design": c.design,
                    "design_origin": stated(c.design),
                    "design_text": c.design_text,
                    "n": c.n,
                    "n_text": c.n_text,
                    "p_value_text": c.p_value_text,
                    "model": c.model,
                    "retracted": c.retracted,
                    "citation_count": c.citation_count,
                    "ref_count": ref_counts.get(definition.label, 0),
                    "duplicate": duplicate,
                    "parse_status": parse_status,
                    **self.prov(definition.line),
                }
            )
            self.footnote_identifiers(definition, c, identifier_positions)
            if key:
                self.footnote_mention(key, c, venue, study_page, definition)

    def footnote_identifiers(self, definition, c, identifier_positions: Counter) -> None:
        """The identifiers a footnote's record names, as identifiers rows."""
        page, schema = self.page, self.schema
        for scheme_name, value in [
            ("doi", c.doi),
            ("pmid", c.pmid),
            ("pmc", c.pmc),
            ("isbn", c.isbn),
        ] + c.more_identifiers:
            if not value:
                continue
            identifier_positions[definition.label] += 1
            position = identifier_positions[definition.label]
            scheme = schema.identifier_scheme(scheme_name)
            valid = bool(re.fullmatch(scheme["pattern"], value))
            self.rows["identifiers"].append(
                {
                    "page": page,
                    "field": f"footnote:{definition.label}",
                    "position": position,
                    "scheme": scheme_name,
                    "value": value,
                    "raw": value,
                    "declared_null": False,
                    "valid": valid,
                    "url": scheme["url"].replace("{id}", value) if valid else None,
                    **self.prov(definition.line),
                }
            )

    def footnote_mention(self, key, c, venue, study_page, definition) -> None:
        """The work a footnote cites, as a mention for the works table."""
        page = self.page
        self.mentions.append(
            WorkMention(
                work=key,
                origin="footnote",
                page=page,
                doi=c.doi.lower() if c.doi else None,
                pmid=c.pmid,
                pmc=c.pmc,
                isbn=c.isbn,
                study_page=study_page,
                title=c.title,
                authors=c.author_names,
                author_surnames=c.author_surnames,
                author_note=c.author_note,
                venue=c.venue if (venue or c.venue_confident) else None,
                venue_id=venue.venue if venue else None,
                venue_written=bool(c.venue),
                year=c.year,
                design=c.design,
                retracted=c.retracted,
                **self.prov(definition.line),
            )
        )

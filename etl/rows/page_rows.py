"""Rows stage: turn one ParsedPage into table rows, plus the mentions of
works and trials that the corpus-wide tables are made from (etl/corpus/works.py,
etl/rows/trial_mentions.py). Pure.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from ..schema import Schema
from ..wiki.citations import completeness
from ..wiki.frontmatter import to_json, value_kind
from ..wiki.parse import ParsedPage, normalise_identifier
from ..wiki.syntax import WIKILINK, WIKILINK_VALUE, mask_code
from .result import WorkMention

NCT = re.compile(r"\bNCT\d{8}\b")
STATUS_WORD = re.compile(r"^[*_\s]*([A-Za-z][A-Za-z-]*(?:\s+[a-z]+)?)")
STATUS_SYNONYMS = {
    "partially": "partial",
    "partly": "partial",
    "not tested": "not-tested",
    "untested": "not-tested",
    "n/a": "not-applicable",
    "not applicable": "not-applicable",
}
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


@dataclass
class CorpusIndex:
    """What every page needs to know about the others: which pages exist
    and the work key of each study page."""

    page_ids: list[str]
    study_works: dict[str, str] = field(default_factory=dict)
    # While a page is processed, every question it asks of the index and the
    # answer (see etl/pipeline/cache.py: a cached page is reused only when every
    # answer is still the same).
    journal: list | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self._by_id = {p.lower(): p for p in self.page_ids}
        self._by_slug: dict[str, str] = {}
        # Shortest path wins for a slug shared by several pages, then alphabetical.
        for page in sorted(self.page_ids, key=lambda p: (p.count("/"), p)):
            self._by_slug.setdefault(page.rsplit("/", 1)[-1].lower(), page)
        # A target with a slash names the page whose path ends with it, whole
        # components only; several: alphabetically first. Indexed once, as a
        # cached build asks again every question of every page.
        self._by_suffix: dict[str, str] = {}
        self._answered: dict[tuple, str | None] = {}
        for lower, page in sorted(self._by_id.items(), key=lambda item: item[1]):
            parts = lower.split("/")
            for start in range(1, len(parts) - 1):
                self._by_suffix.setdefault("/".join(parts[start:]), page)

    @cached_property
    def digest(self) -> str:
        """Everything an answer depends on: equal digests answer every
        question alike (read once study_works is set)."""
        state = repr((sorted(self.page_ids), sorted(self.study_works.items())))
        return hashlib.sha256(state.encode()).hexdigest()

    def resolve(self, target: str, from_page: str | None = None) -> str | None:
        """Page ID a wikilink or relative link target names, or None."""
        answer = self._resolve(target, from_page)
        if self.journal is not None:
            self.journal.append(("resolve", target, from_page, answer))
        return answer

    def study_work(self, page: str | None) -> str | None:
        """Work key of a study page (from its frontmatter DOI or PMID)."""
        answer = self.study_works.get(page) if page else None
        if self.journal is not None:
            self.journal.append(("study_work", page, None, answer))
        return answer

    def answers(self, question: tuple) -> bool:
        """Whether a journalled question still gets the same answer."""
        kind, first, second, answer = question
        if kind != "resolve":
            return (self.study_works.get(first) if first else None) == answer
        # The pages of a wiki ask the same few thousand questions many times over.
        try:
            return self._answered[first, second] == answer
        except KeyError:
            self._answered[first, second] = resolved = self._resolve(first, second)
            return resolved == answer

    def _resolve(self, target: str, from_page: str | None = None) -> str | None:
        name = target.strip().replace("\\", "/")
        if name.lower().endswith(".md"):
            name = name[:-3]
        name = name.strip("/").lower()
        if not name:
            return None
        if from_page and (name.startswith("./") or name.startswith("../")):
            name = posixpath.normpath(posixpath.join(posixpath.dirname(from_page.lower()), name))
        if name in self._by_id:
            return self._by_id[name]
        if "/" in name:
            return self._by_suffix.get(name)
        return self._by_slug.get(name)


def work_key(
    doi=None, pmid=None, isbn=None, study_page=None, study_link=None, index: CorpusIndex | None = None
) -> str | None:
    """Key of a cited work: DOI, else PMID, else ISBN, else its study page
    (whose own key wins when the study page has a DOI or PMID)."""
    if doi:
        return "doi:" + doi.lower()
    if pmid:
        return "pmid:" + str(pmid)
    if isbn:
        return "isbn:" + isbn
    if study_page and index and (study_key := index.study_work(study_page)):
        return study_key
    if study_page:
        return "page:" + study_page
    if study_link:
        return "page:" + study_link
    return None


def cited_study_page(citation, page: str, index: CorpusIndex) -> str | None:
    """The study page a citation record links to: its [[studies/...]] link,
    else the first [[link]] that resolves to a page under studies/."""
    for target in ([citation.study_link] if citation.study_link else []) + citation.wikilinks:
        resolved = index.resolve(target, page)
        if resolved and (resolved.startswith("studies/") or "/studies/" in resolved):
            return resolved
    return None


def citation_status(citation, page: str, index: CorpusIndex) -> tuple[str | None, str, list[str]]:
    """(study page, parse status, what is missing) of a footnote's record:
    a [[studies/...]] link counts even when its page is not in the snapshot."""
    study_page = cited_study_page(citation, page, index)
    return (study_page, *completeness(citation, bool(study_page or citation.study_link)))


def parse_status_cell(cell: str, vocabulary: set[str]) -> tuple[str | None, str | None]:
    """(normalised status, qualifier) from a Status cell like
    'partial — cross-sectional data only'."""
    match = STATUS_WORD.match(cell)
    if not match:
        return None, cell.strip() or None
    words = match.group(1).lower()
    for candidate in (words, words.split()[0]):
        status = STATUS_SYNONYMS.get(candidate, candidate)
        if status in vocabulary:
            # candidate is a prefix of the matched words, so the rest follows it
            rest = cell[match.start(1) + len(candidate) :]
            qualifier = rest.strip().lstrip("*_").strip().lstrip("—–-:;,.").strip()
            return status, qualifier or None
    return None, cell.strip() or None


def _dimension(text: str, dimensions: list[dict]) -> str:
    lowered = text.lower()
    for entry in dimensions:
        if entry["match"] and entry["match"] in lowered:
            return entry["dimension"]
    return "other"


def is_status_table(header: list[str]) -> bool:
    cells = [h.strip("*_ ").lower() for h in header]
    return len(cells) >= 2 and cells[0] == "dimension" and cells[1] == "status"


def page_rows(
    parsed: ParsedPage, index: CorpusIndex, schema: Schema
) -> tuple[dict[str, list[dict]], list[WorkMention]]:
    """All rows one page contributes, and its work mentions."""
    made = PageRows(parsed, index, schema)
    for step in (
        made.page_row,
        made.frontmatter_rows,
        made.prose_identifiers,
        made.links,
        made.section_rows,
        made.gaps,
        made.footnotes,
        made.tables,
        made.typed_row,
        made.study_work,
    ):
        step()
    return {name: table_rows for name, table_rows in made.rows.items() if table_rows}, made.mentions


class PageRows:
    """The rows of one page, made table by table in file order (each step
    appends to `rows`; identifiers come from frontmatter, prose and
    footnotes, in that order)."""

    def __init__(self, parsed: ParsedPage, index: CorpusIndex, schema: Schema):
        self.parsed, self.index, self.schema = parsed, index, schema
        self.page, self.path = parsed.page, parsed.path
        self.fm, self.body = parsed.frontmatter, parsed.body
        self.sections = {s.seq: s for s in parsed.body.sections}
        self.rows: dict[str, list[dict]] = {name: [] for name in schema.tables}
        self.mentions: list[WorkMention] = []

    def prov(self, line: int) -> dict:
        return {"source_path": self.path, "source_line": line}

    def section_of(self, seq):
        return self.sections[seq].heading if seq in self.sections else None

    def typed_value(self, key):
        entry = self.parsed.typed_fields.get(key)
        return entry.typed if entry and entry.declared else None

    def page_row(self) -> None:
        """The pages row."""
        page, path, parsed, schema = self.page, self.path, self.parsed, self.schema
        fm, body = self.fm, self.body
        aliases = fm.get("aliases")
        gap_total = len(body.gaps) + len(parsed.frontmatter_gaps)
        all_tags = [g.tag for g in body.gaps] + [g["tag"] for g in parsed.frontmatter_gaps]
        self.rows["pages"].append(
            {
                "page": page,
                "slug": parsed.slug,
                "folder": path.split("/", 1)[0] if "/" in path else None,
                "type": parsed.page_type if parsed.page_type in schema.page_types else None,
                "title": body.title or parsed.slug,
                "aliases": [str(a) for a in aliases] if isinstance(aliases, list) else None,
                "verified": self.typed_value("verified"),
                "verified_date": self.typed_value("verified-date"),
                "verified_by": self.typed_value("verified-by"),
                "verified_scope": self.typed_value("verified-scope"),
                "literature_checked_through": self.typed_value("literature-checked-through"),
                "is_stub": "stub" in all_tags or "gap/stub" in all_tags,
                "banner": body.banner,
                "body": fm.body.strip("\n") or None,
                "word_count": body.word_count,
                "footnote_count": len(body.footnote_defs),
                "gap_count": gap_total,
                "content_hash": parsed.content_hash,
                **self.prov(1),
            }
        )

    def frontmatter_rows(self) -> None:
        """page_fields, and the identifiers and relations frontmatter values give."""
        page, index, schema = self.page, self.index, self.schema
        fm, typed = self.fm, self.parsed.typed_fields
        for entry in fm.fields:
            checked = typed[entry.key]
            self.rows["page_fields"].append(
                {
                    "page": page,
                    "key": entry.key,
                    "position": entry.position,
                    "declared_type": checked.declared.type if checked.declared else None,
                    "value_kind": value_kind(entry.value),
                    "value_json": to_json(entry.value),
                    "raw": entry.raw or None,
                    "comment": entry.comment,
                    "valid": checked.valid,
                    **self.prov(entry.line),
                }
            )
            declared = checked.declared
            if declared is not None and declared.type == "identifier":
                scheme = schema.identifier_scheme(declared.scheme)
                values = entry.value if isinstance(entry.value, list) else [entry.value]
                for position, value in enumerate(values, start=1):
                    normal = None if value is None else normalise_identifier(value, scheme)
                    valid = normal is None or bool(re.fullmatch(scheme["pattern"], normal))
                    self.rows["identifiers"].append(
                        {
                            "page": page,
                            "field": entry.key,
                            "position": position,
                            "scheme": scheme["scheme"],
                            "value": normal,
                            "raw": None if value is None else str(value),
                            "declared_null": value is None,
                            "valid": valid,
                            "url": scheme["url"].replace("{id}", normal) if normal and valid else None,
                            **self.prov(entry.line),
                        }
                    )
            values = entry.value if isinstance(entry.value, list) else [entry.value]
            targets = [WIKILINK_VALUE.match(v) for v in values if isinstance(v, str)]
            for position, match in enumerate((m for m in targets if m), start=1):
                target = match.group(1).strip()
                resolved = index.resolve(target, page)
                self.rows["relations"].append(
                    {
                        "page": page,
                        "field": entry.key,
                        "position": position,
                        "target": target,
                        "target_page": resolved,
                        "target_exists": resolved is not None,
                        **self.prov(entry.line),
                    }
                )

    def prose_identifiers(self) -> None:
        """Identifiers named in prose: trial registrations."""
        page, schema, fm = self.page, self.schema, self.fm
        for position, (line, nct) in enumerate(_body_ncts(fm.body, fm.body_line), start=1):
            scheme = schema.identifier_scheme("nct")
            self.rows["identifiers"].append(
                {
                    "page": page,
                    "field": "body",
                    "position": position,
                    "scheme": "nct",
                    "value": nct,
                    "raw": nct,
                    "declared_null": False,
                    "valid": True,
                    "url": scheme["url"].replace("{id}", nct),
                    **self.prov(line),
                }
            )

    def links(self) -> None:
        """Links in the body, then wikilinks in frontmatter text."""
        page, index, fm, body = self.page, self.index, self.fm, self.body
        for seq, link in enumerate(body.links, start=1):
            external = link.kind == "markdown" and (EXTERNAL.match(link.target) or link.target.startswith("#"))
            resolved = None if external else index.resolve(link.target, page)
            self.rows["links"].append(
                {
                    "page": page,
                    "seq": seq,
                    "kind": link.kind,
                    "target": link.target or None,
                    "anchor": link.anchor,
                    "alias": link.alias,
                    "target_page": resolved,
                    "target_exists": None if external else resolved is not None,
                    "location": "body",
                    "field": None,
                    "section": self.section_of(link.section_seq),
                    "section_seq": link.section_seq,
                    **self.prov(link.line),
                }
            )
        seq = len(self.rows["links"])
        for entry in fm.fields:
            for target, anchor, alias, line in _frontmatter_text_links(entry):
                seq += 1
                resolved = index.resolve(target, page) if target else None
                self.rows["links"].append(
                    {
                        "page": page,
                        "seq": seq,
                        "kind": "wikilink",
                        "target": target or None,
                        "anchor": anchor,
                        "alias": alias,
                        "target_page": resolved,
                        "target_exists": resolved is not None,
                        "location": "frontmatter",
                        "field": entry.key,
                        "section": None,
                        "section_seq": None,
                        **self.prov(line),
                    }
                )

    def section_rows(self) -> None:
        """One row per heading."""
        page, body = self.page, self.body
        for s in body.sections:
            self.rows["sections"].append(
                {
                    "page": page,
                    "seq": s.seq,
                    "level": s.level,
                    "heading": s.heading,
                    "anchor": s.anchor,
                    "parent_seq": s.parent_seq,
                    "heading_path": s.heading_path,
                    "end_line": s.end_line,
                    "text": s.text or None,
                    **self.prov(s.line),
                }
            )

    def gaps(self) -> None:
        """Gap tags: frontmatter comment tags first (they come first in the file)."""
        page, parsed, body = self.page, self.parsed, self.body
        seq = 0
        for gap in parsed.frontmatter_gaps:
            seq += 1
            self.rows["gaps"].append(
                {
                    "page": page,
                    "seq": seq,
                    "tag": gap["tag"],
                    "claim": gap["claim"],
                    "qualifier": None,
                    "location": "frontmatter",
                    "field": gap["field"],
                    "section": None,
                    "section_seq": None,
                    "footnotes": [],
                    **self.prov(gap["line"]),
                }
            )
        for gap in body.gaps:
            seq += 1
            self.rows["gaps"].append(
                {
                    "page": page,
                    "seq": seq,
                    "tag": gap.tag,
                    "claim": gap.claim,
                    "qualifier": gap.qualifier,
                    "location": "body",
                    "field": None,
                    "section": self.section_of(gap.section_seq),
                    "section_seq": gap.section_seq,
                    "footnotes": gap.footnotes,
                    **self.prov(gap.line),
                }
            )

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
                    "author_note": c.author_note,
                    "title": c.title,
                    "venue": c.venue,
                    "venue_id": venue.venue if venue else None,
                    "year": c.year,
                    "design": c.design,
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
                year=c.year,
                design=c.design,
                retracted=c.retracted,
                **self.prov(definition.line),
            )
        )

    def tables(self) -> None:
        """Dimension | Status tables as status_assessments, other tables as page_tables."""
        page, body, schema = self.page, self.body, self.schema
        statuses = {s["status"] for s in schema.vocabularies["status_values"]}
        dimensions = schema.vocabularies["status_dimensions"]
        for table_seq, table in enumerate(body.tables, start=1):
            if is_status_table(table.header):
                for row_number, (cells, line) in enumerate(zip(table.rows, table.row_lines), start=1):
                    dimension_text = cells[0] if cells else ""
                    status_text = cells[1] if len(cells) > 1 else ""
                    status, qualifier = parse_status_cell(status_text, statuses)
                    self.rows["status_assessments"].append(
                        {
                            "page": page,
                            "table_seq": table_seq,
                            "row": row_number,
                            "dimension": _dimension(dimension_text, dimensions),
                            "dimension_text": dimension_text,
                            "status": status,
                            "status_text": status_text,
                            "qualifier": qualifier,
                            "notes": " | ".join(cells[2:]) or None,
                            "section": self.section_of(table.section_seq),
                            "section_seq": table.section_seq,
                            **self.prov(line),
                        }
                    )
            else:
                self.rows["page_tables"].append(
                    {
                        "page": page,
                        "table_seq": table_seq,
                        "header": table.header,
                        "rows": table.rows,
                        "row_count": len(table.rows),
                        "column_count": len(table.header),
                        "end_line": table.end_line,
                        "section": self.section_of(table.section_seq),
                        "section_seq": table.section_seq,
                        **self.prov(table.line),
                    }
                )

    def typed_row(self) -> None:
        """The row of the page type's own table."""
        page, parsed, schema = self.page, self.parsed, self.schema
        typed = parsed.typed_fields
        page_type = schema.page_types.get(parsed.page_type or "")
        if page_type and page_type.table:
            row = {"page": page}
            for name, declared in page_type.fields.items():
                if name == "aliases":
                    continue
                entry = typed.get(name)
                row[declared.column_name] = entry.typed if entry else None
            row.update(self.prov(1))
            self.rows[page_type.table].append(row)

    def study_work(self) -> None:
        """A study page is itself a work."""
        page, parsed, index, schema, fm = self.page, self.parsed, self.index, self.schema, self.fm
        if parsed.page_type == "study":
            doi = self.typed_value("doi")
            key = work_key(doi, self.typed_value("pmid"), None, page, None, index)
            authors = fm.get("authors")
            journal = self.typed_value("journal")
            venue = schema.venues.lookup(journal)
            self.mentions.append(
                WorkMention(
                    work=key,
                    origin="study-page",
                    page=None,
                    doi=doi.lower() if doi else None,
                    pmid=self.typed_value("pmid"),
                    pmc=self.typed_value("pmc"),
                    isbn=None,
                    study_page=page,
                    title=self.typed_value("title"),
                    authors=[str(a) for a in authors if a and str(a).strip() not in ("...", "…")]
                    if isinstance(authors, list)
                    else [],
                    venue=journal,
                    venue_id=venue.venue if venue else None,
                    year=self.typed_value("year"),
                    design=self.typed_value("study-design"),
                    retracted=False,
                    **self.prov(1),
                )
            )


def _frontmatter_text_links(entry):
    """Wikilinks inside frontmatter text: in string values that are not
    themselves a single link (those are relations), and in comments."""
    for match in WIKILINK.finditer(entry.key):  # a paragraph YAML took for a key
        yield match.group(1).strip(), _strip(match.group(2)), _strip(match.group(3)), entry.line
    values = entry.value if isinstance(entry.value, list) else [entry.value]
    for value in values:
        if isinstance(value, str) and not WIKILINK_VALUE.match(value):
            for match in WIKILINK.finditer(mask_code(value)):
                yield match.group(1).strip(), _strip(match.group(2)), _strip(match.group(3)), entry.line
    for match in WIKILINK.finditer(entry.comment or ""):
        yield match.group(1).strip(), _strip(match.group(2)), _strip(match.group(3)), entry.comment_line


def _strip(text):
    return text.strip() if text else None


def _body_ncts(body: str, first_line: int):
    """Each NCT number of the body once, with the line it is first on (a
    number never spans lines, so the body is searched whole)."""
    seen, line, counted = set(), first_line, 0
    for match in NCT.finditer(body):
        if match.group(0) not in seen:
            seen.add(match.group(0))
            line += body.count("\n", counted, match.start())
            counted = match.start()
            yield line, match.group(0)

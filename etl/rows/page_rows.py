"""Rows stage: turn one ParsedPage into table rows, plus the mentions of
works and trials that the corpus-wide tables are made from (etl/corpus/works.py,
etl/rows/trial_mentions.py). Pure.
"""

from __future__ import annotations

import re

from ..schema import Schema
from ..wiki.frontmatter import to_json, value_kind
from ..wiki.parse import ParsedPage, normalise_identifier
from ..wiki.syntax import REGISTRY_ID, WIKILINK, WIKILINK_VALUE, mask_code
from .corpus_index import CorpusIndex, work_key
from .footnote_rows import FootnoteRows
from .result import WorkMention
from .status_tables import dimension_of, is_status_table, parse_status_cell

EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


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


def names_of(parsed: ParsedPage) -> tuple[str, ...]:
    """What the page is called: its title (first H1, else its slug), then
    the aliases its frontmatter declares."""
    aliases = parsed.frontmatter.get("aliases")
    listed = tuple(str(alias) for alias in aliases) if isinstance(aliases, list) else ()
    return (parsed.body.title or parsed.slug, *listed)


class PageRows(FootnoteRows):
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
        self._target_pages: dict[str, str | None] = {}

    def prov(self, line: int) -> dict:
        return {"source_path": self.path, "source_line": line}

    def section_of(self, seq):
        return self.sections[seq].heading if seq in self.sections else None

    def target_page(self, target: str) -> str | None:
        """The page a link target on this page names: the index is asked once
        per target (its journal, which the page cache checks, keeps the answer)."""
        if target not in self._target_pages:
            self._target_pages[target] = self.index.resolve(target, self.page)
        return self._target_pages[target]

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
        page, schema = self.page, self.schema
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
            for position, target in enumerate(_relation_targets(entry, checked), start=1):
                resolved = self.target_page(target)
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
                            "dimension": dimension_of(dimension_text, dimensions),
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
                value = typed[name].typed if name in typed else None
                if declared.names_pages and value is not None:
                    # One spelling per page: the page ID, the target as written when it names none.
                    value = (
                        [self.target_page(t) or t for t in value]
                        if isinstance(value, list)
                        else self.target_page(value) or value
                    )
                row[declared.column_name] = value
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


def _relation_targets(entry, checked) -> list[str]:
    """The targets of a field's edges: each value that is one page link, and
    the slug of a page-slug field as written."""
    if checked.declared is not None and checked.declared.type == "page-slug":
        return [checked.typed] if checked.typed else []
    values = entry.value if isinstance(entry.value, list) else [entry.value]
    return [m.group(1).strip() for v in values if isinstance(v, str) and (m := WIKILINK_VALUE.match(v))]


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
    for match in REGISTRY_ID.finditer(body):
        if match.group(0) not in seen:
            seen.add(match.group(0))
            line += body.count("\n", counted, match.start())
            counted = match.start()
            yield line, match.group(0)

"""Checks that need more than one field: footnotes against references,
tables against their raw lines, links against the corpus, works across
pages. Frontmatter and file-level problems are found while parsing
(etl/wiki/parse.py); both use the codes in data/errors.yml.
"""

from __future__ import annotations

import difflib
import re

from ..diagnostics import Diagnostic, diagnose
from ..rows.corpus_index import CorpusIndex, citation_status
from ..rows.status_tables import is_status_table, parse_status_cell
from ..schema import Schema
from ..wiki.markdown import table_line
from ..wiki.parse import ParsedPage, in_year_range, year_range_text
from ..wiki.syntax import LEADING_PAGE_LINK, MALFORMED_REGISTRY_ID

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
MISSING_WORDS = {
    "identifier": "identifier (DOI, PMID, PMC, ISBN) and links no study page",
    "authors": "authors",
    "year": "publication year",
}


def count_cells(line: str) -> int:
    """Cells in a raw pipe-table line, as GitHub counts them: split on
    unescaped pipes, ignoring one leading and one trailing pipe."""
    stripped = table_line(line)
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    return len(UNESCAPED_PIPE.split(stripped))


def check_page(parsed: ParsedPage, index: CorpusIndex, schema: Schema) -> list[Diagnostic]:
    """The problems of one page that need more than one field, in the order
    a reader meets them: names, footnotes and their records, gap tags,
    tables, trial registrations, links."""
    return [
        *_check_names(parsed),
        *_check_footnotes(parsed),
        *_check_citations(parsed, index, schema),
        *_check_gap_tags(parsed, schema),
        *_check_tables(parsed, schema),
        *_check_registry_ids(parsed),
        *_check_links(parsed, index),
    ]


def _check_names(parsed: ParsedPage) -> list[Diagnostic]:
    """The file name as a slug, the slug and handle fields, verified without a date."""
    path, fm = parsed.path, parsed.frontmatter
    found: list[Diagnostic] = []
    if not SLUG.match(parsed.slug):
        found.append(
            diagnose(path, 1, "slug-mismatch", f"file name '{parsed.slug}' is not a lowercase hyphenated slug")
        )
    for key in ("slug", "handle"):
        entry = fm.entry(key)
        if entry is not None and entry.value is not None and str(entry.value) != parsed.slug:
            found.append(
                diagnose(
                    path,
                    entry.line,
                    "slug-mismatch",
                    f"{key}: '{entry.value}' differs from the file name '{parsed.slug}'",
                )
            )

    verified = fm.entry("verified")
    if verified is not None and verified.value is True and fm.get("verified-date") is None:
        found.append(diagnose(path, verified.line, "verified-no-date", "verified: true but no verified-date"))
    return found


def _check_footnotes(parsed: ParsedPage) -> list[Diagnostic]:
    """Footnotes defined twice, cited but not defined, defined but not cited."""
    path, body = parsed.path, parsed.body
    found: list[Diagnostic] = []
    defined: dict[str, int] = {}
    for definition in body.footnote_defs:
        if definition.label in defined:
            found.append(
                diagnose(
                    path,
                    definition.line,
                    "footnote-duplicate",
                    f"footnote [^{definition.label}] is already defined at line {defined[definition.label]}",
                )
            )
        else:
            defined[definition.label] = definition.line
    referenced = {ref.label for ref in body.footnote_refs}
    for ref in body.footnote_refs:
        if ref.label not in defined:
            found.append(diagnose(path, ref.line, "footnote-undefined", f"[^{ref.label}] is cited but never defined"))
    for label, line in defined.items():
        if label not in referenced:
            found.append(
                diagnose(path, line, "footnote-unreferenced", f"footnote [^{label}] is defined but never cited")
            )
    return found


def _check_citations(parsed: ParsedPage, index: CorpusIndex, schema: Schema) -> list[Diagnostic]:
    """Each footnote's record: empty, unreadable, incomplete, out-of-range year, malformed identifier."""
    path, body = parsed.path, parsed.body
    found: list[Diagnostic] = []
    for definition, citation in zip(body.footnote_defs, parsed.citations):
        _, status, missing = citation_status(citation, parsed.page, index)
        if not definition.record.strip():
            found.append(
                diagnose(
                    path, definition.line, "footnote-empty", f"footnote [^{definition.label}] has no text of its own"
                )
            )
        elif status == "unparsed":
            found.append(
                diagnose(
                    path,
                    definition.line,
                    "citation-shape",
                    f"footnote [^{definition.label}] has no identifier, authors or year",
                )
            )
        else:
            for part in missing:
                found.append(
                    diagnose(
                        path,
                        definition.line,
                        f"citation-no-{part}",
                        f"footnote [^{definition.label}] names no {MISSING_WORDS[part]}",
                    )
                )
        if citation.year is not None and not in_year_range(citation.year, schema):
            found.append(
                diagnose(
                    path,
                    definition.line,
                    "year-range",
                    f"footnote [^{definition.label}]: year {citation.year} is out of range ({year_range_text(schema)})",
                )
            )
        for scheme_name, value in citation.malformed:
            found.append(
                diagnose(
                    path,
                    definition.line,
                    "identifier-format",
                    f"footnote [^{definition.label}]: {value!r} is not a valid {scheme_name}",
                )
            )
    return found


def _check_gap_tags(parsed: ParsedPage, schema: Schema) -> list[Diagnostic]:
    """Gap tags the vocabulary does not know, with the nearest known one."""
    path, body = parsed.path, parsed.body
    found: list[Diagnostic] = []
    known_tags = [t["tag"] for t in schema.vocabularies["gap_tags"]]
    tags = [(g.tag, g.line) for g in body.gaps] + [(g["tag"], g["line"]) for g in parsed.frontmatter_gaps]
    for tag, line in tags:
        if tag not in known_tags:
            nearest = difflib.get_close_matches(tag, known_tags, n=1, cutoff=0.75)
            hint = f"; did you mean #{nearest[0]}?" if nearest else ""
            found.append(diagnose(path, line, "gap-tag-unknown", f"unknown gap tag #{tag}{hint}"))
    return found


def _check_tables(parsed: ParsedPage, schema: Schema) -> list[Diagnostic]:
    """Ragged rows, unknown statuses in status tables, rows without a header."""
    path, body = parsed.path, parsed.body
    found: list[Diagnostic] = []
    # tables: compare each raw line's cell count with the header's
    statuses = {s["status"] for s in schema.vocabularies["status_values"]}
    lines = parsed.source_lines
    for table in body.tables:
        header_cells = count_cells(lines[table.line - 1]) if 0 < table.line <= len(lines) else len(table.header)
        for row_line in table.row_lines:
            cells = count_cells(lines[row_line - 1]) if 0 < row_line <= len(lines) else header_cells
            if cells != header_cells:
                found.append(
                    diagnose(
                        path, row_line, "table-ragged", f"table row has {cells} cells but the header has {header_cells}"
                    )
                )
        if is_status_table(table.header):
            for cells, row_line in zip(table.rows, table.row_lines):
                status_text = cells[1] if len(cells) > 1 else ""
                if parse_status_cell(status_text, statuses)[0] is None:
                    found.append(
                        diagnose(
                            path,
                            row_line,
                            "status-unknown",
                            f"status {status_text[:60]!r} does not start with a known status value",
                        )
                    )

    for line in body.orphan_table_lines:
        found.append(
            diagnose(
                path,
                line,
                "table-no-header",
                "pipe-table rows without a header and '|---|' line are shown as plain text",
            )
        )
    return found


def _check_registry_ids(parsed: ParsedPage) -> list[Diagnostic]:
    """NCT numbers without exactly eight digits, on any line of the page."""
    path = parsed.path
    found: list[Diagnostic] = []
    for number, line in enumerate(parsed.source_lines, start=1):
        for match in MALFORMED_REGISTRY_ID.finditer(line):
            found.append(
                diagnose(
                    path,
                    number,
                    "identifier-format",
                    f"{match.group(0)!r} is not a valid NCT number (NCT and eight digits)",
                )
            )
    return found


def _check_links(parsed: ParsedPage, index: CorpusIndex) -> list[Diagnostic]:
    """Wikilinks in the body and frontmatter, and the slugs of page-slug
    fields, that name no page of the snapshot."""
    path, body, fm = parsed.path, parsed.body, parsed.frontmatter
    found: list[Diagnostic] = []
    for link in body.links:
        if link.kind == "wikilink" and link.target and index.resolve(link.target, parsed.page) is None:
            found.append(
                diagnose(path, link.line, "wikilink-missing", f"[[{link.target}]] names no page in this snapshot")
            )
    for entry in fm.fields:
        checked = parsed.typed_fields.get(entry.key)
        slug = checked.typed if checked and checked.declared and checked.declared.type == "page-slug" else None
        if slug and not LEADING_PAGE_LINK.match(entry.value) and index.resolve(slug, parsed.page) is None:
            found.append(
                diagnose(path, entry.line, "wikilink-missing", f"{entry.key}: '{slug}' names no page in this snapshot")
            )
        values = entry.value if isinstance(entry.value, list) else [entry.value]
        for value in values:
            match = LEADING_PAGE_LINK.match(value) if isinstance(value, str) else None
            if match and index.resolve(match.group(1).strip(), parsed.page) is None:
                found.append(
                    diagnose(
                        path,
                        entry.line,
                        "wikilink-missing",
                        f"{entry.key}: [[{match.group(1).strip()}]] names no page in this snapshot",
                    )
                )
    return found


def check_slugs(paths: list[str]) -> list[Diagnostic]:
    """Pages sharing a file name."""
    by_slug: dict[str, list[str]] = {}
    for path in paths:
        by_slug.setdefault(path.rsplit("/", 1)[-1][:-3].lower(), []).append(path)
    found = []
    for slug, same in sorted(by_slug.items()):
        for path in same[1:]:
            found.append(diagnose(path, 1, "slug-duplicate", f"slug '{slug}' is also used by {same[0]}"))
    return found

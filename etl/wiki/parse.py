"""Parse one page: bytes in, a ParsedPage out, with diagnostics that name
the line. Pure: the caller reads the file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, diagnose
from ..options import DEFAULT_MAX_PAGE_BYTES
from ..schema import PageField, Schema
from .citations import Citation, parse_citation
from .frontmatter import Frontmatter, FrontmatterError, parse_frontmatter
from .markdown import Body, parse_body, sentence_claim
from .syntax import DOI_INTRO, GAP_TAG, WIKILINK_VALUE, mask_code

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class TypedField:
    """A frontmatter value checked against its declared page-type field."""

    declared: PageField | None
    typed: object  # value for the typed column (None when null or invalid)
    valid: bool


@dataclass
class ParsedPage:
    path: str  # relative path, '/'-separated
    page: str  # page ID: path without .md
    slug: str
    content_hash: str
    page_type: str | None
    frontmatter: Frontmatter
    typed_fields: dict[str, TypedField]
    body: Body
    citations: list[Citation]  # parsed record of each footnote definition, in order
    frontmatter_gaps: list[dict] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source_lines: list[str] = field(default_factory=list)
    size: int = 0


def page_id(path: str) -> str:
    return path[:-3] if path.endswith(".md") else path


def normalise_identifier(value: object, scheme: dict) -> str:
    text = str(value).strip()
    prefix = scheme.get("prefix")
    if prefix and not text.upper().startswith(prefix.upper()):
        text = prefix + text
    elif prefix:
        text = prefix + text[len(prefix) :]
    if scheme["scheme"] == "doi":
        text = DOI_INTRO.sub("", text)
    return text


def in_year_range(year: int, schema: Schema) -> bool:
    """Whether a year is one a year field or a cited work may have (the
    bounds are the year-range entry of the schema's errors.yml)."""
    first, last = schema.year_bounds
    return first <= year <= last


def year_range_text(schema: Schema) -> str:
    return "{} to {}".format(*schema.year_bounds)


def coerce(declared: PageField, value, schema: Schema) -> tuple[object, bool]:
    """(typed value, valid) for a declared field. Null is always valid."""
    if value is None:
        return None, True
    kind = declared.type
    if kind in ("string", "text"):
        if isinstance(value, (list, dict)):
            return None, False
        return (str(value).lower() if isinstance(value, bool) else str(value)), True
    if kind in ("integer", "year"):
        if isinstance(value, bool) or not isinstance(value, int):
            return None, False
        if kind == "year" and not in_year_range(value, schema):
            return None, False
        if declared.values is not None and value not in declared.values:
            return None, False
        return value, True
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, False
        return float(value), True
    if kind == "date":
        if isinstance(value, str) and ISO_DATE.match(value):
            return value, True
        return None, False
    if kind == "boolean":
        return (value, True) if isinstance(value, bool) else (None, False)
    if kind == "enum":
        text = str(value).lower() if isinstance(value, bool) else str(value)
        allowed = [str(v) for v in declared.values or ()]
        return (text, True) if text in allowed else (None, False)
    if kind == "list":
        if not isinstance(value, list) or any(isinstance(v, (list, dict)) for v in value):
            return None, False
        return [str(v) if v is not None else None for v in value], True
    if kind == "wikilink":
        match = WIKILINK_VALUE.match(str(value)) if isinstance(value, str) else None
        return (match.group(1).strip(), True) if match else (None, False)
    if kind == "page-slug":
        if not isinstance(value, str):
            return None, False
        match = WIKILINK_VALUE.match(value)  # [[digestive-system]] names the same page
        target = match.group(1).strip() if match else value.strip()
        return (target, True) if target else (None, False)
    if kind == "wikilinks":
        if not isinstance(value, list):
            return None, False
        targets = [WIKILINK_VALUE.match(v) if isinstance(v, str) else None for v in value]
        return [m.group(1).strip() for m in targets if m], all(targets)
    if kind == "identifier":
        if isinstance(value, (list, dict, bool)):
            return None, False
        scheme = schema.identifier_scheme(declared.scheme)
        text = normalise_identifier(value, scheme)
        return (text, True) if re.fullmatch(scheme["pattern"], text) else (None, False)
    raise ValueError(f"unknown field type {kind}")


def decode(path: str, data: bytes) -> tuple[str, list[Diagnostic]]:
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        text = data.decode("utf-8", errors="replace")
        return text, [
            diagnose(
                path,
                line,
                "not-utf8",
                f"file is not valid UTF-8 (byte {error.start}); undecodable bytes replaced with U+FFFD",
            )
        ]


def field_problem(declared: PageField, entry, page_type: str | None, schema: Schema) -> tuple[str, str]:
    """(code, message) for a value that does not fit its declared field."""
    value = entry.value
    if declared.type == "identifier":
        return "identifier-format", f"{entry.key}: {entry.raw!r} is not a valid {declared.scheme} identifier"
    if declared.type == "year" and isinstance(value, int) and not isinstance(value, bool):
        return "year-range", f"{entry.key}: year {value} is out of range ({year_range_text(schema)})"
    if declared.values is not None and not isinstance(value, (list, dict)):
        allowed = ", ".join(str(v) for v in declared.values)
        if page_type == "study" and entry.key == "study-design":
            return (
                "study-design-unknown",
                f"study-design: {entry.raw!r} is not a known study design (one of: {allowed})",
            )
        return "field-vocabulary", f"{entry.key}: {entry.raw!r} is not one of: {allowed}"
    expected = {
        "wikilinks": 'a list of links like ["[[page]]"]',
        "wikilink": 'a link like "[[page]]"',
        "page-slug": "a page's slug",
        "list": "a list",
        "date": "a date (YYYY-MM-DD)",
    }.get(declared.type, f"a {declared.type}")
    hint = (
        " (YAML 1.2 reads yes/no as text; write true or false)"
        if declared.type == "boolean" and str(value).lower() in ("yes", "no", "on", "off")
        else ""
    )
    return "field-type", f"{entry.key}: {entry.raw!r} is not {expected}{hint}"


def repair_unquoted_links(value):
    """YAML reads an unquoted [[page]] as a nested list [['page']]. Turn
    such items back into the "[[page]]" text the author wrote; returns
    (value, repaired)."""

    def as_link(item):
        if (
            isinstance(item, list)
            and len(item) == 1
            and isinstance(item[0], list)
            and len(item[0]) == 1
            and isinstance(item[0][0], str)
        ):
            return "[[" + item[0][0] + "]]"
        return None

    if as_link(value):  # key: [[page]]
        return [as_link(value)], True
    if isinstance(value, list):
        repaired = [as_link(item) or item for item in value]
        if repaired != value:
            return repaired, True
    return value, False


def _frontmatter_gaps(entry) -> list[dict]:
    """Gap tags written in a frontmatter value (claim: the value's sentence)
    or in its trailing comment (claim: the whole line)."""
    gaps = []
    raw = entry.raw or ""
    for match in GAP_TAG.finditer(mask_code(raw)):
        line = entry.line + raw.count("\n", 0, match.start())
        gaps.append(
            {
                "tag": match.group(1),
                "field": entry.key,
                "line": line,
                "claim": sentence_claim(raw, match.start(), match.end()).strip("\"' "),
            }
        )
    # In the comment source the comment's own '#' may be the tag's ("- x  #gap/y").
    for match in GAP_TAG.finditer(entry.comment_source or ""):
        gaps.append(
            {
                "tag": match.group(1),
                "field": entry.key,
                "line": entry.comment_line,
                "claim": f"{entry.key}: {raw}  # {entry.comment}",
            }
        )
    return gaps


def _read_fields(
    path: str,
    fm: Frontmatter,
    declared_fields: dict[str, PageField],
    page_type: str | None,
    schema: Schema,
    diagnostics: list[Diagnostic],
) -> tuple[dict[str, TypedField], list[dict]]:
    """Each frontmatter value checked against its declared field, and the
    gap tags written in the frontmatter; problems go to `diagnostics`."""
    typed_fields = {}
    frontmatter_gaps = []
    for entry in fm.fields:
        entry.value, repaired = repair_unquoted_links(entry.value)
        if repaired:
            diagnostics.append(
                diagnose(
                    path,
                    entry.line,
                    "field-type",
                    f'{entry.key}: unquoted [[links]] are read by YAML as nested lists; write them as "[[page]]"',
                )
            )
        declared = declared_fields.get(entry.key)
        if declared is None:
            typed_fields[entry.key] = TypedField(None, None, True)
        else:
            typed, valid = coerce(declared, entry.value, schema)
            typed_fields[entry.key] = TypedField(declared, typed, valid)
            if not valid:
                code, message = field_problem(declared, entry, page_type, schema)
                diagnostics.append(diagnose(path, entry.line, code, message))
        frontmatter_gaps += _frontmatter_gaps(entry)
    for name, declared in declared_fields.items():
        if declared.required and fm.entry(name) is None:
            diagnostics.append(
                diagnose(
                    path,
                    fm.entry("type").line,
                    "missing-field",
                    f"required field '{name}' missing for page type '{page_type}'",
                )
            )
    return typed_fields, frontmatter_gaps


def parse_page(path: str, data: bytes, schema: Schema, max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES) -> ParsedPage:
    """Parse one page's bytes. Never raises on bad content: problems become
    diagnostics and the page keeps whatever could be read."""
    text, diagnostics = decode(path, data)
    if text.startswith("\ufeff"):
        text = text[1:]
    # One line-ending convention, as markdown-it uses for its line maps.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(data) > max_page_bytes:
        diagnostics.append(
            diagnose(path, 1, "page-too-large", f"file is {len(data):,} bytes, over the {max_page_bytes:,}-byte limit")
        )
    if not text.strip():
        diagnostics.append(diagnose(path, 1, "empty-file", "file is empty"))
    try:
        fm = parse_frontmatter(text)
    except FrontmatterError as error:
        # "ignored" only where the build goes on without it; a blocking code stops the build.
        outcome = "the build stops until it is fixed" if error.code in schema.blocking_codes else "frontmatter ignored"
        diagnostics.append(diagnose(path, error.line, error.code, f"{error.message}; {outcome}"))
        fm = Frontmatter(fields=[], body=text, body_line=1)
    else:
        if not fm.fields and text.strip():
            diagnostics.append(diagnose(path, 1, "no-frontmatter", "page has no YAML frontmatter"))

    page_type = fm.get("type")
    declared_fields: dict[str, PageField] = {}
    if page_type is not None:
        page_type = str(page_type)
        if page_type in schema.page_types:
            declared_fields = schema.page_types[page_type].fields
        else:
            type_line = fm.entry("type").line
            diagnostics.append(diagnose(path, type_line, "unknown-page-type", f"unknown page type '{page_type}'"))
    elif fm.fields:
        diagnostics.append(diagnose(path, 1, "missing-type", "frontmatter has no 'type' field"))

    typed_fields, frontmatter_gaps = _read_fields(path, fm, declared_fields, page_type, schema, diagnostics)

    body = parse_body(fm.body, fm.body_line)
    designs = schema.vocabularies["study_designs"]
    citations = [parse_citation(definition.record, designs, schema.venues) for definition in body.footnote_defs]

    return ParsedPage(
        path=path,
        page=page_id(path),
        slug=page_id(path).rsplit("/", 1)[-1],
        content_hash=hashlib.sha256(data).hexdigest(),
        page_type=page_type,
        frontmatter=fm,
        typed_fields=typed_fields,
        body=body,
        citations=citations,
        frontmatter_gaps=frontmatter_gaps,
        diagnostics=diagnostics,
        source_lines=text.split("\n"),
        size=len(data),
    )

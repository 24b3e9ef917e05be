"""An independent count of what the wiki's source files contain.

Deliberately shares no code with etl/: plain line scanning with its own
regular expressions. The "nothing lost" tests compare these counts with the
rows in the package and the database.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

FENCE = re.compile(r"^\s{0,3}(```|~~~)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
FOOTNOTE_DEFINITION = re.compile(r"^\s*\[\^[^\]\s]+\]:")
FOOTNOTE_REFERENCE = re.compile(r"\[\^[^\]\s]+\]")
TAG = re.compile(r"(?:^|(?<=[\s(\[*_>|,;:\"'“‘]))#(?:gap/[A-Za-z0-9][\w-]*[A-Za-z0-9]|stub|unsourced)(?![\w/-])")
WIKILINK = re.compile(r"\[\[[^\[\]]*\]\]")
TOP_LEVEL_KEY = re.compile(r"^([^\s#\-\[{][^:]*?)\s*:(?:\s|$)")
# A DOI however it is introduced (doi:, DOI, a doi.org URL or bare), a PMID,
# and a PMC id written PMC123, PMC:123 or PMCID: PMC123.
RECORD_IDENTIFIER = re.compile(
    r"doi\.org/10\.\d{4,9}/|(?<![\w./-])10\.\d{4,9}/|\bPMID:?\s*\d{1,9}\b|\bPMC(?:ID)?\s*:?\s*(?:PMC)?\s?\d{4,9}\b",
    re.IGNORECASE,
)
REGISTRATION = re.compile(r"\bNCT[0-9]{8}\b")
NCT_KEY = re.compile(r"^nct-id\s*:\s*\"?(NCT[0-9]{8})")
DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def split_page(text: str) -> tuple[list[str], list[str]]:
    """(frontmatter lines, body lines) by the '---' fences."""
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        for end in range(1, len(lines)):
            if lines[end].strip() == "---":
                return lines[1:end], lines[end + 1 :]
    return [], lines


def body_lines_outside_fences(body: list[str]) -> list[str]:
    kept, fenced = [], False
    for line in body:
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(INLINE_CODE.sub("", line))
    return kept


def count_page(text: str, identifier_keys: set[str], slug_keys: frozenset[str] = frozenset()) -> Counter:
    """Counts for one page; `slug_keys` are the keys whose value names a page
    by its bare slug (a link as much as a [[link]] is)."""
    counts: Counter = Counter()
    frontmatter, body = split_page(text)
    for line in frontmatter:
        key = TOP_LEVEL_KEY.match(line)
        if key:
            counts["frontmatter keys"] += 1
            if key.group(1) in identifier_keys:
                counts["frontmatter identifiers"] += 1
            value = line[key.end() :].strip().strip("\"'")
            if key.group(1) in slug_keys and value not in ("", "null", "~") and "[[" not in value:
                counts["frontmatter links"] += 1
        counts["frontmatter links"] += len(WIKILINK.findall(INLINE_CODE.sub("", line)))
        counts["gap tags"] += len(TAG.findall(INLINE_CODE.sub("", line)))
    lines = body_lines_outside_fences(body)
    # Every trial registration named on the page (frontmatter nct-id, body).
    registrations = {m.group(1) for line in frontmatter if (m := NCT_KEY.match(line))}
    registrations.update(nct for line in lines for nct in REGISTRATION.findall(line))
    counts["registered trials"] = len(registrations)
    in_record = False  # a footnote definition runs until a blank line
    for line in lines:
        if FOOTNOTE_DEFINITION.match(line):
            counts["footnote definitions"] += 1
            line = FOOTNOTE_DEFINITION.sub("", line, count=1)
            in_record = True
        elif not line.strip():
            in_record = False
        if in_record:
            counts["footnote identifiers"] += len(RECORD_IDENTIFIER.findall(line))
        counts["footnote references"] += len(FOOTNOTE_REFERENCE.findall(line))
        counts["gap tags"] += len(TAG.findall(line))
        counts["body wikilinks"] += len(WIKILINK.findall(line))
    # A table is a header line, a delimiter line, then the pipe lines after it.
    plain = [re.sub(r"^[\s>]*", "", line) for line in lines]
    index = 0
    while index < len(plain) - 1:
        if plain[index].startswith("|") and "-" in plain[index + 1] and DELIMITER_ROW.match(plain[index + 1]):
            index += 2
            while index < len(plain) and plain[index].startswith("|"):
                counts["table rows"] += 1
                index += 1
        else:
            index += 1
    return counts


def count_wiki(
    files: list[tuple[str, str]],
    identifier_keys_by_type: dict[str, set[str]],
    slug_keys_by_type: dict[str, set[str]] | None = None,
) -> dict[str, Counter]:
    """Counts per file for (path, text) pairs."""
    result = {}
    for path, text in files:
        frontmatter, _ = split_page(text)
        page_type = next((line.split(":", 1)[1].strip() for line in frontmatter if line.startswith("type:")), None)
        result[path] = count_page(
            text,
            identifier_keys_by_type.get(page_type or "", set()),
            frozenset((slug_keys_by_type or {}).get(page_type or "", ())),
        )
    return result


def read_files(root: Path, paths: list[str]) -> list[tuple[str, str]]:
    return [(p, (root / p).read_bytes().decode("utf-8", errors="replace")) for p in paths]

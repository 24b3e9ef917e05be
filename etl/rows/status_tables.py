"""Evidence-grading tables ("Dimension | Status"): which tables they are,
and a Status cell read as a status from the vocabulary and its qualifier."""

from __future__ import annotations

import re

STATUS_WORD = re.compile(r"^[*_\s]*([A-Za-z][A-Za-z-]*(?:\s+[a-z]+)?)")
STATUS_SYNONYMS = {
    "partially": "partial",
    "partly": "partial",
    "not tested": "not-tested",
    "untested": "not-tested",
    "n/a": "not-applicable",
    "not applicable": "not-applicable",
}


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


def dimension_of(text: str, dimensions: list[dict]) -> str:
    lowered = text.lower()
    for entry in dimensions:
        if entry["match"] and entry["match"] in lowered:
            return entry["dimension"]
    return "other"


def is_status_table(header: list[str]) -> bool:
    cells = [h.strip("*_ ").lower() for h in header]
    return len(cells) >= 2 and cells[0] == "dimension" and cells[1] == "status"

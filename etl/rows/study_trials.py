"""The trial a study page reports: its facts from the frontmatter, its
key-value and outcome tables, its design sections, and the outcomes its
result sections state line by line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..wiki.parse import ParsedPage
from ..wiki.syntax import WIKILINK_VALUE
from ..wiki.trial_names import find_species, slug_words
from ..wiki.trial_outcomes import Outcome, read_outcome
from ..wiki.trial_tables import header_meaning, is_key_value_table, is_trial_table, read_key_value_table, read_table_row
from ..wiki.trials import ACRONYM, Facts, design_facts, find_duration, split_clauses

RESULT_HEADING = re.compile(r"result|finding|outcome|endpoint|efficacy|safety", re.I)
# A page's own summary of its trial states its results too.
SUMMARY_HEADING = re.compile(r"tl;?dr|summary|abstract|bottom line|at a glance", re.I)
DESIGN_HEADING = re.compile(r"tl;?dr|summary|design|method|abstract|overview", re.I)
LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
BOLD_LEAD = re.compile(r"^\*\*(?P<lead>[^*]{1,80}?)[:.]?\*\*\s*:?\s*")


def code_lines(body) -> set[int]:
    """The lines of fenced code blocks, fences included."""
    lines: set[int] = set()
    for fence in body.fences:
        lines.update(range(fence.line, fence.line + fence.content.count("\n") + 2))
    return lines


def non_prose_lines(body) -> set[int]:
    """Lines of code, tables and footnote definitions."""
    lines = code_lines(body)
    for table in body.tables:
        lines.update(range(table.line, table.end_line + 1))
    for definition in body.footnote_defs:
        lines.update(range(definition.line, definition.end_line + 1))
    return lines


@dataclass
class StudyTrial:
    """What a study page says of the trial it reports."""

    facts: Facts
    outcomes: list[Outcome]
    registry_id: str | None
    line_problems: list[tuple[int, list[str]]]  # numbers that could not be read, by line


def study_page_trial(parsed: ParsedPage, index, species=None) -> StudyTrial | None:
    """The trial a study page reports, or None when the page is not a trial
    (only rct designs and registered studies are)."""
    typed = parsed.typed_fields

    def value(key):
        entry = typed.get(key)
        return entry.typed if entry and entry.declared and entry.valid else None

    registry_id = value("nct-id")
    if value("study-design") != "rct" and not registry_id:
        return None
    facts = _frontmatter_facts(parsed, index, value)
    organism = value("organism")
    if species and isinstance(organism, str):  # 'homo-sapiens', 'mus-musculus'; 'multi' names none
        facts.set("species", find_species(organism, species))
    outcomes: list[Outcome] = []
    line_problems: list = []
    from_tables = _tables(parsed, facts, outcomes, line_problems)  # read whether or not the frontmatter names one
    registry_id = registry_id or from_tables
    _design(parsed, facts)
    _result_sections(parsed, outcomes, line_problems)
    return StudyTrial(facts, outcomes, registry_id, line_problems)


def _frontmatter_facts(parsed: ParsedPage, index, value) -> Facts:
    facts = Facts()
    facts.set("randomised", True if value("study-design") == "rct" else None)
    facts.set("title", value("title"))
    n = value("n-subjects")
    if n is not None:
        facts.set("n_randomised", n)
        facts.set("n_raw", f"n-subjects: {n}")
    for alias in value("aliases") or []:
        if re.fullmatch(ACRONYM, str(alias)):
            facts.set("acronym", str(alias))
            break
    # The first intervention that is a page, else the first one named
    # ('[[tretinoin]]' with no page of its own is still what was tested).
    named = []
    for target in value("intervention") or []:
        # A wikilinks field's typed value is the link target; '[[x]]' kept for safety.
        match = WIKILINK_VALUE.match(str(target))
        name = (match.group(1) if match else str(target)).strip()
        if name and (resolved := index.resolve(name, parsed.page)):
            facts.set("intervention_page", resolved)
            facts.set("intervention", slug_words(name))
            break
        named.append(name)
    if named and named[0]:
        facts.set("intervention", slug_words(named[0]))
    return facts


def _tables(parsed: ParsedPage, facts: Facts, outcomes: list, line_problems: list) -> str | None:
    """Facts and outcomes of the page's key-value and outcome tables; the
    first NCT id a key-value table names."""
    registry_id = None
    for table in parsed.body.tables:
        if is_key_value_table(table.header):
            table_facts, table_outcomes, ids = read_key_value_table(table.rows)
            facts.merge(table_facts)
            for outcome in table_outcomes:
                outcome.line = table.line
            outcomes += table_outcomes
            registry_id = registry_id or (ids[0] if ids else None)
            line_problems.append((table.line, table_facts.problems))
        elif table.header and not is_trial_table(table.header, table.rows):
            meanings = {header_meaning(h) for h in table.header}
            if meanings & {"primary_measure", "measure"} and meanings & {"p_value", "result", "ci"}:
                for cells, line in zip(table.rows, table.row_lines):
                    reading = read_table_row(table.header, cells)
                    for outcome in reading.outcomes:
                        outcome.line = line
                    outcomes += reading.outcomes
                    line_problems.append((line, reading.facts.problems))
    return registry_id


def _design(parsed: ParsedPage, facts: Facts) -> None:
    body = parsed.body
    design_text = (
        " ".join(s.text or "" for s in body.sections if DESIGN_HEADING.search(s.heading)) + " " + (body.title or "")
    )
    facts.merge(design_facts(design_text))
    if "duration_weeks" not in facts.values:
        for section in body.sections:
            if DESIGN_HEADING.search(section.heading) and (duration := _duration_statement(section.text or "")):
                facts.set("duration_weeks", duration[0])
                facts.set("duration_raw", duration[1])
                break


def _result_sections(parsed: ParsedPage, outcomes: list, line_problems: list) -> None:
    """Outcomes stated line by line under result and summary headings (or
    within a section under one) and in the lead under the title, a bold
    lead naming the measure ('**HbA1c:** −0.46 pp ...')."""
    body = parsed.body
    table_lines = non_prose_lines(body)
    by_seq = {section.seq: section for section in body.sections}
    for section in body.sections:
        headings = _headings(section, by_seq)
        if section.level != 1 and not any(RESULT_HEADING.search(h) or SUMMARY_HEADING.search(h) for h in headings):
            continue
        roles = [re.search(r"\b(primary|secondary)\b", heading, re.I) for heading in headings]
        role = next((found.group(1).lower() for found in roles if found), None)
        body_lines = parsed.frontmatter.body.split("\n")
        for line in range(section.line + 1, section.end_line + 1):
            offset = line - parsed.frontmatter.body_line
            raw = body_lines[offset] if 0 <= offset < len(body_lines) else ""
            if line in table_lines or not raw.strip() or raw.lstrip().startswith(("#", ">", "|")):
                continue
            text = LIST_MARKER.sub("", raw.strip())
            lead = BOLD_LEAD.match(text)
            measure = None
            if lead:
                measure = re.sub(r"\s*\([^)]*\)\s*$", "", lead.group("lead")).strip()
                text = text[lead.end() :]
            lead_role = role
            if lead and re.search(r"\bprimary\b", lead.group("lead"), re.I):
                lead_role = "primary"
            problems = []
            for clause in split_clauses(text, ";"):
                outcome, found = read_outcome(clause, role=lead_role, measure=measure)
                problems += found
                if outcome:
                    outcome.line = line
                    outcomes.append(outcome)
            line_problems.append((line, problems))


def _headings(section, by_seq: dict) -> list[str]:
    """A section's heading and those of the sections holding it, nearest first."""
    headings = []
    while section is not None:
        headings.append(section.heading)
        section = by_seq.get(section.parent_seq)
    return headings


def _duration_statement(text: str):
    """A duration stated as the trial's length ('for 12 weeks', '24-week
    trial'), not any number of days in the text."""
    match = re.search(
        r"(?:\bfor\s+|\bover\s+)(\d+(?:\.\d+)?[\s-](?:weeks?|days?|months?|years?))\b"
        r"|(\d+(?:\.\d+)?-(?:week|day|month|year))\s+(?:trial|study|intervention|treatment)",
        text,
        re.I,
    )
    if not match:
        return None
    return find_duration(match.group(1) or match.group(2))

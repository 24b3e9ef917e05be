"""Rows stage for trials: every place a page mentions a trial (footnote
record, trial-table row, study page, NCT id in prose, explicit ```trial
block) becomes a mention; etl/corpus/trials.py joins the mentions of one
trial into its rows.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from functools import lru_cache

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ..diagnostics import Diagnostic, diagnose
from ..schema import load_schema
from ..wiki.citations import DOI, SEGMENT_SPLIT, clean_doi
from ..wiki.frontmatter import plain
from ..wiki.markdown import WIKILINK, sentence_claim
from ..wiki.numbers import find_ci, find_p_value, parse_number, parse_range
from ..wiki.parse import WIKILINK_VALUE, ParsedPage
from ..wiki.trial_tables import (
    header_meaning,
    is_key_value_table,
    is_trial_table,
    read_key_value_table,
    read_table_row,
    trial_table_kind,
)
from ..wiki.trials import (
    ACRONYM,
    ACRONYM_BEFORE_ID,
    REGISTRY_ID,
    Arm,
    Facts,
    Outcome,
    design_facts,
    find_dose,
    find_duration,
    find_phase,
    find_registry_status,
    phase_cell,
    read_outcome,
    read_outcomes,
    sample_size_facts,
    split_clauses,
    text_facts,
)

TRIAL_DESIGNS = {"rct", "clinical-trial"}
# Which kind of mention wins when two state the same fact.
INTERVENTION_FOLDERS = ("molecules/compounds/", "interventions/")
RESULT_HEADING = re.compile(r"result|finding|outcome|endpoint|efficacy|safety", re.I)
DESIGN_HEADING = re.compile(r"tl;?dr|summary|design|method|abstract|overview", re.I)
LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
BOLD_LEAD = re.compile(r"^\*\*(?P<lead>[^*]{1,80}?)[:.]?\*\*\s*:?\s*")

# The keys an explicit ```trial block may state, and the column each fills.
EXPLICIT_KEYS = {
    "trial": None,
    "registry-id": "registry_id",
    "acronym": "acronym",
    "title": "title",
    "design": "design",
    "randomised": "randomised",
    "blinding": "blinding",
    "phase": "phase",
    "registry-status": "registry_status",
    "n-randomised": "n_randomised",
    "n-completed": "n_completed",
    "duration": "duration_weeks",
    "intervention": "intervention",
    "dose": "dose_value",
    "comparator": "comparator",
    "condition": "condition",
    "population": "population",
    "inclusion": "inclusion",
    "arms": None,
    "outcomes": None,
}
OUTCOME_KEYS = {"measure", "role", "effect", "metric", "unit", "direction", "comparison", "arms", "ci", "p"}


@lru_cache(maxsize=1)
def declared_enums() -> dict[str, set]:
    """Allowed values of the enumerated columns an explicit block may set,
    read from their declaration in data/tables.yml."""
    schema = load_schema()
    trials, outcomes = schema.tables["trials"], schema.tables["trial_outcomes"]
    enums = {name: set(trials.column(name).enum) for name in ("design", "blinding", "registry_status")}
    enums.update({name: set(outcomes.column(name).enum) for name in ("role", "direction")})
    return enums


def _mention(kind, page, path, line, text, facts: Facts, outcomes: list[Outcome], **keys) -> dict:
    return {
        "kind": kind,
        "page": page,
        "label": keys.get("label"),
        "text": text,
        "registry_id": keys.get("registry_id"),
        "work": keys.get("work"),
        "study_page": keys.get("study_page"),
        "facts": dict(facts.values),
        "arms": [asdict(a) for a in facts.arms],
        "outcomes": [asdict(o) for o in outcomes],
        "gap_tags": keys.get("gap_tags", []),
        "unmapped": keys.get("unmapped"),
        "explicit_fields": keys.get("explicit_fields", []),
        "source_path": path,
        "source_line": line,
    }


def _single_registry_id(text: str) -> str | None:
    ids = sorted(set(REGISTRY_ID.findall(text or "")))
    return ids[0] if len(ids) == 1 else None


def _intervention_page(text: str | None, index, page: str) -> str | None:
    """The compound or intervention page an intervention's wording names."""
    if not text:
        return None
    for match in WIKILINK.finditer(text):
        resolved = index.resolve(match.group(1).strip(), page)
        if resolved:
            return resolved
    words = re.findall(r"[A-Za-z0-9][\w-]*", text.lower())
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            resolved = index.resolve("-".join(words[start : start + size]), page)
            if resolved and resolved.startswith(INTERVENTION_FOLDERS):
                return resolved
    return None


def page_trial_mentions(
    parsed: ParsedPage, index, footnote_works: dict[int, str | None]
) -> tuple[list[dict], list[Diagnostic]]:
    """Every trial mention on one page, and the problems found reading them.
    footnote_works maps a footnote's position to its work key."""
    page, path = parsed.page, parsed.path
    body = parsed.body
    mentions: list[dict] = []
    diagnostics: list[Diagnostic] = []

    def report(line, problems):
        for problem in problems:
            diagnostics.append(diagnose(path, line, "trial-number-unparsed", problem))

    # A gap tag qualifies the footnotes its claim cites, and those cited
    # anywhere on its line (a paragraph or list item is one line).
    tags_by_footnote: dict[str, list[str]] = {}
    tags_by_line: dict[int, list[str]] = {}
    for gap in body.gaps:
        tags_by_line.setdefault(gap.line, []).append(gap.tag)
        for label in gap.footnotes:
            tags_by_footnote.setdefault(label, []).append(gap.tag)
    for ref in body.footnote_refs:
        for tag in tags_by_line.get(ref.line, []):
            tags_by_footnote.setdefault(ref.label, []).append(tag)

    def add(kind, line, text, facts, outcomes, **keys):
        facts.set("intervention_page", _intervention_page(facts.values.get("intervention"), index, page))
        mentions.append(_mention(kind, page, path, line, text, facts, outcomes, **keys))
        report(line, facts.problems)
        for outcome in outcomes:
            if None not in (outcome.effect_value, outcome.ci_low, outcome.ci_high) and not min(
                outcome.ci_low, outcome.ci_high
            ) <= outcome.effect_value <= max(outcome.ci_low, outcome.ci_high):
                diagnostics.append(
                    diagnose(
                        path,
                        line,
                        "trial-effect-outside-ci",
                        f"{outcome.measure}: effect {outcome.effect_raw} lies outside its interval {outcome.ci_raw} (a sign written one way and the interval the other?)",
                    )
                )

    # the study page itself
    if parsed.page_type == "study":
        mention = _study_page_mention(parsed, index)
        if mention:
            facts, outcomes, registry_id, line_problems = mention
            for line, problems in line_problems:
                report(line, problems)
            tags = sorted({g.tag for g in body.gaps})
            add(
                "study-page",
                1,
                parsed.typed_fields["title"].typed if "title" in parsed.typed_fields else page,
                facts,
                outcomes,
                registry_id=registry_id,
                work=index.study_work(page),
                study_page=page,
                gap_tags=tags,
            )

    # footnote records of trials
    seen_labels = set()
    for position, (definition, citation) in enumerate(zip(body.footnote_defs, parsed.citations)):
        if definition.label in seen_labels:
            continue  # a duplicate definition; readers see the first
        seen_labels.add(definition.label)
        registry_id = _single_registry_id(definition.record)
        if citation.design not in TRIAL_DESIGNS and not registry_id:
            continue
        facts, outcomes = _footnote_facts(definition.record, citation)
        study_page = index.resolve(citation.study_link, page) if citation.study_link else None
        add(
            "footnote",
            definition.line,
            definition.record,
            facts,
            outcomes,
            label=definition.label,
            registry_id=registry_id,
            work=footnote_works.get(position),
            study_page=study_page,
            gap_tags=sorted(set(tags_by_footnote.get(definition.label, []))),
        )

    # trial tables
    for table in body.tables:
        kind = (
            trial_table_kind(table.header, table.rows)
            if table.header and not is_key_value_table(table.header)
            else None
        )
        if kind is None:
            continue
        for cells, line in zip(table.rows, table.row_lines):
            reading = read_table_row(table.header, cells)
            if kind == "randomised-rows" and not reading.randomised_evidence:
                continue  # a 'Study' table row that is not a trial
            if kind == "registered-rows" and not reading.registry_ids:
                continue
            if not any(c.strip() for c in cells):
                continue
            registry_id = reading.registry_ids[0] if reading.registry_ids else None
            work = "doi:" + clean_doi(reading.doi).lower() if reading.doi and reading.doi.startswith("10.") else None
            if registry_id is None and work is None:
                links = [index.resolve(m.group(1).strip(), page) for m in WIKILINK.finditer(" ".join(cells))]
                study = next((p for p in links if p and "/studies/" in "/" + p), None)
            else:
                study = None
            text = " | ".join(cells)
            add(
                "table-row",
                line,
                text,
                reading.facts,
                reading.outcomes,
                registry_id=registry_id,
                work=work or (index.study_work(study)),
                study_page=study,
                gap_tags=sorted(set(tags_by_line.get(line, []))),
                unmapped=reading.unmapped or None,
            )

    # key-value tables ('Parameter | Value') naming a trial, off study pages
    if parsed.page_type != "study":
        for table in body.tables:
            if is_key_value_table(table.header) and any(REGISTRY_ID.search(" ".join(row)) for row in table.rows):
                table_facts, table_outcomes, ids = read_key_value_table(table.rows)
                if ids:
                    add(
                        "table-row",
                        table.line,
                        "\n".join(" | ".join(row) for row in table.rows),
                        table_facts,
                        table_outcomes,
                        registry_id=ids[0],
                        gap_tags=sorted({t for line in table.row_lines for t in tags_by_line.get(line, [])}),
                    )

    # NCT ids in prose, and any NCT id a footnote or table row above did
    # not take as its trial's: every registered trial the wiki names is a row.
    spans = {d.line: d.end_line for d in body.footnote_defs} | {t.line: t.end_line for t in body.tables}
    claimed = {
        (line, m["registry_id"])
        for m in mentions
        if m["registry_id"]
        for line in range(m["source_line"], spans.get(m["source_line"], m["source_line"]) + 1)
    }
    skip = _code_lines(body)
    body_lines = parsed.frontmatter.body.split("\n")
    for offset, text in enumerate(body_lines):
        line = parsed.frontmatter.body_line + offset
        if line in skip:
            continue
        for match in REGISTRY_ID.finditer(text):
            if (line, match.group(0)) in claimed:
                continue
            claimed.add((line, match.group(0)))
            sentence = sentence_claim(text, match.start(), match.end())
            facts = Facts()
            acronym = ACRONYM_BEFORE_ID.search(sentence[: sentence.find(match.group(0)) + 11])
            if acronym and not re.fullmatch(r"NCT\d+|RCT|II|III|IV", acronym.group("acronym")):
                facts.set("acronym", acronym.group("acronym"))
            if status := find_registry_status(sentence):
                facts.set("registry_status", status[0])
                facts.set("registry_status_text", status[1])
            facts.set("phase", find_phase(sentence))
            add(
                "prose",
                line,
                sentence,
                facts,
                [],
                registry_id=match.group(0),
                gap_tags=sorted(set(tags_by_line.get(line, []))),
            )

    # explicit facts
    by_label = {m["label"]: m for m in mentions if m["kind"] == "footnote"}
    for fence in body.fences:
        if fence.info.split()[:1] != ["trial"]:
            continue
        explicit, problems = read_explicit_block(fence.content, fence.line + 1, by_label, index, page)
        for line, code, message in problems:
            diagnostics.append(diagnose(path, line, code, message))
        if explicit:
            facts, outcomes, keys = explicit
            add("explicit", fence.line, fence.content.strip(), facts, outcomes, **keys)
    return mentions, diagnostics


def _footnote_facts(record: str, citation) -> tuple[Facts, list[Outcome]]:
    facts = Facts()
    outcomes: list[Outcome] = []
    if citation.design == "rct":
        facts.set("randomised", True)
    elif citation.design == "clinical-trial":
        facts.set("randomised", False)
    for segment in SEGMENT_SPLIT.split(record):
        segment = segment.strip()
        if not segment or DOI.search(segment) and len(segment) < 120 and ";" not in segment:
            continue
        if citation.n_text and segment == citation.n_text or re.match(r"^\s*n\s*[=≈~]", segment, re.I):
            facts.merge(sample_size_facts(segment))
            continue
        if segment == citation.authors or segment.lower().startswith("model:"):
            continue
        facts.merge(text_facts(segment))
        found, problems = read_outcomes(segment)
        outcomes += found
        facts.problems += problems
    return facts, outcomes


def _code_lines(body) -> set[int]:
    lines: set[int] = set()
    for fence in body.fences:
        lines.update(range(fence.line, fence.line + fence.content.count("\n") + 2))
    return lines


def _non_prose_lines(body) -> set[int]:
    lines = _code_lines(body)
    for table in body.tables:
        lines.update(range(table.line, table.end_line + 1))
    for definition in body.footnote_defs:
        lines.update(range(definition.line, definition.end_line + 1))
    return lines


def _study_page_mention(parsed: ParsedPage, index):
    """Facts and outcomes of the trial a study page reports, or None when
    the page is not a trial (only rct designs and registered studies are)."""
    typed = parsed.typed_fields

    def value(key):
        entry = typed.get(key)
        return entry.typed if entry and entry.declared and entry.valid else None

    registry_id = value("nct-id")
    if value("study-design") != "rct" and not registry_id:
        return None
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
    for target in value("intervention") or []:
        match = WIKILINK_VALUE.match(str(target))
        if match and (resolved := index.resolve(match.group(1).strip(), parsed.page)):
            facts.set("intervention_page", resolved)
            facts.set("intervention", match.group(1).strip().rsplit("/", 1)[-1])
            break
    outcomes: list[Outcome] = []
    line_problems = []
    body = parsed.body
    for table in body.tables:
        if is_key_value_table(table.header):
            table_facts, table_outcomes, ids = read_key_value_table(table.rows)
            facts.merge(table_facts)
            outcomes += table_outcomes
            registry_id = registry_id or (ids[0] if ids else None)
            line_problems.append((table.line, table_facts.problems))
        elif table.header and not is_trial_table(table.header, table.rows):
            meanings = {header_meaning(h) for h in table.header}
            if meanings & {"primary_measure", "measure"} and meanings & {"p_value", "result", "ci"}:
                for cells, line in zip(table.rows, table.row_lines):
                    reading = read_table_row(table.header, cells)
                    outcomes += reading.outcomes
                    line_problems.append((line, reading.facts.problems))
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
    table_lines = _non_prose_lines(body)
    for section in body.sections:
        if not RESULT_HEADING.search(section.heading):
            continue
        role = (
            "primary"
            if re.search(r"\bprimary\b", section.heading, re.I)
            else "secondary"
            if re.search(r"\bsecondary\b", section.heading, re.I)
            else None
        )
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
                    outcomes.append(outcome)
            line_problems.append((line, problems))
    return facts, outcomes, registry_id, line_problems


def _duration_statement(text: str):
    """A duration stated as the trial's length ('for 12 weeks', '24-week
    trial'), not any number of days in the text."""
    match = re.search(
        r"(?:\bfor\s+|\bover\s+)(\d+(?:\.\d+)?[\s-](?:weeks?|days?|months?|years?))\b|(\d+(?:\.\d+)?-(?:week|day|month|year))\s+(?:trial|study|intervention|treatment)",
        text,
        re.I,
    )
    if not match:
        return None
    return find_duration(match.group(1) or match.group(2))


# --- explicit facts ------------------------------------------------------


def read_explicit_block(content: str, first_line: int, footnotes: dict, index, page: str):
    """An explicit ```trial block: YAML naming the trial ('trial:' a
    footnote label on this page, an NCT id, a DOI or a [[study]] link) and
    the facts that win over extracted ones. Returns ((facts, outcomes,
    keys) or None, [(line, code, message)])."""
    problems: list[tuple[int, str, str]] = []
    try:
        data = YAML(typ="rt", pure=True).load(content)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = first_line + (mark.line if mark else 0)
        return None, [
            (line, "trial-block-invalid", f"trial block is not valid YAML: {getattr(error, 'problem', None) or error}")
        ]
    if not hasattr(data, "items"):
        return None, [(first_line, "trial-block-invalid", "trial block must be 'key: value' lines")]

    def line_of(key):
        try:
            return first_line + data.lc.key(key)[0]
        except Exception:
            return first_line

    for key in data:
        if key not in EXPLICIT_KEYS:
            problems.append(
                (
                    line_of(key),
                    "trial-block-invalid",
                    f"unknown key '{key}' in trial block (known: {', '.join(EXPLICIT_KEYS)})",
                )
            )
    name = str(data.get("trial") or "").strip()
    keys: dict = {"label": None, "registry_id": None, "work": None, "study_page": None}
    if not name:
        problems.append(
            (
                first_line,
                "trial-block-invalid",
                "trial block has no 'trial:' naming the trial (a footnote label, NCT id, DOI or [[study]] link)",
            )
        )
        return None, problems
    if REGISTRY_ID.fullmatch(name):
        keys["registry_id"] = name
    elif name.lower().startswith(("doi:", "10.")):
        keys["work"] = "doi:" + clean_doi(name.split(":", 1)[-1] if name.lower().startswith("doi:") else name).lower()
    elif match := WIKILINK_VALUE.match(name):
        keys["study_page"] = index.resolve(match.group(1).strip(), page)
        keys["work"] = index.study_work(keys["study_page"])
        if not keys["study_page"]:
            problems.append(
                (line_of("trial"), "trial-block-invalid", f"trial block names {name}, which is not a page of this wiki")
            )
            return None, problems
    elif name in footnotes:
        found = footnotes[name]
        keys = {
            "label": name,
            "registry_id": found["registry_id"],
            "work": found["work"],
            "study_page": found["study_page"],
        }
    else:
        problems.append(
            (
                line_of("trial"),
                "trial-block-invalid",
                f"trial block names '{name}', which is no trial footnote label on this page, NCT id, DOI or [[study]] link",
            )
        )
        return None, problems

    facts = Facts()
    explicit_fields = []

    def number(key, text, as_int=False):
        if isinstance(text, bool):
            value = None
        elif isinstance(text, (int, float)):
            value = text
        else:
            value = parse_number(str(text))
        if value is None or (as_int and float(value) != int(value)):
            problems.append((line_of(key), "trial-number-unparsed", f"trial block: {key}: '{text}' is not a number"))
            return None
        return int(value) if as_int else float(value)

    for key, raw in data.items():
        column = EXPLICIT_KEYS.get(key)
        if column is None or raw is None:
            continue
        text = str(plain(raw)).strip()
        if key in ("n-randomised", "n-completed"):
            value = number(key, raw, as_int=True)
        elif key == "duration":
            duration = find_duration(text)
            if duration is None:
                problems.append(
                    (
                        line_of(key),
                        "trial-number-unparsed",
                        f"trial block: duration: '{text}' is not a duration such as '13 weeks'",
                    )
                )
                continue
            facts.set("duration_raw", text)
            value = duration[0]
        elif key == "dose":
            dose = find_dose(text)
            if dose is None or dose.value is None:
                problems.append(
                    (
                        line_of(key),
                        "trial-number-unparsed",
                        f"trial block: dose: '{text}' is not a dose such as '100 mg/day s.c.'",
                    )
                )
                continue
            for part in ("unit", "frequency", "route", "raw"):
                facts.set(f"dose_{part}", getattr(dose, part))
                explicit_fields.append(f"dose_{part}")
            value = dose.value
        elif key == "phase":
            value = phase_cell(text)
            if value is None:
                problems.append(
                    (
                        line_of(key),
                        "trial-block-invalid",
                        f"trial block: phase: '{text}' is not a phase such as 2 or 1/2",
                    )
                )
                continue
        elif key == "randomised":
            if not isinstance(raw, bool):
                problems.append(
                    (line_of(key), "trial-block-invalid", f"trial block: randomised: '{text}' must be true or false")
                )
                continue
            value = raw
        elif key == "registry-id":
            if not REGISTRY_ID.fullmatch(text):
                problems.append(
                    (line_of(key), "trial-block-invalid", f"trial block: registry-id: '{text}' is not an NCT id")
                )
                continue
            keys["registry_id"] = keys["registry_id"] or text
            value = text
        else:
            value = text
        allowed = declared_enums().get(column)
        if allowed and value not in allowed:
            problems.append(
                (
                    line_of(key),
                    "trial-block-invalid",
                    f"trial block: {key}: '{value}' is not one of {', '.join(sorted(allowed))}",
                )
            )
            continue
        if value is not None:
            facts.set(column, value)
            explicit_fields.append(column)
    arms = data.get("arms")
    if arms is not None:
        for item in arms if isinstance(arms, list) else []:
            if not hasattr(item, "get") or not item.get("label"):
                problems.append((line_of("arms"), "trial-block-invalid", "trial block: each arm needs a label (and n)"))
                continue
            n = number("arms", item.get("n"), as_int=True) if item.get("n") is not None else None
            done = number("arms", item.get("completed"), as_int=True) if item.get("completed") is not None else None
            facts.arms.append(Arm(str(item["label"]), n, done))
        if facts.arms:
            explicit_fields.append("arms")
    outcomes = []
    for item in data.get("outcomes") or []:
        outcome, item_problems = _explicit_outcome(item, line_of("outcomes"))
        problems += item_problems
        if outcome:
            outcomes.append(outcome)
    keys["explicit_fields"] = sorted(set(explicit_fields))
    return (facts, outcomes, keys), problems


def _explicit_outcome(item, line: int):
    """One outcome of an explicit block: its statistics are written as
    they would be in prose ('−0.46 pp', '95% CI 0.01–0.90', 'P=0.03') and
    read by the same parsers."""
    problems = []
    if not hasattr(item, "get") or not item.get("measure"):
        return None, [(line, "trial-block-invalid", "trial block: each outcome needs a measure")]
    for key in item:
        if key not in OUTCOME_KEYS:
            problems.append(
                (
                    line,
                    "trial-block-invalid",
                    f"trial block: unknown outcome key '{key}' (known: {', '.join(sorted(OUTCOME_KEYS))})",
                )
            )
    outcome = Outcome(measure=str(item["measure"]), text=", ".join(f"{k}: {plain(v)}" for k, v in item.items()))
    outcome.role = str(item["role"]) if item.get("role") else None
    enums = declared_enums()
    if outcome.role and outcome.role not in enums["role"]:
        problems.append(
            (
                line,
                "trial-block-invalid",
                f"trial block: role '{outcome.role}' is not one of {', '.join(sorted(enums['role']))}",
            )
        )
        outcome.role = None
    if item.get("effect") is not None:
        raw = str(item["effect"]).strip()
        match = re.match(r"^\s*(\S+)\s*(.*)$", raw)
        value = parse_number(match.group(1)) if match else None
        if value is None:
            value = parse_number(raw)
        if value is None:
            problems.append(
                (line, "trial-number-unparsed", f"trial block: effect '{raw}' of '{outcome.measure}' is not a number")
            )
        else:
            outcome.effect_value, outcome.effect_raw = value, raw
            outcome.effect_unit = (
                str(item["unit"])
                if item.get("unit")
                else (match.group(2).strip() or None if match and parse_number(match.group(1)) is not None else None)
            )
    outcome.effect_metric = str(item["metric"]) if item.get("metric") else None
    outcome.comparison = str(item["comparison"]) if item.get("comparison") else None
    if item.get("direction"):
        outcome.direction = str(item["direction"])
        if outcome.direction not in enums["direction"]:
            problems.append(
                (
                    line,
                    "trial-block-invalid",
                    f"trial block: direction '{outcome.direction}' is not one of {', '.join(sorted(enums['direction']))}",
                )
            )
            outcome.direction = None
    if item.get("arms"):
        raw = str(item["arms"])
        found, _ = read_outcome(raw, measure=outcome.measure)
        if found and found.arm_a_value is not None:
            outcome.arm_a_value, outcome.arm_b_value, outcome.arm_unit, outcome.arm_raw = (
                found.arm_a_value,
                found.arm_b_value,
                found.arm_unit,
                found.arm_raw,
            )
        else:
            problems.append(
                (line, "trial-number-unparsed", f"trial block: arms '{raw}' of '{outcome.measure}' is not 'A vs B'")
            )
    if item.get("ci") is not None:
        raw = plain(item["ci"])
        if isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, (int, float)) for v in raw):
            outcome.ci_level, outcome.ci_low, outcome.ci_high, outcome.ci_raw = (
                95.0,
                float(raw[0]),
                float(raw[1]),
                str(raw),
            )
        else:
            ci = find_ci(str(raw)) or (find_ci("95% CI " + str(raw)) if parse_range(str(raw)) else None)
            if ci:
                outcome.ci_level, outcome.ci_low, outcome.ci_high, outcome.ci_raw = ci.level, ci.low, ci.high, str(raw)
            else:
                problems.append(
                    (
                        line,
                        "trial-number-unparsed",
                        f"trial block: ci '{raw}' of '{outcome.measure}' is not an interval such as '95% CI 0.01–0.90'",
                    )
                )
    if item.get("p") is not None:
        raw = str(plain(item["p"])).strip()
        p = find_p_value(raw) or (find_p_value("P=" + raw) if parse_number(raw) is not None else None)
        if p:
            outcome.p_operator, outcome.p_value, outcome.p_raw = p.operator, p.value, raw
        else:
            problems.append(
                (
                    line,
                    "trial-number-unparsed",
                    f"trial block: p '{raw}' of '{outcome.measure}' is not a p-value such as 'P=0.03'",
                )
            )
    return outcome, problems

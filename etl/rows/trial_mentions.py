"""Rows stage for trials: every place a page mentions a trial (footnote
record, trial-table row, study page, NCT id in prose, explicit ```trial
block) becomes a TrialMention; etl/corpus/trials.py joins the mentions of
one trial into its rows.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import NamedTuple

from ..diagnostics import Diagnostic, diagnose
from ..schema import Schema
from ..wiki.citations import SEGMENT_SPLIT
from ..wiki.parse import ParsedPage
from ..wiki.syntax import DOI, FOOTNOTE_REF, REGISTRY_ID, WIKILINK, clean_doi
from ..wiki.trial_names import (
    condition_of,
    dosed_intervention,
    find_species,
    find_term,
    find_trial_name,
    intervention_name,
    report_of,
    species_pattern,
    term_pattern,
)
from ..wiki.trial_outcomes import Outcome, read_outcomes
from ..wiki.trial_tables import is_key_value_table, read_key_value_table, read_table_row, trial_table_kind
from ..wiki.trials import (
    NOT_RANDOMISED,
    RANDOMISED,
    Facts,
    sample_size_facts,
    text_facts,
)
from .result import TrialMention
from .study_trials import study_page_trial
from .trial_blocks import declared_enums, read_explicit_block
from .trial_prose import ProseMentions

TRIAL_DESIGNS = {"rct", "clinical-trial"}
INTERVENTION_FOLDERS = ("molecules/compounds/", "interventions/")


def page_trial_mentions(
    parsed: ParsedPage, index, footnote_works: dict[int, str | None], schema: Schema
) -> tuple[list[TrialMention], list[Diagnostic]]:
    """Every trial mention on one page, and the problems found reading them.
    footnote_works maps a footnote's position to its work key."""
    found = _PageTrials(parsed, index, footnote_works, *_vocabulary_patterns(schema.vocabularies))
    found.study_page()
    found.footnotes()
    found.table_rows()
    found.key_value_tables()
    found.prose_ids()
    found.prose_results()
    found.explicit_blocks(declared_enums(schema))
    return found.mentions, found.diagnostics


# Vocabularies (by identity) -> (them, the species pattern, the population
# groups' pattern): made once per process, not for every page (4% of a parse).
_PATTERNS: dict[int, tuple] = {}


def _vocabulary_patterns(vocabularies: dict) -> tuple:
    kept = _PATTERNS.get(id(vocabularies))
    if kept is None or kept[0] is not vocabularies:
        groups = term_pattern(vocabularies["population_groups"], "population_group")
        kept = _PATTERNS[id(vocabularies)] = (vocabularies, species_pattern(vocabularies["species"]), groups)
    return kept[1:]


class _PageTrials(ProseMentions):
    """One page's trial mentions, gathered source by source in the order
    above (the order decides nothing but the order of the rows)."""

    def __init__(self, parsed: ParsedPage, index, footnote_works: dict[int, str | None], species, groups):
        self.parsed, self.index, self.species, self.groups = parsed, index, species, groups
        self.page, self.path, self.body = parsed.page, parsed.path, parsed.body
        self.mentions: list[TrialMention] = []
        self.diagnostics: list[Diagnostic] = []
        # Each footnote label's first definition (readers see the first):
        # its position, work key, design and single NCT id.
        self.cited: dict[str, _Cited] = {}
        for position, (definition, citation) in enumerate(zip(self.body.footnote_defs, parsed.citations)):
            if definition.label not in self.cited:
                self.cited[definition.label] = _Cited(
                    position,
                    footnote_works.get(position),
                    citation.design,
                    _single_registry_id(definition.record),
                )
        # A gap tag qualifies the footnotes its claim cites, and those cited
        # anywhere on its line (a paragraph or list item is one line).
        self.tags_by_footnote: dict[str, list[str]] = {}
        self.tags_by_line: dict[int, list[str]] = {}
        for gap in self.body.gaps:
            self.tags_by_line.setdefault(gap.line, []).append(gap.tag)
            for label in gap.footnotes:
                self.tags_by_footnote.setdefault(label, []).append(gap.tag)
        for ref in self.body.footnote_refs:
            for tag in self.tags_by_line.get(ref.line, []):
                self.tags_by_footnote.setdefault(ref.label, []).append(tag)

    def report(self, line: int, problems) -> None:
        for problem in problems:
            self.diagnostics.append(diagnose(self.path, line, "trial-number-unparsed", problem))

    def add(self, kind: str, line: int, text: str, facts: Facts, outcomes: list[Outcome], **keys) -> None:
        written = facts.values.pop("intervention", None)  # the name, without dose or schedule (dose_raw has those)
        facts.set("intervention", intervention_name(written) if kind != "explicit" else written)
        facts.set("intervention_page", _intervention_page(written, self.index, self.page))
        facts.set("species", find_species(text, self.species))
        # Who a list of several trials enrolled is not this trial's population.
        one_trial = len(set(REGISTRY_ID.findall(text))) <= 1
        if one_trial and facts.values.get("species") in (None, "human") and (group := find_term(text, self.groups)):
            facts.set("population_group", group[0])
            facts.set("population_written", group[1])
        if kind == "explicit":  # wikilinks in a fenced block are not the page's links: say here what is missing
            for match in WIKILINK.finditer(facts.values.get("intervention") or ""):
                if not self.index.resolve(match.group(1).strip(), self.page):
                    message = f"the trial's intervention links [[{match.group(1).strip()}]], which is not a page"
                    self.diagnostics.append(diagnose(self.path, line, "trial-intervention-page-missing", message))
        merge_keys = list(keys.get("keys", ()))
        if acronym := facts.values.get("acronym"):
            merge_keys.append(f"acronym:{self.page}#{acronym.upper()}")
        self.mentions.append(
            TrialMention(
                kind=kind,
                page=self.page,
                label=keys.get("label"),
                text=text,
                registry_id=keys.get("registry_id"),
                work=keys.get("work"),
                study_page=keys.get("study_page"),
                facts=dict(facts.values),
                arms=[asdict(a) for a in facts.arms],
                outcomes=[asdict(o) for o in outcomes],
                gap_tags=keys.get("gap_tags", []),
                unmapped=keys.get("unmapped"),
                explicit_fields=keys.get("explicit_fields", []),
                source_path=self.path,
                source_line=line,
                keys=tuple(merge_keys),
                design=keys.get("design"),
            )
        )
        self.report(line, facts.problems)
        for outcome in outcomes:
            if None not in (outcome.effect_value, outcome.ci_low, outcome.ci_high) and not min(
                outcome.ci_low, outcome.ci_high
            ) <= outcome.effect_value <= max(outcome.ci_low, outcome.ci_high):
                message = (
                    f"{outcome.measure}: effect {outcome.effect_raw} lies outside its interval {outcome.ci_raw} "
                    "(a sign written one way and the interval the other?)"
                )
                self.diagnostics.append(diagnose(self.path, line, "trial-effect-outside-ci", message))

    def study_page(self) -> None:
        """The study page itself, when it reports a trial."""
        parsed = self.parsed
        if parsed.page_type != "study":
            return
        trial = study_page_trial(parsed, self.index, self.species)
        if not trial:
            return
        for line, problems in trial.line_problems:
            self.report(line, problems)
        title = parsed.typed_fields["title"].typed if "title" in parsed.typed_fields else self.page
        self.add(
            "study-page",
            1,
            title,
            trial.facts,
            trial.outcomes,
            registry_id=trial.registry_id,
            work=self.index.study_work(self.page),
            study_page=self.page,
            gap_tags=sorted({g.tag for g in self.body.gaps}),
        )

    def footnotes(self) -> None:
        """Footnote records of trials: a trial design, or one NCT id."""
        for definition, citation in zip(self.body.footnote_defs, self.parsed.citations):
            cited = self.cited[definition.label]
            if definition.line != self.body.footnote_defs[cited.position].line:
                continue  # a duplicate definition; readers see the first
            registry_id = cited.registry_id
            if (
                citation.design not in TRIAL_DESIGNS
                and not registry_id
                and not _calls_itself_randomised(definition.record, citation.design)
                and not (cited.work and _calls_itself_a_trial(definition.record, citation.design))
            ):
                continue
            facts, outcomes = _footnote_facts(definition.record, citation)
            study_page = self.index.resolve(citation.study_link, self.page) if citation.study_link else None
            self.add(
                "footnote",
                definition.line,
                definition.record,
                facts,
                outcomes,
                label=definition.label,
                design=citation.design,
                registry_id=registry_id,
                work=cited.work,
                study_page=study_page,
                gap_tags=sorted(set(self.tags_by_footnote.get(definition.label, []))),
                keys=[f"footnote:{self.page}#{definition.label}"]
                + ([f"report-of:{parent.upper()}"] if (parent := report_of(definition.record)) else []),
            )

    def table_rows(self) -> None:
        """Rows of tables that list trials."""
        for table in self.body.tables:
            header = table.header
            kind = trial_table_kind(header, table.rows) if header and not is_key_value_table(header) else None
            if kind is None:
                continue
            for cells, line in zip(table.rows, table.row_lines):
                reading = read_table_row(header, cells)
                if kind == "randomised-rows" and not reading.randomised_evidence:
                    continue  # a 'Study' table row that is not a trial
                if kind == "registered-rows" and not reading.registry_ids:
                    continue
                if not any(c.strip() for c in cells):
                    continue
                registry_id = reading.registry_ids[0] if reading.registry_ids else None
                doi = reading.doi
                work = "doi:" + clean_doi(doi).lower() if doi and doi.startswith("10.") else None
                label = self._row_footnote(cells, registry_id, work)
                if label:
                    work = work or self.cited[label].work
                    registry_id = registry_id or self.cited[label].registry_id
                study = None
                if registry_id is None and work is None:
                    links = [
                        self.index.resolve(m.group(1).strip(), self.page) for m in WIKILINK.finditer(" ".join(cells))
                    ]
                    study = next((p for p in links if p and "/studies/" in "/" + p), None)
                self.add(
                    "table-row",
                    line,
                    " | ".join(cells),
                    reading.facts,
                    reading.outcomes,
                    registry_id=registry_id,
                    work=work or (self.index.study_work(study)),
                    study_page=study,
                    gap_tags=sorted(set(self.tags_by_line.get(line, []))),
                    unmapped=reading.unmapped or None,
                    keys=[f"footnote:{self.page}#{label}"] if label else [],
                )

    def _row_footnote(self, cells: list[str], registry_id: str | None, work: str | None) -> str | None:
        """The footnote a trial-table row cites for its trial: the one in
        its first cell, else the row's only one, else its only trial record.
        A record of another design (a review, a cohort) or of another NCT id
        is not the row's trial; a row citing several is left unmerged."""

        def fits(label: str) -> bool:
            cited = self.cited.get(label)
            if cited is None:
                return False  # points nowhere: footnote-undefined reports it
            if cited.registry_id and registry_id and cited.registry_id != registry_id:
                return False
            if cited.design in TRIAL_DESIGNS or (cited.registry_id and cited.registry_id == registry_id):
                return True
            return cited.design is None and registry_id is None and work is None

        for text in (cells[0], " ".join(cells)) if cells else ():
            labels = list(dict.fromkeys(FOOTNOTE_REF.findall(text)))
            fitting = [label for label in labels if fits(label)]
            trials = [label for label in fitting if self.cited[label].design in TRIAL_DESIGNS]
            if len(fitting) == 1 and len(labels) == 1:
                return fitting[0]
            if len(trials) == 1:
                return trials[0]
            if labels:
                return None
        return None

    def key_value_tables(self) -> None:
        """Key-value tables ('Parameter | Value') naming a trial, off study pages."""
        if self.parsed.page_type == "study":
            return
        for table in self.body.tables:
            if is_key_value_table(table.header) and any(REGISTRY_ID.search(" ".join(row)) for row in table.rows):
                table_facts, table_outcomes, ids = read_key_value_table(table.rows)
                if ids:
                    self.add(
                        "table-row",
                        table.line,
                        "\n".join(" | ".join(row) for row in table.rows),
                        table_facts,
                        table_outcomes,
                        registry_id=ids[0],
                        gap_tags=sorted({t for line in table.row_lines for t in self.tags_by_line.get(line, [])}),
                    )

    def explicit_blocks(self, enums: dict[str, set]) -> None:
        """Explicit ```trial blocks: the facts that win."""
        by_label = {m.label: m for m in self.mentions if m.kind == "footnote"}
        for fence in self.body.fences:
            if fence.info.split()[:1] != ["trial"]:
                continue
            explicit, problems = read_explicit_block(
                fence.content, fence.line + 1, by_label, self.index, self.page, enums
            )
            for line, code, message in problems:
                self.diagnostics.append(diagnose(self.path, line, code, message))
            if explicit:
                self.add(
                    "explicit", fence.line, fence.content.strip(), explicit.facts, explicit.outcomes, **explicit.keys
                )


def _calls_itself_randomised(record: str, design: str | None) -> bool:
    """A record the design vocabulary does not name, or an animal
    experiment, that calls itself randomised ('randomized placebo-controlled
    (3-arm ...)', 'in-vivo · randomized · model: UM-HET3 mice'): a trial.
    Not a record about several trials or none (NOT_ONE_TRIAL)."""
    if design not in (None, "in-vivo") or not RANDOMISED.search(record) or NOT_RANDOMISED.search(record):
        return False
    return design == "in-vivo" or bool(
        re.search(r"\brandomi[sz]ed\b", record, re.I) and not NOT_ONE_TRIAL.search(record)
    )


def _calls_itself_a_trial(record: str, design: str | None) -> bool:
    """A record of a work whose design the vocabulary does not name but
    that calls itself one trial ('rct-secondary-analysis', 'split-face
    clinical trial', 'single-center open trial', 'phase-2 trial')."""
    return design is None and bool(TRIAL_WORD.search(record)) and not NOT_ONE_TRIAL.search(record)


TRIAL_WORD = re.compile(r"\brct\b|\btrial\b", re.I)
# A record about several trials or none: a pooled analysis, a protocol.
NOT_ONE_TRIAL = re.compile(
    r"meta-analy|systematic|PRISMA|protocol|review|\bRCTs\b|\btrials\b|\bno\b[^·]{0,30}\bRCT", re.I
)


class _Cited(NamedTuple):
    """What a footnote label's first definition says of its work."""

    position: int
    work: str | None
    design: str | None
    registry_id: str | None


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


def _footnote_facts(record: str, citation) -> tuple[Facts, list[Outcome]]:
    facts = Facts()
    outcomes: list[Outcome] = []
    if citation.design == "rct" or citation.design is None and re.search(r"\brct\b", record, re.I):
        facts.set("randomised", True)
    elif citation.design == "clinical-trial":
        facts.set("randomised", False)
    elif _calls_itself_randomised(record, citation.design):
        facts.set("randomised", True)
    for segment in SEGMENT_SPLIT.split(record):
        segment = segment.strip()
        if not segment or DOI.search(segment) and len(segment) < 120 and ";" not in segment:
            continue
        # Who was studied, and how many: results may follow in the same segment
        # ('model: adults with ATTR-CM; HR 0.72 ...', 'n=652: ... OR 0.60 ...').
        counts = citation.n_text and segment == citation.n_text or re.match(r"^\s*n\s*[=≈~]", segment, re.I)
        if counts:
            facts.merge(sample_size_facts(segment))
        if segment == citation.authors:
            continue
        if counts or segment.lower().startswith("model:"):
            found, problems = read_outcomes(segment)
            outcomes += found
            facts.problems += problems
            continue
        facts.merge(text_facts(segment))
        found, problems = read_outcomes(segment)
        outcomes += found
        facts.problems += problems
    if "acronym" not in facts.values:
        facts.set("acronym", find_trial_name(record))
    if "condition" not in facts.values:  # 'patients with hATTR amyloidosis'
        facts.set("condition", condition_of(record))
    if "intervention" not in facts.values:  # 'fenofibrate 200 mg/day × 5 yr': what is dosed
        facts.set("intervention", next(filter(None, map(dosed_intervention, SEGMENT_SPLIT.split(record))), None))
    if "n_randomised" not in facts.values and citation.n is not None:  # n in words: '~85 patients'
        facts.set("n_randomised", citation.n)
        facts.set("n_raw", citation.n_text)
    return facts, outcomes

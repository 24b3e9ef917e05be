"""The corpus of trials: TrialIndex joins the trial mentions of every page
(etl/rows/trial_mentions.py) into one row of trials, trial_arms and trial_outcomes
per trial (same NCT id, DOI or study page), explicit facts first.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from collections import Counter
from dataclasses import fields, replace

from ..diagnostics import Diagnostic, diagnose
from ..rows.result import TrialMention
from ..wiki.trial_outcomes import Outcome
from .intervention_names import InterventionNames
from .trial_subjects import tested_and_studied
from .trial_terms import TrialTerms, normalised_facts, unmapped_term_diagnostics

# Keys that join a trial by its name, elsewhere in the wiki (see _groups).
BY_NAME = ("report-of:", "named:")
# Which mention of a trial speaks first when they disagree.
KIND_RANK = {"explicit": 0, "study-page": 1, "footnote": 2, "table-row": 3, "prose": 4}


class TrialIndex:
    """Joins trial mentions from every page into trials: mentions sharing
    an NCT id, a work (DOI, PMID) or a study page are one trial."""

    def __init__(self, terms: TrialTerms, names: InterventionNames):
        self.terms, self.names = terms, names
        self.mentions: list[TrialMention] = []
        self.diagnostics: list[Diagnostic] = []
        # The mentions' arms and outcomes wait in a temporary file until
        # their trial's rows are made (joining reads neither): they were
        # half of what the mentions held (3.7 of 7.3 MB for the shared wiki).
        self._arms_and_outcomes = tempfile.TemporaryFile()
        self._offsets: dict[int, int] = {}  # id of a mention held without them -> where they are

    def add(self, mention: TrialMention) -> None:
        if mention.arms or mention.outcomes:
            spilled = self._arms_and_outcomes
            spilled.seek(0, os.SEEK_END)
            offset = spilled.tell()
            pickle.dump((mention.arms, mention.outcomes), spilled, protocol=pickle.HIGHEST_PROTOCOL)
            mention = replace(mention, arms=[], outcomes=[])
            self._offsets[id(mention)] = offset
        self.mentions.append(mention)

    def _whole(self, mention: TrialMention) -> TrialMention:
        """The mention with its arms and outcomes."""
        offset = self._offsets.get(id(mention))
        if offset is None:
            return mention
        self._arms_and_outcomes.seek(offset)
        arms, outcomes = pickle.load(self._arms_and_outcomes)
        return replace(mention, arms=arms, outcomes=outcomes)

    @staticmethod
    def _keys(mention: TrialMention, position: int) -> list[str]:
        keys = []
        if mention.registry_id:
            keys.append("nct:" + mention.registry_id)
        if mention.work:
            keys.append("work:" + mention.work)
        if mention.study_page:
            keys.append("page:" + mention.study_page)
        keys += mention.keys
        return keys or [f"mention:{position}"]

    def _groups(self) -> list[list[TrialMention]]:
        """Mentions joined by their keys. An acronym joins mentions only
        when it would not make one trial of two NCT ids (one acronym can
        name two registrations: a trial and its extension); so do a report
        naming the trial it is part of and a sentence naming a trial."""
        parent: dict[str, str] = {}
        registered: dict[str, set[str]] = {}  # a group's root -> its NCT ids

        def find(key):
            parent.setdefault(key, key)
            while parent[key] != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        def join(a, b, soft=False):
            a, b = find(a), find(b)
            ids_a, ids_b = registered.get(a, set()), registered.get(b, set())
            if a == b or soft and ids_a and ids_b and ids_a != ids_b:
                return
            root, other = min(a, b), max(a, b)
            parent[other] = root
            registered[root] = ids_a | ids_b

        keyed = [(mention, self._keys(mention, position)) for position, mention in enumerate(self.mentions)]
        for mention, keys in keyed:
            if mention.registry_id:
                registered.setdefault(find(keys[0]), set()).add(mention.registry_id)
        for soft in (False, True):
            for _, keys in keyed:
                for key in keys[1:]:
                    if key.startswith("acronym:") == soft and not key.startswith(BY_NAME):
                        join(keys[0], key, soft)
        # A report of part of a trial ('subgroup analysis of CANTOS RCT'),
        # or a sentence naming a trial and citing nothing ('the COLCOT trial
        # showed ...'), joins the one trial of that acronym that is neither;
        # sentences naming a trial no other mention names are one trial.
        named: dict[str, set[str]] = {}
        for mention, keys in keyed:
            if mention.facts.get("acronym") and not any(k.startswith(BY_NAME) for k in keys):
                named.setdefault(mention.facts["acronym"].upper(), set()).add(find(keys[0]))
        for _, keys in keyed:
            for key in (k for k in keys if k.startswith(BY_NAME)):
                roots = {find(root) for root in named.get(key.split(":", 1)[1], ())} - {find(keys[0])}
                if len(roots) == 1:
                    join(keys[0], roots.pop(), soft=True)
                elif not roots and key.startswith("named:"):
                    join(keys[0], key, soft=True)
        groups: dict[str, list[TrialMention]] = {}
        for mention, keys in keyed:
            groups.setdefault(find(keys[0]), []).append(mention)
        ordered = []
        for members in groups.values():
            members.sort(key=lambda m: (KIND_RANK[m.kind], m.source_path, m.source_line))
            ordered.append(members)
        return ordered

    def _same_name_across_pages(self, groups: list[list[TrialMention]]) -> list[list[TrialMention]]:
        """Trials of one acronym on different pages that share no key are
        one trial when nothing they state tells them apart: no two NCT ids,
        and the same n stated by both, or the same intervention page with n
        stated by one at most (ATLAS, TRAVERSE; not PEARL, a rapamycin trial
        on one page and a lasofoxifene trial of another n on another)."""
        clusters: dict[str, list[tuple[list[tuple], list[TrialMention]]]] = {}
        alone = []
        for members in groups:
            facts, fact_mention, _ = _facts(members)
            if not facts.get("acronym"):
                alone.append(members)
                continue
            page = tested_and_studied(members, facts, dict(fact_mention), self.names).get("intervention_page")
            told = ({m.registry_id for m in members if m.registry_id}, facts.get("n_randomised"), page)
            same_name = clusters.setdefault(facts["acronym"].upper(), [])
            joined = next((c for c in same_name if all(_one_trial(told, other) for other in c[0])), None)
            if joined:
                joined[0].append(told)
                joined[1].extend(members)
            else:
                same_name.append(([told], list(members)))
        for same_name in clusters.values():
            for _, members in same_name:
                members.sort(key=lambda m: (KIND_RANK[m.kind], m.source_path, m.source_line))
                alone.append(members)
        return alone

    @staticmethod
    def trial_id(members: list[TrialMention]) -> str:
        registry = sorted({m.registry_id for m in members if m.registry_id})
        if registry:
            return registry[0]
        if works := _reports(members):
            return works[0]
        studies = sorted({m.study_page for m in members if m.study_page})
        if studies:
            return "page:" + studies[0]
        first = members[0]
        return f"{first.page}#L{first.source_line}"

    def rows(self, known_works: set[str]) -> dict[str, list[dict]]:
        """Rows of trials, trial_arms, trial_outcomes and trial_mentions.
        A work key no works row holds (a DOI only a table names) stays on
        the mention but not on the trial, whose work is a foreign key."""
        self.diagnostics = []
        tables: dict[str, list[dict]] = {"trials": [], "trial_arms": [], "trial_outcomes": [], "trial_mentions": []}
        groups = sorted(
            ((self.trial_id(m), m) for m in self._same_name_across_pages(self._groups())), key=lambda pair: pair[0]
        )
        label_owner: dict[str, tuple[str, TrialMention]] = {}
        unmapped_terms: dict[tuple[str, str], TrialMention] = {}  # (kind, value as written) -> first mention stating it
        for trial, members in groups:
            members = [self._whole(m) for m in members]
            facts, fact_mention, explicit = _facts(members)
            arm_source = next((m for m in members if m.arms), None)
            if arm_source:
                if arm_source.kind == "explicit":
                    explicit.add("arms")
                tables["trial_arms"] += _arm_rows(trial, arm_source)
            trial_outcomes = _merge_outcomes(members)
            tables["trial_outcomes"] += _outcome_rows(trial, trial_outcomes, facts.get("acronym"))
            facts.update(tested_and_studied(members, facts, fact_mention, self.names))
            normalised, unmapped = normalised_facts(facts, self.terms)
            for kind in unmapped:
                # Words read from a page's name, not stated as the intervention, are no curator's spelling to declare.
                if kind != "intervention" or facts.get("intervention_origin") in ("stated", "study-page"):
                    unmapped_terms.setdefault((kind, facts[kind]), fact_mention[kind])
            tables["trials"].append(
                _trial_row(trial, members, known_works, facts, normalised, explicit, arm_source, len(trial_outcomes))
            )
            self._check_registered_facts(members)
            for seq, mention in enumerate(sorted(members, key=lambda m: (m.source_path, m.source_line, m.kind)), 1):
                tables["trial_mentions"].append(_mention_row(trial, seq, mention))
                if mention.kind == "footnote" and mention.label:
                    self._check_label(trial, mention, label_owner)
        self.diagnostics += unmapped_term_diagnostics(unmapped_terms)
        return tables

    def _check_registered_facts(self, members: list[TrialMention]) -> None:
        """Two mentions of one NCT id that state different sample sizes:
        one of them is probably another trial, or a typo. Both are kept;
        the trial takes the first in rank order."""
        first: dict[str, TrialMention] = {}
        for mention in members:
            n = mention.facts.get("n_randomised")
            if not mention.registry_id or n is None:
                continue
            earlier = first.setdefault(mention.registry_id, mention)
            if earlier.facts["n_randomised"] != n:
                self.diagnostics.append(
                    diagnose(
                        mention.source_path,
                        mention.source_line,
                        "trial-facts-conflict",
                        f"{mention.registry_id} here has n={n}, but n={earlier.facts['n_randomised']} at "
                        f"{earlier.source_path}:{earlier.source_line}, which the trial row takes",
                    )
                )

    def _check_label(self, trial: str, mention: TrialMention, label_owner: dict) -> None:
        """One footnote label naming two trials on two pages, neither of them
        identified by an NCT id or a work: perhaps one trial written twice."""
        owner = label_owner.setdefault(mention.label, (trial, mention))
        identified = [t for t in (trial, owner[0]) if t.startswith(("NCT", "doi:", "pmid:"))]
        if owner[0] != trial and owner[1].page != mention.page and len(identified) < 2:
            self.diagnostics.append(
                diagnose(
                    mention.source_path,
                    mention.source_line,
                    "trial-duplicate-suspect",
                    f"footnote [^{mention.label}] here is trial {trial}, but [^{mention.label}] at "
                    f"{owner[1].source_path}:{owner[1].source_line} is trial {owner[0]}; "
                    "if they are one trial, give both records the same DOI or NCT id",
                )
            )


def _facts(members: list[TrialMention]) -> tuple[dict, dict[str, TrialMention], set[str]]:
    """Each fact from the first mention (in rank order) stating it, where it
    was read, and which facts an explicit block states."""
    facts: dict = {}
    fact_mention: dict[str, TrialMention] = {}  # where each fact was read, for reports
    explicit = set()
    for mention in members:
        for name, value in mention.facts.items():
            if value is not None and name not in facts:
                facts[name] = value
                fact_mention[name] = mention
                if mention.kind == "explicit" and name in mention.explicit_fields:
                    explicit.add(name)
    return facts, fact_mention, explicit


def _arm_rows(trial: str, arm_source: TrialMention) -> list[dict]:
    return [
        {
            "trial": trial,
            "seq": seq,
            "label": arm["label"],
            "n_randomised": arm["n"],
            "n_completed": arm["completed"],
            "origin": "explicit" if arm_source.kind == "explicit" else "extracted",
            **arm_source.provenance,
        }
        for seq, arm in enumerate(arm_source.arms, start=1)
    ]


def _outcome_rows(trial: str, trial_outcomes: list[tuple[dict, TrialMention]], acronym: str | None) -> list[dict]:
    """One row per outcome, citing the line it was read from: its own line
    on a study page, else its mention's. A measure that is the trial's
    name ('LOFT: HR 1.18 ...', 'FOURIER trial showed ...') is no measure."""

    def measure(text: str | None) -> str | None:
        names_trial = text and (
            re.search(r"\btrial$", text, re.I) or acronym and re.match(rf"{re.escape(acronym)}(?:\s|$)", text, re.I)
        )
        return None if names_trial else text

    return [
        {
            "trial": trial,
            "seq": seq,
            **{name: outcome[name] for name in OUTCOME_COLUMNS},
            "measure": measure(outcome["measure"]),
            "page": mention.page,
            "mention_kind": mention.kind,
            "origin": "explicit" if mention.kind == "explicit" else "extracted",
            **mention.provenance,
            **({"source_line": outcome["line"]} if outcome.get("line") else {}),
        }
        for seq, (outcome, mention) in enumerate(trial_outcomes, start=1)
    ]


def _trial_row(trial, members, known_works, facts, normalised, explicit, arm_source, outcome_count) -> dict:
    tags = sorted({t for m in members for t in m.gap_tags})
    pages = sorted({m.page for m in members})
    return {
        "trial": trial,
        "registry_id": next((m.registry_id for m in members if m.registry_id), None),
        "work": next((work for work in _reports(members) if work in known_works), None),
        "study_page": next((m.study_page for m in members if m.study_page), None),
        **{name: facts.get(name) for name in TRIAL_FACT_COLUMNS},
        **normalised,
        "arm_count": len(arm_source.arms) if arm_source else None,
        "pages": pages,
        "page_count": len(pages),
        "mention_count": len(members),
        "outcome_count": outcome_count,
        "gap_tags": tags,
        "needs_replication": "gap/needs-replication" in tags,
        "merged_keys": _merged_keys(members),
        "explicit_fields": sorted(explicit),
        "facts_origin": "explicit" if explicit and explicit >= set(facts) else "mixed" if explicit else "extracted",
        **members[0].provenance,
    }


def _reports(members: list[TrialMention]) -> list[str]:
    """The works reporting a trial, its own report first: works of mentions
    that are not a report of part of it before the others, the work most
    of them cite first (a trial's main paper is cited on more pages than a
    substudy), then in key order."""
    own = Counter(m.work for m in members if m.work and not any(k.startswith("report-of:") for k in m.keys))
    every = Counter(m.work for m in members if m.work)
    return sorted(every, key=lambda work: (-own[work], -every[work], work))


def _one_trial(told: tuple, other: tuple) -> bool:
    """Whether two trials of one name can be one: (NCT ids, n, intervention page) of each."""
    (ids, n, page), (other_ids, other_n, other_page) = told, other
    if ids and other_ids and ids != other_ids:
        return False
    if n is not None and other_n is not None:
        return n == other_n
    return page is not None and page == other_page


def _merged_keys(members: list[TrialMention]) -> list[str] | None:
    """The keys that made these mentions one trial, when there are several
    mentions: NCT ids, works, study pages, a table row's footnote, an
    acronym on one page."""
    if len(members) < 2:
        return None
    keys = {key for m in members for key in TrialIndex._keys(m, 0) if not key.startswith("mention:")}
    return sorted(keys)


def _mention_row(trial: str, seq: int, mention: TrialMention) -> dict:
    return {
        "trial": trial,
        "seq": seq,
        "page": mention.page,
        "kind": mention.kind,
        "label": mention.label,
        "text": mention.text,
        "registry_id": mention.registry_id,
        "work": mention.work,
        "gap_tags": mention.gap_tags,
        "unmapped_columns": mention.unmapped,
        **mention.provenance,
    }


TRIAL_FACT_COLUMNS = [
    "acronym",
    "title",
    "randomised",
    "design",
    "blinding",
    "phase",
    "registry_status",
    "registry_status_text",
    "n_randomised",
    "n_raw",
    "n_completed",
    "duration_weeks",
    "duration_raw",
    "intervention",
    "intervention_page",
    "dose_value",
    "dose_unit",
    "dose_frequency",
    "dose_route",
    "dose_raw",
    "comparator",
    "condition",
    "population",
    "inclusion",
    "intervention_origin",
    "intervention_page_origin",
    "species",
    "species_origin",
    "population_group",
    "population_written",
    "population_group_origin",
]
OUTCOME_COLUMNS = [f.name for f in fields(Outcome) if f.name != "line"]  # as read_outcome fills them


def _restates(statistics: tuple, fuller: tuple) -> bool:
    """Every number stated here is stated the same in the fuller outcome."""
    stated = [(a, b) for a, b in zip(statistics, fuller) if a is not None]
    return bool(stated) and all(a == b for a, b in stated)


def _merge_outcomes(members: list[TrialMention]) -> list[tuple[dict, TrialMention]]:
    """Outcomes of one trial across its mentions: explicit outcomes replace
    extracted ones with the same measure; a result stated the same way on
    several pages is kept once."""
    explicit_measures = {(o["measure"] or "").lower() for m in members if m.kind == "explicit" for o in m.outcomes}
    kept: dict[tuple, tuple[dict, int]] = {}
    merged = []
    for mention in members:
        for outcome in mention.outcomes:
            if mention.kind != "explicit" and (outcome["measure"] or "").lower() in explicit_measures:
                continue
            # One result written two ways ('HbA1c' and 'HbA1c between-group
            # difference', same numbers) is one outcome; the first wording
            # is kept and fills its gaps (role, comparison) from the other.
            first_word = (re.findall(r"\w+", (outcome["measure"] or "").lower()) or [""])[0]
            # 'HbA1c −0.46 pp' and 'reduced HbA1c by 0.46 pp' are one effect.
            statistics = (abs(outcome["effect_value"]) if outcome["effect_value"] is not None else None,) + tuple(
                outcome[name] for name in ("p_operator", "p_value", "ci_low", "ci_high", "arm_a_value", "arm_b_value")
            )
            key = (
                (first_word, statistics)
                if any(v is not None for v in statistics)
                else ((outcome["measure"] or "").lower(), statistics)
            )
            # ...and a shorter statement of it ('improved (P=0.02)') too. Two
            # outcomes naming no measure are one only when their effects match.
            if not outcome["measure"] and outcome["effect_value"] is None:
                key = (id(outcome), statistics)
            same = (
                key
                if key in kept
                else next(
                    (
                        k
                        for k in kept
                        if k[0] == first_word
                        and first_word
                        and (_restates(statistics, k[1]) or _restates(k[1], statistics))
                    ),
                    None,
                )
            )
            if same is not None:
                row, position = kept[same]
                fuller, other = (outcome, dict(row)) if _filled(outcome) > _filled(row) else (row, outcome)
                row.update(
                    {name: fuller[name] if fuller[name] is not None else other[name] for name in OUTCOME_COLUMNS}
                )
                if fuller is outcome:
                    row["line"] = outcome.get("line")
                    merged[position] = (row, mention)  # the fuller statement's page and line
                continue
            row = {name: outcome[name] for name in OUTCOME_COLUMNS} | {"line": outcome.get("line")}
            kept[key] = (row, len(merged))
            merged.append((row, mention))
    return merged


def _filled(outcome: dict) -> int:
    return sum(1 for name in OUTCOME_COLUMNS if outcome.get(name) is not None)

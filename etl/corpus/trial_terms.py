"""Canonical trial conditions, interventions and phases, so that a facet
counts trials of one thing however the wiki spells it.

The vocabulary is data/trial_terms.yml: each term with the spellings it
stands for. A raw value is reduced to a key by rules (parentheticals,
doses, durations and dosing words dropped; case, accents and punctuation
folded) and the key is looked up among the declared spellings' keys. A
value whose key is not declared stays unmapped: the normalised column is
left empty and the build reports it, rather than guessing.

Pure apart from reading the vocabulary file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnostics import Diagnostic, diagnose
from ..rows.result import TrialMention
from ..schema import DATA_DIR, load_yaml
from ..wiki.trial_names import strip_parentheticals, without_dosing
from ..wiki.trials import find_phase, phase_cell

TERMS_FILE = "trial_terms.yml"
KINDS = ("condition", "intervention", "phase")
COMPARISON = re.compile(r"\s+(?:vs\.?|versus)\s+.*$|\s+[—–]\s+.*$", re.I)  # the comparator, or a note after a dash


def fold(text: str) -> str:
    """Lower case, no accents, words and numbers only: 'ATTR-CM' and
    'attr cm' are one key."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    return " ".join(re.findall(r"[^\W_]+", plain))


def condition_key(raw: str) -> str:
    return fold(strip_parentheticals(raw))


def intervention_parts(raw: str) -> list[str]:
    """Keys of the components of an intervention as written: the arm before
    'vs', split at '+', without doses, durations or dosing words."""
    text = COMPARISON.sub("", strip_parentheticals(raw))
    return [fold(without_dosing(part)) for part in re.split(r"\s*\+\s*", text)]


def phase_key(raw: str) -> str | None:
    """'Phase II' -> '2', 'Ph2b' -> '2b', 'I/II' -> '1/2' (etl/wiki/trials.py reads phases)."""
    return phase_cell(raw) or find_phase(raw)


@dataclass
class TrialTerms:
    """Declared spellings, by kind, as key -> canonical term."""

    spellings: dict[str, dict[str, str]] = field(default_factory=lambda: {kind: {} for kind in KINDS})

    def condition(self, raw: str | None) -> str | None:
        return self.spellings["condition"].get(condition_key(raw)) if raw else None

    def intervention(self, raw: str | None) -> str | None:
        """A combination maps when every component does; its terms are
        joined with ' + ' in alphabetical order."""
        if not raw:
            return None
        terms = [self.spellings["intervention"].get(part) for part in intervention_parts(raw) if part]
        if not terms or None in terms:
            return self.spellings["intervention"].get(condition_key(raw))
        return " + ".join(sorted(dict.fromkeys(terms), key=str.lower))

    def phase(self, raw: str | None) -> str | None:
        key = phase_key(raw) if raw else None
        return self.spellings["phase"].get(key) if key else None

    def normalise(self, kind: str, raw: str | None) -> str | None:
        return getattr(self, kind)(raw)


def terms_from(document: dict) -> TrialTerms:
    """The vocabulary from data/trial_terms.yml's content. A spelling that
    two terms claim is an error, not a silent choice."""
    terms = TrialTerms()
    key_of = {
        "condition": condition_key,
        "intervention": _intervention_spelling_key,
        "phase": lambda s: phase_key(s) or fold(s),
    }
    for kind in KINDS:
        for entry in document.get(kind + "s") or []:
            term = str(entry["term"])
            for spelling in [term, *map(str, entry.get("spellings") or [])]:
                key = key_of[kind](spelling)
                owner = terms.spellings[kind].setdefault(key, term)
                if owner != term:
                    raise ValueError(f"{TERMS_FILE}: {kind} spelling '{spelling}' is claimed by '{owner}' and '{term}'")
    return terms


def _intervention_spelling_key(spelling: str) -> str:
    """A one-component spelling is matched component by component; a
    combination ('D + Q') only as a whole."""
    parts = [part for part in intervention_parts(spelling) if part]
    return parts[0] if len(parts) == 1 else condition_key(spelling)


def load_trial_terms(data_dir: Path = DATA_DIR) -> TrialTerms:
    return terms_from(load_yaml(Path(data_dir) / TERMS_FILE))


NORMALISED_COLUMNS = {kind: f"{kind}_normalised" for kind in KINDS}


def normalised_facts(facts: dict, terms: TrialTerms) -> tuple[dict, list[str]]:
    """The normalised columns for a trial's facts, and the kinds whose
    stated value maps to no declared term."""
    values, unmapped = {}, []
    for kind, column in NORMALISED_COLUMNS.items():
        raw = facts.get(kind)
        values[column] = terms.normalise(kind, str(raw)) if raw is not None else None
        if raw is not None and values[column] is None:
            unmapped.append(kind)
    return values, unmapped


def unmapped_term_diagnostics(unmapped: dict[tuple[str, str], TrialMention]) -> list[Diagnostic]:
    """One warning per value that maps to no declared term, where the
    mention that stated it is."""
    return [
        diagnose(
            m.source_path,
            m.source_line,
            "trial-term-unmapped",
            f"trial {kind} '{value}' maps to no {kind} in data/{TERMS_FILE}; {NORMALISED_COLUMNS[kind]} is left empty",
        )
        for (kind, value), m in sorted(
            unmapped.items(), key=lambda item: (item[1].source_path, item[1].source_line, item[0])
        )
    ]

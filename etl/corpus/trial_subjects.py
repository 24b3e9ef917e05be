"""What a trial tests and in whom, with where each was read: stated by a
mention of the trial (its record, table row, sentence or explicit block),
read from its study page, taken from the page citing it when that page is
the intervention's own page (a compound, intervention or class page), or,
for the species, from its registration (ClinicalTrials.gov registers
studies in people)."""

from __future__ import annotations

import re

from ..rows.result import TrialMention
from ..rows.trial_mentions import INTERVENTION_FOLDERS


def _origin(mention: TrialMention) -> str:
    return "study-page" if mention.kind == "study-page" else "stated"


def tested_and_studied(members: list[TrialMention], facts: dict, fact_mention: dict) -> dict:
    """intervention, intervention_page and species, each with its origin."""
    found = {name: facts.get(name) for name in ("intervention", "intervention_page", "species") if facts.get(name)}
    origins = {f"{name}_origin": _origin(fact_mention[name]) for name in found}
    if "intervention_page" not in found and (citing := citing_intervention_page(members)):
        page, named = citing
        found["intervention_page"], origins["intervention_page_origin"] = page, "citing-page"
        if "intervention" not in found and named:
            found["intervention"], origins["intervention_origin"] = named, "citing-page"
    if "species" not in found and any(m.registry_id for m in members):
        found["species"], origins["species_origin"] = "human", "registry"
    return found | origins


def citing_intervention_page(members: list[TrialMention]) -> tuple[str, str | None] | None:
    """The intervention page among the pages citing the trial, and the
    words naming it in the trial's mentions: the one page whose name its
    own mention writes ('canakinumab' on molecules/compounds/canakinumab;
    of several, the name written first), else the only intervention page
    citing the trial (a class page: a pravastatin trial on the statins page)."""
    candidates = sorted({m.page for m in members if m.page.startswith(INTERVENTION_FOLDERS)})
    named = {}  # page -> (where its name first stands in its own mention, the words)
    for page in candidates:
        pattern = page_name_pattern(page)
        for mention in members:
            if mention.page == page and (match := pattern.search(mention.text)):
                named[page] = (match.start(), match.group(0).lower())
                break
    if named:  # several: the name written first ('dasatinib + quercetin')
        page = min(named, key=lambda p: (named[p][0], p))
        return page, named[page][1]
    if len(candidates) == 1:
        return candidates[0], None
    return None


def page_name_pattern(page: str) -> re.Pattern:
    """A page's slug as words of text: 'vitamin-d' matches 'Vitamin D' and
    'vitamin-D'; a long first word alone stands for a longer slug
    ('akkermansia' for akkermansia-supplementation)."""
    words = page.rsplit("/", 1)[-1].split("-")
    alternatives = [r"[\s-]".join(re.escape(w) for w in words)]
    if len(words) > 1 and len(words[0]) >= 8:
        alternatives.append(re.escape(words[0]))
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w])", re.I)

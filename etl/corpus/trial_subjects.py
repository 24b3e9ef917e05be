"""What a trial tests and in whom, with where each was read: stated by a
mention of the trial (its record, table row, sentence or explicit block),
read from its study page, taken from the page citing it when that page is
the intervention's own page (a compound, intervention or class page), or,
for the species, from its registration (ClinicalTrials.gov registers
studies in people) or its record's design (the wiki records animal
experiments as in-vivo, trials in people as rct or clinical-trial)."""

from __future__ import annotations

from ..rows.result import TrialMention
from ..rows.trial_mentions import INTERVENTION_FOLDERS, TRIAL_DESIGNS
from ..wiki.syntax import REGISTRY_ID
from .intervention_names import InterventionNames


def _origin(mention: TrialMention) -> str:
    return "study-page" if mention.kind == "study-page" else "stated"


def tested_and_studied(members: list[TrialMention], facts: dict, fact_mention: dict, names: InterventionNames) -> dict:
    """intervention, intervention_page and species, each with its origin;
    fact_mention gains where a name was read."""
    found = {name: facts.get(name) for name in ("intervention", "intervention_page", "species") if facts.get(name)}
    origins = {f"{name}_origin": _origin(fact_mention[name]) for name in found}
    if "intervention" in found and "intervention_page" not in found:
        if page := names.page_of_wording(found["intervention"]):  # 'simvastatin' names the statins page
            found["intervention_page"] = page
            origins["intervention_page_origin"] = origins["intervention_origin"]
    # A stated intervention that is no page's name is what was tested: another
    # name in the text ('women >60 yr, no HRT') does not give its page.
    named = None if "intervention_page" in found or "intervention" in found else first_named(members, names)
    if named:
        mention, first, words = named
        if first.page:
            found["intervention_page"], origins["intervention_page_origin"] = first.page, "named"
        if "intervention" not in found:
            found["intervention"], origins["intervention_origin"] = words, "named"
            fact_mention["intervention"] = mention
    if "intervention_page" not in found and (page := citing_intervention_page(members)):
        found["intervention_page"], origins["intervention_page_origin"] = page, "citing-page"
        if "intervention" not in found:
            found["intervention"], origins["intervention_origin"] = names.titles[page], "citing-page"
            fact_mention["intervention"] = next(m for m in members if m.page == page)
    origins |= population(members, facts, fact_mention, found.get("species"))
    if "species" not in found and any(m.registry_id for m in members):
        found["species"], origins["species_origin"] = "human", "registry"
    # The wiki records an animal experiment as in-vivo: a trial record
    # (rct, clinical-trial) that names no species is a trial in people.
    if "species" not in found and any(m.design in TRIAL_DESIGNS for m in members):
        found["species"], origins["species_origin"] = "human", "design"
    return found | origins


def first_named(members: list[TrialMention], names: InterventionNames):
    """The first intervention page named in the trial's mentions, in rank
    order (its record before a table row or a sentence): the mention, the
    name and the words naming what it tests."""
    for mention in members:
        if len(set(REGISTRY_ID.findall(mention.text))) > 1:
            continue  # a list of trials: what it names is not this trial's
        if named := names.tested(mention.text):
            return mention, *named
    return None


def citing_intervention_page(members: list[TrialMention]) -> str | None:
    """The only intervention page citing the trial (a class page: a
    pravastatin trial on the statins page, a compound's trial table)."""
    candidates = {m.page for m in members if m.page.startswith(INTERVENTION_FOLDERS)}
    return next(iter(candidates)) if len(candidates) == 1 else None


def population(members: list[TrialMention], facts: dict, fact_mention: dict, species: str | None) -> dict:
    """Which people a trial in humans enrolled: the group of the mention
    that states it first (in rank order), with its words and origin; none
    for a trial in animals."""
    if not facts.get("population_group") or species not in (None, "human"):
        return {"population_group": None, "population_written": None}
    return {"population_group_origin": _origin(fact_mention["population_group"])}

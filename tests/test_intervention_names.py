"""What a trial's text says was tested, read by the names of the wiki's
intervention pages (etl/corpus/intervention_names.py) and by the stems of
drug names (etl/wiki/trial_names.py)."""

from __future__ import annotations

from etl.corpus.intervention_names import InterventionNames, page_names
from etl.wiki.trial_names import development_code, drugs_named

from .test_trial_entities import STATINS, trials_by_work


def _names() -> InterventionNames:
    names = InterventionNames()
    names.add_page("interventions/pharmacological/widget-blockers", ("Widget Blockers (WBs)", "widgetol", "AIs"))
    names.add_page("molecules/compounds/widgetol", ("Widgetol",))
    names.add_page("molecules/compounds/gadgetin", ("Gadgetin (GDG-7)",))
    names.add_page("interventions/lifestyle/napping", ("Napping (duration, timing)",))
    names.add_page("phenotypes/widget-disease", ("Widget disease",))  # not an intervention page
    return names


def test_a_page_goes_by_its_title_its_slug_its_aliases_and_the_names_in_its_title():
    assert page_names("molecules/compounds/gadgetin", "Gadgetin (GDG-7)", ("gdg",)) == [
        "gadgetin",
        "Gadgetin",
        "GDG-7",
        "gdg",
    ]
    # Words in parentheses that are not a name ('duration, timing') are left out.
    assert page_names("interventions/lifestyle/napping", "Napping (duration, timing)", ()) == ["napping", "Napping"]


def test_a_member_with_its_own_page_keeps_it_and_a_class_alias_names_the_class():
    names = _names()
    assert names.page_for("Widgetol") == "molecules/compounds/widgetol"  # alias of the class, slug of its own page
    assert names.page_for("WBs") == "interventions/pharmacological/widget-blockers"
    assert names.page_for("widget disease") is None


def test_the_first_name_written_is_what_was_tested_and_names_joined_to_it_are_tested_with_it():
    names = _names()
    first, words = names.tested("n=40 · gadgetin + widgetol for 8 weeks; napping unchanged")
    assert (first.page, words) == ("molecules/compounds/gadgetin", "gadgetin + widgetol")
    first, words = names.tested("GDG-7 and placebo arms")
    assert (first.page, words) == ("molecules/compounds/gadgetin", "GDG-7")


def test_a_background_treatment_a_measure_and_a_lower_case_acronym_are_not_what_was_tested():
    names = _names()
    assert names.tested("women on AIs; napping duration improved") is None
    assert names.tested("the ais of the study") is None
    first, words = names.tested("Napping increased 10% after widgetol")
    assert (first.page, words) == ("molecules/compounds/widgetol", "widgetol")


def test_a_drug_without_a_page_is_read_by_its_stem_or_its_code():
    assert [w for _, _, w in drugs_named("alirocumab vs placebo; zorbitinib; Petersen et al.; a new concept")] == [
        "alirocumab",
        "zorbitinib",
    ]
    assert [w for _, _, w in drugs_named("[[studies/smith-2020-semaglutide-trial]]")] == []
    assert development_code("27 AZD4017, 28 placebo; NCT01234567; CD206; HEK293") == "AZD4017"
    assert development_code("SF-36 and COVID-19") is None
    first, words = _names().tested("RCT of KT-474 in adults")
    assert (first.page, words) == (None, "KT-474")


def test_a_build_reads_what_a_record_names_as_tested(entities):
    db, _ = entities
    trials = trials_by_work(db)
    assert {
        work: (trials[work]["intervention"], trials[work]["intervention_page"], trials[work]["intervention_origin"])
        for work in ("doi:10.5555/demo.lambda", "doi:10.5555/demo.mu", "doi:10.5555/demo.nu")
    } == {
        # 'on demoaspirin' is what they already took; the page's title comes next.
        "doi:10.5555/demo.lambda": ("Demo statins", STATINS, "named"),
        "doi:10.5555/demo.mu": ("zorbitinib", None, "named"),
        "doi:10.5555/demo.nu": ("XQ-4417", None, "named"),
    }

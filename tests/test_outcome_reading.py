"""How trial results are read where the wiki writes them: ratios named in
words, fold changes, measures with a number in their name, results after
a record's model or count, records that call themselves one trial, and a
study page's summary and nested result sections."""

from __future__ import annotations

from etl.rows.trial_mentions import _calls_itself_a_trial, _footnote_facts
from etl.schema import load_schema
from etl.wiki.citations import parse_citation
from etl.wiki.trial_outcomes import read_outcome


def _read(clause: str) -> tuple:
    outcome, _ = read_outcome(clause)
    return (outcome.measure, outcome.metric, outcome.effect_value, outcome.ci_low, outcome.ci_high, outcome.p_value)


def test_a_ratio_named_in_words_is_its_kind():
    assert _read("28-day mortality rate ratio 0.85 (95% CI 0.76–0.94; p=0.0028)") == (
        "28-day mortality", "irr", 0.85, 0.76, 0.94, 0.0028,
    )  # fmt: skip
    assert _read("hazard ratio of 0.74 for death") == ("death", "hr", 0.74, None, None, None)


def test_a_fold_change_is_a_ratio():
    assert _read("plasma NAD+ 2.6-fold (p<0.001)") == ("plasma NAD+", "ratio", 2.6, None, None, 0.001)


def test_a_measure_ends_where_its_percentage_begins():
    measure, metric, value, *_ = _read("hip fracture 38% lower risk (RR 0.62; 95% CI 0.45–0.85)")
    assert (measure, metric, value) == ("hip fracture", "rr", 0.62)


def _record(record: str):
    designs = load_schema().vocabularies["study_designs"]
    return _footnote_facts(record, parse_citation(record, designs))


def test_results_after_a_records_model_or_its_count_are_read():
    _, outcomes = _record(
        "doi:10.5555/x · Doe J et al. · Demo J 2020 · rct · n=300 · model: adults with demo anaemia; "
        "HR 0.72 for the composite endpoint (p=0.01)"
    )
    assert [(o.measure, o.effect_value, o.p_value) for o in outcomes] == [("composite endpoint", 0.72, 0.01)]
    facts, outcomes = _record(
        "doi:10.5555/y · Doe J et al. · Demo J 2021 · rct · Part A (n=120; adults): demostatin lowered "
        "relapse (OR 0.60 [90% CI 0.40–0.90]; p=0.02)"
    )
    assert [(o.effect_value, o.ci_low, o.p_value) for o in outcomes] == [(0.6, 0.4, 0.02)]
    assert facts.values["n_randomised"] == 120


def test_a_record_of_an_unnamed_design_that_calls_itself_one_trial_is_a_trial():
    assert _calls_itself_a_trial("doi:10.5555/z · rct-secondary-analysis · n=611", None)
    assert _calls_itself_a_trial("doi:10.5555/z · split-face clinical trial · n=24", None)
    assert not _calls_itself_a_trial("doi:10.5555/z · pooled analysis of 12 trials", None)
    assert not _calls_itself_a_trial("doi:10.5555/z · narrative review of one trial", None)
    assert not _calls_itself_a_trial("doi:10.5555/z · clinical trial", "observational")


def test_a_study_page_states_results_in_its_lead_and_nested_result_sections_not_in_its_context(entities):
    db, _ = entities
    rows = db.execute(
        "select measure, effect_value, p_value, source_line from trial_outcomes "
        "where trial = 'NCT09880077' order by seq"
    ).fetchall()
    assert [tuple(r) for r in rows] == [("composite of events", 0.7, 0.004, 14), ("LDL cholesterol", -12.0, 0.02, 24)]


def _direction(clause: str) -> str | None:
    outcome, _ = read_outcome(clause)
    return outcome.direction


def test_a_result_that_did_not_reach_significance_did_not_differ_whatever_its_verb():
    assert _direction("coronary events non-significantly reduced 11% (p=0.16)") == "no-difference"
    assert _direction("MACE HR 0.96, neutral") == "no-difference"
    assert _direction("LDL reduced 20% (p=0.40)") == "no-difference"
    assert _direction("LDL reduced 20% (p=0.004)") == "decrease"
    assert _direction("chair-stand −3.4 reps, favours placebo (p=0.007)") == "worsened"

"""Trials as entities: every mention of one trial joined into one row (a
table row and the footnote it cites, one acronym on one page), what each
trial tests and in whom with where that was read. A fixture wiki written
for these rules (tests/fixtures/trial_entities_wiki) and the pure readers."""

import json

import pytest

from etl.schema import load_schema
from etl.wiki.trial_names import (
    condition_of,
    dosed_intervention,
    find_species,
    find_term,
    find_trial_name,
    intervention_name,
    loose_name,
    name_before_id,
    species_pattern,
    term_pattern,
    trial_named_in,
)

from .conftest import ROOT

WIKI = ROOT / "tests" / "fixtures" / "trial_entities_wiki"
STATINS = "interventions/pharmacological/demo-statins"


@pytest.mark.parametrize(
    "record,name",
    [
        ("Ridker PM et al. (DEMO-1 trial) · Demo J 2017", "DEMO-1"),
        ("Roe R, Poe P, et al. (ALPHA Investigators)", "ALPHA"),
        ("Doe J et al. (PAX) · Demo Med 2012", "PAX"),
        ("exploratory subgroup analysis of the OMEGA RCT", "OMEGA"),
        ("rct (ZETA-IT; demo ethyl 4 g/d vs placebo)", "ZETA-IT"),
        ("(KAPPA-IT TIMI 9 Study Investigators)", "KAPPA-IT TIMI 9"),
        ("the ODYSSEY DEMO trial of a demo antibody", "ODYSSEY DEMO"),
        ("a Phase 2 RCT in older adults", None),
        ("an RCT trial with n=40", None),
    ],
)
def test_a_trial_name_is_read_from_how_records_write_it(record, name):
    assert find_trial_name(record) == name


@pytest.mark.parametrize(
    "written,name",
    [
        ("Demostatin 40 mg", "Demostatin"),
        ("2 doses demomab (10, 30 mg) SC q4w", "demomab"),
        ("oral demo acid × 8 weeks", "demo acid"),
        ("6-week topical democream 0.1% gel", "democream"),
        ("rct (DEMO-IT; demo ethyl 2 g/d", "demo ethyl"),
        ("DX+DY", "DX + DY"),
        ("no significant DX effect", None),  # a result, not a treatment
        ("primary endpoint not met", None),
        ("REDUCE-DEMO protocol drug", "REDUCE-DEMO protocol drug"),  # an upper-case name is not a verb
    ],
)
def test_an_intervention_is_named_without_dose_route_or_schedule(written, name):
    assert intervention_name(written) == name


def test_species_are_the_earliest_vocabulary_word():
    pattern = species_pattern(load_schema().vocabularies["species"])
    assert find_species("12 dogs, then 40 patients", pattern) == "dog"
    assert find_species("mus-musculus", pattern) == "mouse"
    assert find_species("homo-sapiens", pattern) == "human"
    assert find_species("adults with demo anaemia", pattern) == "human"
    assert find_species("a demo drug at 20 mg/day", pattern) is None
    assert find_species("humanised antibody", pattern) is None  # a word, not a prefix


def _trial(db, **where):
    clause = " and ".join(f"{column} = ?" for column in where)
    rows = db.execute(f"select * from trials where {clause}", list(where.values())).fetchall()
    assert len(rows) == 1, (where, [dict(r) for r in rows])
    return dict(rows[0])


def test_a_table_row_and_the_footnote_it_cites_are_one_trial(entities):
    db, _ = entities
    alpha = _trial(db, acronym="ALPHA")
    assert (alpha["trial"], alpha["n_randomised"]) == ("doi:10.5555/demo.alpha", 1200)
    assert {
        f"acronym:{STATINS}#ALPHA",
        f"footnote:{STATINS}#alpha2001",
        "work:doi:10.5555/demo.alpha",
    } <= set(json.loads(alpha["merged_keys"]))
    kinds = db.execute(
        "select kind, source_line from trial_mentions where trial = ? and page = ? order by seq",
        [alpha["trial"], STATINS],
    )
    assert [tuple(r) for r in kinds] == [("table-row", 13), ("footnote", 20)]


def test_a_row_citing_a_trial_and_a_review_is_the_trial_not_the_review(entities):
    db, _ = entities
    beta = _trial(db, acronym="BETA-2")
    assert f"footnote:{STATINS}#beta2005" in json.loads(beta["merged_keys"])
    assert beta["work"] is None and beta["mention_count"] == 2
    # A row citing only a review keeps its own trial, without the review's work.
    gamma = _trial(db, acronym="GAMMA")
    assert (gamma["trial"], gamma["work"], gamma["merged_keys"]) == (f"{STATINS}#L15", None, None)
    assert db.execute("select count(*) from trial_mentions where work = 'doi:10.5555/demo.review'").fetchone()[0] == 0


def test_a_row_citing_a_footnote_that_does_not_exist_is_reported_and_kept(entities):
    db, result = entities
    delta = _trial(db, acronym="DELTA")
    assert (delta["trial"], delta["n_randomised"]) == (f"{STATINS}#L16", 300)
    assert [(d.path, d.line) for d in result.diagnostics if d.code == "footnote-undefined"] == [(f"{STATINS}.md", 16)]


def test_one_acronym_does_not_join_two_registrations(entities):
    db, _ = entities
    rows = db.execute("select trial, merged_keys from trials where acronym = 'OMICRON' order by trial").fetchall()
    assert [r["trial"] for r in rows] == ["NCT09880001", "NCT09880002"]
    assert "nct:NCT09880002" not in json.loads(rows[0]["merged_keys"]) and rows[1]["merged_keys"] is None


def test_what_a_trial_tests_and_where_that_was_read(entities):
    db, _ = entities
    alpha = _trial(db, acronym="ALPHA")
    # The record states the drug; the class page citing it is its page.
    assert (alpha["intervention"], alpha["intervention_origin"]) == ("demostatin", "stated")
    assert (alpha["intervention_page"], alpha["intervention_page_origin"]) == (STATINS, "citing-page")
    # A trial named only on a condition's page has no intervention page.
    omicron = _trial(db, trial="NCT09880001")
    assert (omicron["intervention_page"], omicron["intervention_page_origin"]) == (None, None)


def test_in_whom_a_trial_was_done_and_where_that_was_read(entities):
    db, _ = entities
    assert [_trial(db, acronym=a)[k] for a in ("ALPHA", "SIGMA-D") for k in ("species", "species_origin")] == [
        "human",
        "stated",
        "dog",
        "stated",  # stated words win over what a registration implies
    ]
    delta = _trial(db, acronym="DELTA")  # no word names who was treated
    assert (delta["species"], delta["species_origin"]) == (None, None)
    assert db.execute("select species from species order by species").fetchall()[0][0] == "cat"


def test_conflicting_facts_and_missing_pages_are_reported_where_written(entities):
    db, result = entities
    anaemia = "phenotypes/demo-anaemia.md"
    reported = [
        (d.code, d.path, d.line) for d in result.diagnostics if d.code.startswith("trial-") and "term" not in d.code
    ]
    assert sorted(reported) == [
        ("trial-facts-conflict", anaemia, 15),  # the table row's 250 against the footnote's 300 ...
        ("trial-intervention-page-missing", anaemia, 17),
    ]
    # ... and every mention is kept: the trial row takes the first in rank order.
    omicron = _trial(db, trial="NCT09880001")
    assert (omicron["n_randomised"], omicron["mention_count"]) == (300, 3)


def test_an_animal_experiment_called_randomised_is_a_trial_in_animals(entities):
    db, _ = entities
    mice = _trial(db, trial="doi:10.5555/demo.mice")
    assert (mice["randomised"], mice["species"], mice["species_origin"]) == (1, "mouse", "stated")
    # An in-vivo record that does not say randomised stays a citation, not a trial.
    assert db.execute("select count(*) from trial_mentions where work = 'doi:10.5555/demo.rats'").fetchone()[0] == 0
    assert db.execute("select count(*) from footnotes where label = 'rats2018'").fetchone()[0] == 1


def test_a_sentence_naming_an_nct_id_gives_its_n_and_randomisation(entities):
    db, _ = entities
    sigma = _trial(db, acronym="SIGMA-D")
    assert (sigma["n_randomised"], sigma["randomised"], sigma["species"]) == (24, 1, "dog")


def test_a_report_of_part_of_a_trial_is_that_trial(entities):
    db, _ = entities
    alpha = _trial(db, acronym="ALPHA")  # one row: the trial's own report and its subgroup analysis
    assert alpha["trial"] == "doi:10.5555/demo.alpha" and alpha["work"] == "doi:10.5555/demo.alpha"
    keys = json.loads(alpha["merged_keys"])
    assert {"report-of:ALPHA", "work:doi:10.5555/demo.alpha.older"} <= set(keys)
    assert alpha["n_randomised"] == 1200  # the trial's n, not the subgroup's


@pytest.mark.parametrize(
    "sentence,name",
    [
        ("The LIPO-9 trial showed lower LDL.", "LIPO-9"),
        ("a well-powered RCT (CALM-2; n=200) found", "CALM-2"),
        ("In APEX RCT, weight fell.", "APEX"),
        ("measured by ELISA (ELISA; p=0.04)", None),  # records accept '(X;', prose does not
        ("the SAPHIR study followed 1,000 adults", None),  # a study is not a trial
    ],
)
def test_a_trial_named_in_prose(sentence, name):
    assert trial_named_in(sentence) == name


def test_a_sentence_naming_a_trial_and_its_result_is_a_trial_with_that_outcome(entities):
    db, _ = entities
    lipo = _trial(db, acronym="LIPO-9")
    outcome = db.execute(
        "select metric, effect_value, ci_low, p_value, direction, source_line from trial_outcomes "
        "where trial = ? and page = 'phenotypes/demo-lipids'",
        [lipo["trial"]],
    ).fetchone()
    assert tuple(outcome) == ("percent", 20.0, 10.0, 0.01, "decrease", 13)
    assert db.execute("select count(*) from trials where acronym = 'ELISA'").fetchone()[0] == 0
    # Named on another page too, and by no other key: one trial, by its name.
    assert (lipo["page_count"], lipo["outcome_count"]) == (2, 2)
    assert "named:LIPO-9" in json.loads(lipo["merged_keys"])


@pytest.mark.parametrize(
    "segment,name",
    [
        ("demofibrate 200 mg/day × 5 yr in type 2 diabetes", "demofibrate"),
        ("oral demoglutide 14 mg daily", "demoglutide"),
        ("12-week demo acid 2 g/day", "demo acid"),
        ("RCT of demotinib 100 mg", "demotinib"),
        ("received 500 mg/day", None),  # nothing named
        ("eGFR fell by 20 mg", None),  # a measure, not a treatment
    ],
)
def test_what_a_record_doses_is_its_intervention(segment, name):
    assert dosed_intervention(segment) == name


def test_a_record_of_unnamed_design_that_calls_itself_randomised_is_a_trial(entities):
    db, _ = entities
    kappa = _trial(db, trial="doi:10.5555/demo.kappa")
    assert (kappa["randomised"], kappa["n_randomised"]) == (1, 64)
    # A record pooling several trials is not one trial.
    assert db.execute("select count(*) from trials where trial = 'doi:10.5555/demo.pooled'").fetchone()[0] == 0


def test_a_sentence_naming_a_trial_elsewhere_is_that_trial(entities):
    db, _ = entities
    alpha = _trial(db, acronym="ALPHA")  # still one row: the sentence on the anaemia page joined it
    assert "named:ALPHA" in json.loads(alpha["merged_keys"])
    pages = db.execute("select distinct page from trial_mentions where trial = ? order by 1", [alpha["trial"]])
    assert [p[0] for p in pages] == [
        "interventions/pharmacological/demo-statins",
        "phenotypes/demo-anaemia",
        "phenotypes/demo-lipids",
    ]


@pytest.mark.parametrize(
    "record,condition",
    [
        ("model: humans with demo amyloidosis with neuropathy", "demo amyloidosis with neuropathy"),
        ("n=74 adults aged 60–85 with knee demoarthritis randomized to", "knee demoarthritis"),
        ("adults with T2D on demoformin", "T2D"),
        ("patients with LDL 200–400 mg/dL", None),  # an inclusion threshold, not a condition
        ("healthy older adults", None),
    ],
)
def test_the_condition_of_the_people_a_trial_enrolled(record, condition):
    assert condition_of(record) == condition


def test_names_in_mixed_case_and_before_an_nct_id():
    assert loose_name("STEP-DEMOpEF") == "STEP-DEMOpEF" and loose_name("TROFFo") == "TROFFo"
    assert loose_name("Demostatin") is None  # one capital: a word
    assert loose_name("IPF") is None  # three capitals or fewer: more often a condition
    assert name_before_id("The **OPTIMO** (NCT09870001) trial is active.", "NCT09870001") == "OPTIMO"
    assert name_before_id("patients with IPF (NCT09870002)", "NCT09870002") is None


def test_one_name_on_two_pages_is_one_trial_unless_what_they_state_differs(entities):
    db, _ = entities
    rows = db.execute(
        "select acronym, n_randomised, merged_keys from trials where acronym in ('OMEGA-SEVEN', 'ZETA-NINE') "
        "order by acronym, n_randomised"
    ).fetchall()
    # Two reports of OMEGA-SEVEN (same n) are one trial; ZETA-NINE of 100 and of 900 are two.
    assert [(r["acronym"], r["n_randomised"]) for r in rows] == [
        ("OMEGA-SEVEN", 640),
        ("ZETA-NINE", 100),
        ("ZETA-NINE", 900),
    ]
    assert {"work:doi:10.5555/demo.omega.main", "work:doi:10.5555/demo.omega.followup"} <= set(
        json.loads(rows[0]["merged_keys"])
    )


def trials_by_work(db) -> dict:
    """The fixture wiki's trials keyed by the work that reports them."""
    return {row["work"]: row for row in db.execute("select * from trials where work like 'doi:10.5555/demo.%'")}


def test_a_trial_record_naming_no_species_is_a_trial_in_people_but_an_animal_experiment_is_not(entities):
    db, _ = entities
    species = {work: (row["species"], row["species_origin"]) for work, row in trials_by_work(db).items()}
    assert species["doi:10.5555/demo.tau"] == ("human", "design")
    assert species["doi:10.5555/demo.upsilon"] == (None, None)


def test_the_people_a_trial_enrolled_are_the_earliest_group_words_longest_first():
    pattern = term_pattern(load_schema().vocabularies["population_groups"], "population_group")
    assert find_term("n=300 healthy older adults aged 70+", pattern) == ("older adults", "healthy older adults")
    assert find_term("postmenopausal women with osteopenia", pattern) == (
        "postmenopausal women",
        "postmenopausal women",
    )
    assert find_term("women and men", pattern) == ("women", "women")
    assert find_term("aged C57BL/6 mice", pattern) is None


def test_a_trial_in_people_has_its_population_group_and_a_trial_in_animals_none(entities):
    db, _ = entities
    rows = {
        work: (r["species"], r["population_group"], r["population_written"], r["population_group_origin"])
        for work, r in trials_by_work(db).items()
    }
    assert rows["doi:10.5555/demo.mu"] == ("human", "adults", "adults", "stated")
    assert rows["doi:10.5555/demo.upsilon"] == (None, None, None, None)
    groups = [r[0] for r in db.execute("select population_group from population_groups")]
    assert {"older adults", "postmenopausal women", "patients"} <= set(groups)

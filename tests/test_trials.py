"""Trials, arms, outcomes and mentions: the text readers (pure), a fixture
wiki written for them, and the real wiki's trials asserted by name (seed 000:
molecules/proteins/il-1ra.md; the NCT table on molecules/compounds/anakinra.md)."""

import json
import sqlite3
from types import SimpleNamespace

import pytest

from etl.options import BuildOptions
from etl.pipeline.build import build
from etl.rows.trial_blocks import declared_enums, read_explicit_block
from etl.schema import load_schema
from etl.wiki.trial_outcomes import read_outcome, read_outcomes
from etl.wiki.trial_tables import header_meaning, read_table_row
from etl.wiki.trials import (
    find_arms,
    find_dose,
    find_duration,
    find_phase,
    find_registry_status,
    parse_count,
    text_facts,
)

from .conftest import ROOT
from .test_nothing_lost import assert_nothing_lost

TRIALS_WIKI = ROOT / "tests" / "fixtures" / "trials_wiki"


# --- readers -------------------------------------------------------------


@pytest.mark.parametrize(
    "text,weeks,raw",
    [
        ("a 26-week double-blind trial", 26.0, "26-week"),
        ("crossover (4-week periods)", 4.0, "4-week"),
        ("supplemented for 6 months", 26.09, "6 months"),
        ("2 years of treatment", 104.36, "2 years"),
        ("14-day run-in", 2.0, "14-day"),
    ],
)
def test_durations_are_weeks(text, weeks, raw):
    assert find_duration(text) == (weeks, raw)


@pytest.mark.parametrize(
    "text", ["adults aged 65 years", "participants 40 years old", "over 70 years", "≥65 years", "median age 71 years"]
)
def test_ages_are_not_durations(text):
    assert find_duration(text) is None


def test_doses_with_unit_frequency_and_route():
    dose = find_dose("demo drug 100 mg/day s.c. vs placebo")
    assert (dose.value, dose.unit, dose.frequency, dose.route, dose.raw) == (
        100.0,
        "mg",
        "daily",
        "subcutaneous",
        "100 mg/day s.c.",
    )
    dose = find_dose("20 mg/kg/day orally")
    assert (dose.value, dose.unit, dose.frequency, dose.route) == (20.0, "mg/kg", "daily", "oral")
    dose = find_dose("5 mcg twice daily")
    assert (dose.value, dose.unit, dose.frequency) == (5.0, "µg", "twice daily")
    dose = find_dose("50–100 mg daily")
    assert dose.value is None and dose.raw.startswith("50–100 mg")  # a range keeps its text, not a made-up number
    assert find_dose("no dose written here") is None


@pytest.mark.parametrize(
    "text,phase",
    [("a phase 3 trial", "3"), ("Phase I/II", "1/2"), ("phase 2b extension", "2b"), ("Ph 4", "4"), ("no phase", None)],
)
def test_phases(text, phase):
    assert find_phase(text) == phase


@pytest.mark.parametrize(
    "text,status",
    [
        ("ACTIVE_NOT_RECRUITING", "active-not-recruiting"),
        ("currently **active, not recruiting**", "active-not-recruiting"),
        ("RECRUITING", "recruiting"),
        ("Not yet recruiting", "not-yet-recruiting"),
        ("Completed (2023)", "completed"),
        ("in planning", None),
    ],
)
def test_registry_statuses(text, status):
    found = find_registry_status(text)
    assert (found[0] if found else None) == status


def test_a_count_of_trials_is_not_a_sample_size():
    from etl.wiki.trials import sample_size_facts

    assert sample_size_facts("n=2 identical multicentre RCTs of rosacea").values.get("n_randomised") is None
    assert sample_size_facts("n=120 participants at 5 sites").values["n_randomised"] == 120


def test_arms_and_completers():
    arms, completed = find_arms("n=70 randomised (34 active, 35 placebo); 67 completed (34 active, 33 placebo)")
    assert [(a.label, a.n, a.completed) for a in arms] == [("active", 34, 34), ("placebo", 35, 33)] and completed == 67
    arms, completed = find_arms("120 (drug n=60; placebo n=60)")
    assert [(a.label, a.n) for a in arms] == [("drug", 60), ("placebo", 60)] and completed is None


@pytest.mark.parametrize(
    "text,count,read",
    [
        ("70", 70, True),
        ("1,961", 1961, True),
        ("~120", 120, True),
        ("n=45", 45, True),
        ("—", None, True),
        ("various", None, True),
        ("<100", None, False),
    ],
)
def test_sample_size_cells(text, count, read):
    assert parse_count(text) == (count, read)


def test_an_outcome_with_effect_interval_and_p():
    outcome, problems = read_outcome(
        "primary endpoint: fasting glucose −0.8 mmol/L vs placebo (95% CI −1.3 to −0.3; P=0.004)"
    )
    assert problems == []
    assert (outcome.measure, outcome.role, outcome.comparison) == ("fasting glucose", "primary", "placebo")
    assert (outcome.effect_value, outcome.effect_unit, outcome.effect_raw, outcome.direction) == (
        -0.8,
        "mmol/L",
        "−0.8 mmol/L",
        "decrease",
    )
    assert (outcome.ci_level, outcome.ci_low, outcome.ci_high) == (95.0, -1.3, -0.3)
    assert (outcome.p_operator, outcome.p_value, outcome.p_raw) == ("=", 0.004, "P=0.004")


def test_arm_comparisons_and_ratio_effects():
    outcome, _ = read_outcome("response 52% vs 31% (p<0.001)")
    assert (
        outcome.measure,
        outcome.arm_a_value,
        outcome.arm_b_value,
        outcome.arm_unit,
        outcome.p_operator,
        outcome.p_value,
    ) == ("response", 52.0, 31.0, "%", "<", 0.001)
    outcome, _ = read_outcome("stroke RR 0.77 (95% CI 0.61–0.98)")
    assert (
        outcome.measure,
        outcome.effect_metric,
        outcome.effect_value,
        outcome.ci_low,
        outcome.ci_high,
        outcome.p_value,
    ) == ("stroke", "RR", 0.77, 0.61, 0.98, None)


def test_clauses_without_statistics_are_not_outcomes_and_bad_numbers_are_problems():
    outcomes, problems = read_outcomes(
        "well tolerated; n=40 adults; model: human; pain −1.1 points (95% CI unclear; P=0.01)"
    )
    assert [o.measure for o in outcomes] == ["pain"]
    assert problems and "confidence interval not read" in problems[0]


def test_one_clause_with_two_p_values_is_two_outcomes():
    outcomes, _ = read_outcomes("IL-6 (P<0.001) and CRP (P=0.002) fell")
    assert [(o.measure, o.p_operator, o.p_value) for o in outcomes] == [("IL-6", "<", 0.001), ("CRP", "=", 0.002)]


def test_facts_from_a_design_and_arms_run():
    facts = text_facts(
        "12-week single-blind crossover; ALPHA-2 pilot; "
        "demo drug 50 mg twice daily vs placebo in knee osteoarthritis (KL grade ≥2)"
    ).values
    assert facts == {
        "design": "crossover",
        "blinding": "single-blind",
        "duration_weeks": 12.0,
        "duration_raw": "12-week",
        "acronym": "ALPHA-2",
        "dose_value": 50.0,
        "dose_unit": "mg",
        "dose_frequency": "twice daily",
        "dose_raw": "50 mg twice daily",
        "intervention": "demo drug",
        "comparator": "placebo",
        "condition": "knee osteoarthritis",
        "inclusion": "KL grade ≥2",
    }


def test_table_headers_are_mapped_by_meaning_not_position():
    assert [
        header_meaning(h)
        for h in [
            "NCT ID",
            "Phase",
            "Status (as of 2026-05-08)",
            "Indication",
            "N",
            "Primary endpoint",
            "p-value",
            "Sponsor",
        ]
    ] == [
        "registry_id",
        "phase",
        "registry_status",
        "condition",
        "n_randomised",
        "primary_measure",
        "p_value",
        None,
    ]
    one = read_table_row(["Trial", "NCT", "Phase", "Status"], ["BETA", "NCT01234567", "2", "RECRUITING"])
    other = read_table_row(
        ["Status", "Phase", "NCT", "Trial", "Site"], ["RECRUITING", "2", "NCT01234567", "BETA", "Demo City"]
    )
    assert one.facts.values == other.facts.values and one.registry_ids == other.registry_ids == ["NCT01234567"]
    assert other.unmapped == {"Site": "Demo City"}


def test_an_estimate_with_its_interval_in_one_cell():
    reading = read_table_row(["Endpoint", "HR (95% CI)", "p"], ["Hip fracture", "0.53 (0.39–0.71)", "<0.0001"])
    outcome = reading.outcomes[0]
    assert (
        outcome.measure,
        outcome.effect_metric,
        outcome.effect_value,
        outcome.ci_low,
        outcome.ci_high,
        outcome.p_operator,
        outcome.p_value,
    ) == (
        "Hip fracture",
        "HR",
        0.53,
        0.39,
        0.71,
        "<",
        0.0001,
    )


ENUMS = declared_enums(load_schema())


class _NoPages:
    study_works: dict = {}

    def resolve(self, target, from_page=None):
        return None


def test_explicit_block_problems_name_their_line():
    footnotes = {"rho2020": SimpleNamespace(registry_id=None, work="doi:10.5555/rho", study_page=None)}
    explicit, problems = read_explicit_block(
        "trial: rho2020\nn-randomised: 40\nblinding: masked\ncolour: blue\n", 11, footnotes, _NoPages(), "p", ENUMS
    )
    assert explicit.facts.values == {"n_randomised": 40} and explicit.keys["work"] == "doi:10.5555/rho"
    assert [(line, code) for line, code, _ in problems] == [(14, "trial-block-invalid"), (13, "trial-block-invalid")]
    assert read_explicit_block("trial: [unclosed\n", 5, footnotes, _NoPages(), "p", ENUMS)[1][0][:2] == (
        6,
        "trial-block-invalid",
    )
    assert (
        read_explicit_block("n-randomised: 3\n", 5, footnotes, _NoPages(), "p", ENUMS)[1][0][1] == "trial-block-invalid"
    )


# --- the fixture wiki ----------------------------------------------------


@pytest.fixture(scope="module")
def trials_db(tmp_path_factory):
    out = tmp_path_factory.mktemp("trials-build")
    result = build(TRIALS_WIKI, out, options=BuildOptions(jobs=1))
    connection = sqlite3.connect(out / "agingkb.db")
    connection.row_factory = sqlite3.Row
    yield connection, result, out
    connection.close()


def trial(db, trial_id):
    row = db.execute("select * from trials where trial = ?", [trial_id]).fetchone()
    assert row is not None, trial_id
    return dict(row)


def test_a_trial_cited_on_two_pages_is_one_row_with_explicit_facts_winning(trials_db):
    db, _, _ = trials_db
    omega = trial(db, "doi:10.5555/demo.omega")
    assert {
        k: omega[k]
        for k in (
            "acronym",
            "randomised",
            "design",
            "blinding",
            "n_randomised",
            "n_completed",
            "duration_weeks",
            "duration_raw",
        )
    } == {
        "acronym": "OMEGA-1",
        "randomised": 1,
        "design": "parallel",
        "blinding": "double-blind",
        "n_randomised": 60,
        "n_completed": 57,
        "duration_weeks": 26.0,
        "duration_raw": "26-week",
    }
    assert (
        omega["dose_value"],
        omega["dose_unit"],
        omega["dose_frequency"],
        omega["dose_route"],
        omega["comparator"],
    ) == (20.0, "mg", "daily", "oral", "placebo")
    assert (omega["condition"], omega["inclusion"], omega["intervention_page"]) == (
        "older adults with low grip strength",
        "age ≥70",
        "molecules/compounds/demo-drug",
    )
    assert json.loads(omega["pages"]) == ["molecules/compounds/demo-drug", "molecules/proteins/demo-receptor"]
    assert (
        omega["mention_count"],
        omega["needs_replication"],
        json.loads(omega["explicit_fields"]),
        omega["facts_origin"],
    ) == (3, 1, ["acronym", "n_completed"], "mixed")
    arms = db.execute(
        "select label, n_randomised from trial_arms where trial = ? order by seq", ["doi:10.5555/demo.omega"]
    ).fetchall()
    assert [tuple(a) for a in arms] == [("demo drug", 30), ("placebo", 30)]


def test_outcomes_are_typed_and_an_explicit_outcome_replaces_the_extracted_one(trials_db):
    db, _, _ = trials_db
    rows = [
        dict(r)
        for r in db.execute("select * from trial_outcomes where trial = ? order by seq", ["doi:10.5555/demo.omega"])
    ]
    by_measure = {r["measure"]: r for r in rows}
    assert set(by_measure) == {
        "gait speed",
        "grip strength",
    }  # 'grip strength improved (P=0.02)' on the other page is the same result
    grip = by_measure["grip strength"]
    assert (
        grip["role"],
        grip["effect_value"],
        grip["effect_unit"],
        grip["ci_level"],
        grip["ci_low"],
        grip["ci_high"],
        grip["p_operator"],
        grip["p_value"],
        grip["origin"],
    ) == (
        "primary",
        1.8,
        "kg",
        95.0,
        0.3,
        3.3,
        "=",
        0.02,
        "extracted",
    )
    gait = by_measure["gait speed"]
    assert (
        gait["role"],
        gait["effect_value"],
        gait["effect_unit"],
        gait["ci_low"],
        gait["ci_high"],
        gait["p_value"],
        gait["origin"],
        gait["mention_kind"],
    ) == (
        "secondary",
        0.01,
        "m/s",
        -0.02,
        0.04,
        0.40,
        "explicit",
        "explicit",
    )
    sigma = [
        dict(r) for r in db.execute("select * from trial_outcomes where trial = 'doi:10.5555/demo.sigma' order by seq")
    ]
    assert [(r["measure"], r["effect_metric"], r["effect_value"], r["ci_low"], r["ci_high"]) for r in sigma] == [
        ("peak VO₂", None, 0.9, None, None),
        ("hospitalisation", "HR", 0.7, 0.52, 0.94),
    ]
    assert trial(db, "doi:10.5555/demo.sigma")["design"] == "crossover"


def test_a_registry_table_row_and_a_study_page_are_one_trial(trials_db):
    db, _, _ = trials_db
    gait = trial(db, "NCT09990001")
    assert (
        gait["work"],
        gait["study_page"],
        gait["registry_status"],
        gait["phase"],
        gait["n_randomised"],
        gait["duration_weeks"],
        gait["condition"],
    ) == (
        "doi:10.5555/demo.gait",
        "studies/demo-2020-gait-trial",
        "completed",
        "2",
        120,
        12.0,
        "Mobility disability",
    )
    assert (
        gait["title"] == "Demo drug and gait speed in older adults: a randomised trial"
    )  # the study page outranks the table
    kinds = db.execute(
        "select kind, unmapped_columns from trial_mentions where trial = 'NCT09990001' order by seq"
    ).fetchall()
    assert [tuple(k) for k in kinds] == [("table-row", '{"Sponsor": "Demo University"}'), ("study-page", None)]
    outcomes = db.execute(
        "select measure, role, direction, p_value from trial_outcomes where trial = 'NCT09990001' order by seq"
    ).fetchall()
    assert [tuple(o) for o in outcomes] == [
        ("Gait speed", "primary", "no-difference", 0.62),
        # '+0.4 kg (95% CI −0.6 to 1.4; p=0.43)': no word states a direction and
        # the interval holds 0, so the numbers say no difference, not the sign.
        ("Grip strength", None, "no-difference", 0.43),
    ]


def test_prose_and_unregistered_table_rows_are_trials_too(trials_db):
    db, _, _ = trials_db
    demo3 = trial(db, "NCT09990003")
    assert (demo3["acronym"], demo3["registry_status"]) == ("DEMO-3", "recruiting")
    assert trial(db, "NCT09990002")["registry_status"] == "active-not-recruiting"
    pilot = trial(db, "molecules/compounds/demo-drug#L25")
    assert (pilot["acronym"], pilot["n_randomised"]) == ("PILOT-DD", 24)
    assert db.execute("select measure, role, p_value from trial_outcomes where trial = ?", [pilot["trial"]]).fetchone()[
        :
    ] == ("Six-minute walk distance", "primary", 0.08)


def test_the_fixture_trials_build_clean_and_nothing_is_lost(trials_db):
    db, result, out = trials_db
    # The fixture's conditions and drugs are made up: data/trial_terms.yml declares none of them.
    assert [
        d.format() for d in result.diagnostics if d.code.startswith("trial-") and d.code != "trial-term-unmapped"
    ] == []
    totals = assert_nothing_lost(TRIALS_WIKI, out)
    assert totals["registered trials"] == 4  # three on the compound page, one on the study page
    assert db.execute("select count(*) from trials").fetchone()[0] == 6


# --- the real wiki -------------------------------------------------------


@pytest.fixture(scope="module")
def real_db(real_build):
    out, _ = real_build
    connection = sqlite3.connect(out / "agingkb.db")
    connection.row_factory = sqlite3.Row
    yield connection
    connection.close()


LARSEN, VAN_TASSELL, BRESNIHAN = (
    "doi:10.1056/nejmoa065213",
    "doi:10.1016/j.amjcard.2013.08.047",
    "doi:10.1002/1529-0131(199812)41:12<2196::aid-art15>3.0.co;2-2",
)


def outcome(db, trial_id, measure):
    rows = [
        dict(r) for r in db.execute("select * from trial_outcomes where trial = ? and measure = ?", [trial_id, measure])
    ]
    assert len(rows) == 1, (trial_id, measure, rows)
    return rows[0]


def test_seed_larsen_2007(real_db):
    larsen = trial(real_db, LARSEN)
    assert {
        k: larsen[k] for k in ("randomised", "design", "blinding", "n_randomised", "n_completed", "duration_weeks")
    } == {
        "randomised": 1,
        "design": "parallel",
        "blinding": "double-blind",
        "n_randomised": 70,
        "n_completed": 67,
        "duration_weeks": 13.0,
    }
    assert (
        larsen["dose_value"],
        larsen["dose_unit"],
        larsen["dose_frequency"],
        larsen["dose_route"],
        larsen["comparator"],
    ) == (100.0, "mg", "daily", "subcutaneous", "placebo")
    assert (larsen["inclusion"], larsen["intervention_page"]) == ("HbA1c >7.5%", "molecules/compounds/anakinra")
    assert "molecules/proteins/il-1ra" in json.loads(larsen["pages"]) and larsen["needs_replication"] == 1
    arms = real_db.execute(
        "select label, n_randomised from trial_arms where trial = ? order by seq", [LARSEN]
    ).fetchall()
    assert [tuple(a) for a in arms] == [("anakinra", 34), ("placebo", 35)]
    hba1c = outcome(real_db, LARSEN, "HbA1c")
    assert (
        hba1c["role"],
        hba1c["effect_value"],
        hba1c["effect_unit"],
        hba1c["ci_level"],
        hba1c["ci_low"],
        hba1c["ci_high"],
        hba1c["p_operator"],
        hba1c["p_value"],
    ) == (
        "primary",
        -0.46,
        "pp",
        95.0,
        0.01,
        0.90,
        "=",
        0.03,
    )
    for measure, operator, p in [
        ("C-peptide AUC", "=", 0.05),
        ("proinsulin/insulin ratio", "=", 0.005),
        ("IL-6", "<", 0.001),
        ("CRP", "=", 0.002),
        ("insulin sensitivity", "=", 0.58),
    ]:
        row = outcome(real_db, LARSEN, measure)
        assert (row["p_operator"], row["p_value"]) == (operator, p), measure


def test_seed_van_tassell_2014(real_db):
    vt = trial(real_db, VAN_TASSELL)
    assert {
        k: vt[k]
        for k in (
            "acronym",
            "design",
            "blinding",
            "n_randomised",
            "duration_weeks",
            "duration_raw",
            "dose_value",
            "dose_unit",
            "dose_frequency",
            "comparator",
        )
    } == {
        "acronym": "D-HART",
        "design": "crossover",
        "blinding": "double-blind",
        "n_randomised": 12,
        "duration_weeks": 2.0,
        "duration_raw": "14-day",
        "dose_value": 100.0,
        "dose_unit": "mg",
        "dose_frequency": "daily",
        "comparator": "placebo",
    }
    vo2 = outcome(real_db, VAN_TASSELL, "peak VO₂")
    assert (vo2["effect_value"], vo2["effect_unit"], vo2["direction"], vo2["p_operator"], vo2["p_value"]) == (
        1.2,
        "mL/kg/min",
        "increase",
        "=",
        0.009,
    )
    crp = outcome(real_db, VAN_TASSELL, "CRP")
    assert (crp["effect_value"], crp["effect_unit"], crp["direction"], crp["p_operator"], crp["p_value"]) == (
        -74.0,
        "%",
        "decrease",
        "=",
        0.006,
    )


def test_seed_bresnihan_1998(real_db):
    br = trial(real_db, BRESNIHAN)
    assert (
        br["n_randomised"],
        br["duration_weeks"],
        br["phase"],
        br["dose_value"],
        br["dose_unit"],
        br["dose_frequency"],
        br["comparator"],
        br["condition"],
    ) == (
        472,
        24.0,
        "3",
        150.0,
        "mg",
        "daily",
        "placebo",
        "RA",
    )
    acr = outcome(real_db, BRESNIHAN, "ACR20")
    assert (
        acr["arm_a_value"],
        acr["arm_b_value"],
        acr["arm_unit"],
        acr["comparison"],
        acr["p_operator"],
        acr["p_value"],
    ) == (43.0, 27.0, "%", "43% vs 27%", "<", 0.001)


def test_anakinra_registry_table(real_db):
    rows = real_db.execute(
        "select t.registry_id, t.title, t.registry_status, t.condition "
        "from trials t join trial_mentions m on m.trial = t.trial "
        "where m.page = 'molecules/compounds/anakinra' and m.kind = 'table-row' order by t.registry_id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        (
            "NCT05177822",
            "VA-ART4: IL-1 blockade in acute MI to prevent heart failure",
            "active-not-recruiting",
            "Heart failure post-STEMI",
        ),
        (
            "NCT05814159",
            "Anakinra in Japanese patients with Still's disease (sJIA + AOSD)",
            "active-not-recruiting",
            "sJIA / AOSD",
        ),
        (
            "NCT06336733",
            "Colchicine-resistant FMF: on-demand anakinra vs standard care",
            "recruiting",
            "Familial Mediterranean Fever",
        ),
    ]
    # VA-ART4 is also named in prose on the same page: one trial, two mentions, with its acronym.
    va = trial(real_db, "NCT05177822")
    assert (va["acronym"], va["mention_count"], va["needs_replication"]) == ("VA-ART4", 2, 1)


def test_an_unreadable_trial_number_fails_a_strict_check():
    import subprocess

    from .conftest import BIN

    wiki = ROOT / "tests" / "fixtures" / "bad_wiki"
    command = [str(BIN / "etl"), "check", "--wiki", str(wiki), "trial-number-unparsed.md"]
    relaxed = subprocess.run(command, capture_output=True, text=True)
    strict = subprocess.run(command + ["--strict"], capture_output=True, text=True)
    assert relaxed.returncode == 0 and strict.returncode == 1
    assert "trial-number-unparsed.md:9: warning: confidence interval not read" in relaxed.stdout
    assert (
        "trial-number-unparsed.md:13: error: trial block: n-completed: 'twenty-eight' is not a number"
        " [trial-number-unparsed]" in strict.stdout
    )  # --strict: warnings count as errors


def test_a_study_pages_outcomes_cite_their_own_lines(trials_db):
    db, _, _ = trials_db
    lines = db.execute(
        "select measure, source_path, source_line from trial_outcomes where trial = 'NCT09990001' order by seq"
    ).fetchall()
    assert [tuple(r) for r in lines] == [
        ("Gait speed", "studies/demo-2020-gait-trial.md", 39),
        ("Grip strength", "studies/demo-2020-gait-trial.md", 40),
    ]


def test_comma_separated_outcomes_each_with_an_effect_are_several():
    outcomes, _ = read_outcomes("DEMO-A HR 1.30 (95% CI 1.01–1.64), DEMO-B HR 0.60 (95% CI 0.40–0.90)")
    assert [(o.measure, o.effect_value, o.ci_low) for o in outcomes] == [("DEMO-A", 1.3, 1.01), ("DEMO-B", 0.6, 0.4)]
    # One effect with its interval and p-value, comma-separated, stays one outcome.
    single, _ = read_outcomes("grip HR 0.85, 95% CI 0.74–0.98, p=0.02")
    assert [(o.effect_value, o.ci_high, o.p_value) for o in single] == [(0.85, 0.98, 0.02)]


def test_an_interval_in_brackets_after_a_named_effect():
    (stroke,), _ = read_outcomes("stroke HR 1.41 (1.07–1.85)")
    assert (stroke.effect_value, stroke.ci_level, stroke.ci_low, stroke.ci_high) == (1.41, None, 1.07, 1.85)
    assert stroke.direction == "increase"  # the interval lies above 1
    (count,), _ = read_outcomes("falls HR 0.80 (n=120)")  # a count in brackets is no interval
    assert (count.ci_low, count.direction) == (None, "decrease")


@pytest.mark.parametrize(
    "clause,direction",
    [
        ("demo score d=−0.30 (95% CI −0.50 to −0.10)", "decrease"),  # a named effect's sign
        ("demo events HR 1.30 (95% CI 1.00–1.70)", "increase"),  # an interval touching 1 is not across it
        ("demo events HR 0.95 (95% CI 0.80–1.10)", "no-difference"),
        ("demo score +1.5 points (p=0.20)", "no-difference"),
        ("demo incidence 40% vs 60% (p=0.01)", "decrease"),  # two arms: the first against the second
        ("demo score 1.5 points (p=0.01)", None),  # unsigned, unnamed: no side to read
    ],
)
def test_a_direction_read_from_the_numbers(clause, direction):
    (outcome,), _ = read_outcomes(clause)
    assert outcome.direction == direction


def test_a_plus_between_two_treatments_is_not_an_effect():
    (outcome,), _ = read_outcomes("demo laser + 1% demo cream vs demo laser alone (p=0.03)")
    assert (outcome.effect_value, outcome.effect_raw, outcome.p_value) == (None, None, 0.03)
    (signed,), _ = read_outcomes("demo score +1.5 points (p=0.03)")
    assert signed.effect_value == 1.5


@pytest.mark.parametrize(
    "written,measure",
    [
        ("reduced demo-6", "demo-6"),
        ("primary endpoint demo-free survival", "demo-free survival"),
        ("demo fraction ↑", "demo fraction"),
        ("demoFARS treatment difference", "demoFARS"),
        ("lower back pain", "lower back pain"),  # an adjective of the measure stays
        ("difference", None),
    ],
)
def test_a_measure_without_the_words_around_it(written, measure):
    from etl.wiki.trial_outcomes import tidy_measure

    assert tidy_measure(written) == measure

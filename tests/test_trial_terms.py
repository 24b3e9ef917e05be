"""Normalised trial conditions, interventions and phases (etl/corpus/trial_terms.py,
data/trial_terms.yml): the rules on small vocabularies written here, the
fixture wiki's trial table (phenotypes/demo-glucose-control.md, three
spellings of one condition), the cache's code version, and the real wiki's
ATTR-CM trials (molecules/compounds/acoramidis.md, tafamidis.md)."""

import shutil
import sqlite3

import pytest

from etl.corpus.trial_terms import condition_key, intervention_parts, load_trial_terms, terms_from
from etl.pipeline.cache import code_version
from etl.schema import DATA_DIR

from .conftest import FIXTURE_WIKI

SMALL = terms_from(
    {
        "conditions": [
            {"term": "knee osteoarthritis", "spellings": ["knee OA", "OA of the knee"]},
            {"term": "chronic kidney disease", "spellings": ["CKD"]},
        ],
        "interventions": [
            {"term": "ibuprofen"},
            {"term": "paracetamol", "spellings": ["acetaminophen"]},
            {"term": "walking programme", "spellings": ["brisk walking"]},
            {"term": "diet + exercise", "spellings": ["D + E"]},
        ],
        "phases": [
            {"term": "1"},
            {"term": "1/2", "spellings": ["1/2a"]},
            {"term": "2", "spellings": ["2a", "2b"]},
            {"term": "3"},
        ],
    }
)


# --- rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "knee osteoarthritis",
        "Knee Osteoarthritis",
        "knee-osteoarthritis",
        "Knee OA (moderate, KL grade 2-3)",
        "OA of the knee",
        "knée osteoarthritis",
    ],
)
def test_spellings_of_one_condition_map_to_its_term(raw):
    assert SMALL.condition(raw) == "knee osteoarthritis"


@pytest.mark.parametrize("raw", ["hip osteoarthritis", "CKD, knee OA", "older adults", "(knee OA)", ""])
def test_a_condition_not_declared_stays_unmapped(raw):
    assert SMALL.condition(raw) is None


def test_parentheticals_nested_and_unclosed_are_dropped():
    assert condition_key("CKD (stage 3 (eGFR 30–59))") == "ckd"
    assert condition_key("CKD (stage 3, cut off") == "ckd"


@pytest.mark.parametrize(
    "raw,term",
    [
        ("ibuprofen", "ibuprofen"),
        ("Ibuprofen 400 mg three times", None),  # 'three times' is not a dosing word the rules know
        ("ibuprofen 400 mg/day", "ibuprofen"),
        ("Acetaminophen 1 g orally twice daily", "paracetamol"),
        ("12-week ibuprofen", "ibuprofen"),
        ("ibuprofen × 6 mo", "ibuprofen"),
        ("ibuprofen for 8 weeks", "ibuprofen"),
        ("ibuprofen 0.5% gel vs placebo", None),  # 'gel' stays: the gel is not declared
        ("Ibuprofen 200 mg vs paracetamol 1 g", "ibuprofen"),
        ("paracetamol + ibuprofen 200 mg", "ibuprofen + paracetamol"),
        ("ibuprofen+acetaminophen", "ibuprofen + paracetamol"),
        ("ibuprofen + aspirin", None),  # one component is not declared
        ("D + E", "diet + exercise"),
        ("brisk walking (30 min)", "walking programme"),
        ("fell by 12%", None),
    ],
)
def test_intervention_rules(raw, term):
    assert SMALL.intervention(raw) == term


def test_doses_go_but_codes_with_digits_stay():
    assert intervention_parts("ABC-123 10 mg") == ["abc 123"]
    assert intervention_parts("XYZ0101") == ["xyz0101"]
    assert intervention_parts("vitamin D3 1000 IU") == ["vitamin d3"]


@pytest.mark.parametrize(
    "raw,term",
    [
        ("Phase 2", "2"),
        ("phase II", "2"),
        ("2", "2"),
        ("Ph2", "2"),
        ("2b", "2"),
        ("Phase IIa", "2"),
        ("1/2", "1/2"),
        ("I/II", "1/2"),
        ("Phase 1/2a", "1/2"),
        ("phase III", "3"),
        ("Phase I", "1"),
    ],
)
def test_phase_spellings(raw, term):
    assert SMALL.phase(raw) == term


@pytest.mark.parametrize("raw", ["Observational", "N/A", "Phase 4", "2/3"])
def test_a_phase_not_declared_stays_unmapped(raw):
    assert SMALL.phase(raw) is None


def test_a_spelling_claimed_by_two_terms_is_an_error():
    with pytest.raises(ValueError, match="claimed by"):
        terms_from({"conditions": [{"term": "gout"}, {"term": "arthritis", "spellings": ["Gout"]}]})


def test_the_project_vocabulary_loads():
    terms = load_trial_terms()
    assert terms.phase("Phase IIb") == "2"
    assert terms.condition("ATTR-CM (wild type)") == "ATTR-CM"


def test_a_change_to_the_vocabulary_changes_the_cache_code_version(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    before = code_version(data, 1000)
    terms = data / "trial_terms.yml"
    terms.write_text(terms.read_text(encoding="utf-8") + "  - {term: gout}\n", encoding="utf-8")
    assert code_version(data, 1000) != before


# --- the fixture wiki ----------------------------------------------------------


def test_fixture_trials_have_the_normalised_columns(fixture_build):
    out, _ = fixture_build
    header = (out / "package" / "trials.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    for raw in ("condition", "intervention", "phase"):
        assert raw in header and f"{raw}_normalised" in header
        assert header.index(f"{raw}_normalised") == header.index(raw) + 1


def test_fixture_condition_facet_counts_one_condition_for_its_spellings(fixture_build):
    out, _ = fixture_build
    db = sqlite3.connect(out / "agingkb.db")
    rows = db.execute(
        "select trial, condition, condition_normalised, intervention_normalised, phase_normalised from trials "
        "where trial like 'NCT0900000_' order by trial"
    ).fetchall()
    assert [r[1] for r in rows] == ["Type 2 diabetes (older adults)", "T2D", "type-2 diabetes, early onset"]
    facet = db.execute(
        "select condition_normalised, count(*) from trials where condition is not null group by 1 order by 1"
    ).fetchall()
    assert facet == [(None, 1), ("type 2 diabetes", 2)]
    assert [r[3] for r in rows] == ["metformin", "metformin", None]
    assert [r[4] for r in rows] == ["2", "2", "3"]


def test_fixture_unmapped_values_are_reported_where_they_are_written(fixture_build):
    out, result = fixture_build
    lines = (FIXTURE_WIKI / "phenotypes" / "demo-glucose-control.md").read_text(encoding="utf-8").splitlines()
    row_line = next(number for number, line in enumerate(lines, start=1) if "NCT09000003" in line)
    unmapped = [d for d in result.diagnostics if d.code == "trial-term-unmapped"]
    assert {(d.path, d.line, d.severity) for d in unmapped} == {
        ("phenotypes/demo-glucose-control.md", row_line, "warning")
    }
    assert sorted(d.message.split("'")[1] for d in unmapped) == ["demo inhibitor DMK-9", "type-2 diabetes, early onset"]
    assert "[trial-term-unmapped]" in (out / "diagnostics.txt").read_text(encoding="utf-8")


# --- the real wiki ---------------------------------------------------------------


ATTR_CM_SPELLINGS = {"ATTR-CM", "ATTR-CM (hATTR-CM and wtATTR-CM)", "ATTR-CM (real-world registry)", "ATTRibute-CM OLE"}


def test_real_attr_cm_spellings_facet_as_one_condition(real_db):
    rows = real_db.execute("select condition, condition_normalised from trials where condition like 'ATTR%'").fetchall()
    assert ATTR_CM_SPELLINGS <= {raw for raw, _ in rows}
    assert {normalised for raw, normalised in rows if raw in ATTR_CM_SPELLINGS} == {"ATTR-CM"}
    facet = dict(
        real_db.execute(
            "select condition_normalised, count(*) from trials where condition_normalised is not null group by 1"
        ).fetchall()
    )
    assert facet["ATTR-CM"] >= len(ATTR_CM_SPELLINGS)
    # ATTR amyloidosis in general (polyneuropathy included) is not ATTR-CM.
    assert real_db.execute(
        "select distinct condition_normalised from trials where condition = 'ATTR amyloidosis'"
    ).fetchall() == [("ATTR amyloidosis",)]


def test_real_normalised_facets_count_fewer_values_than_the_raw_columns(real_db):
    for kind in ("condition", "intervention", "phase"):
        raw, normalised = real_db.execute(
            f"select count(distinct {kind}), count(distinct {kind}_normalised) from trials"
        ).fetchone()
        assert 0 < normalised < raw, kind
    # every trial with a stated phase gets a ClinicalTrials.gov phase
    assert real_db.execute(
        "select count(*) from trials where phase is not null and phase_normalised is null"
    ).fetchone() == (0,)
    phases = {
        p for (p,) in real_db.execute("select distinct phase_normalised from trials where phase_normalised is not null")
    }
    assert phases <= {"1", "1/2", "2", "2/3", "3", "4"}

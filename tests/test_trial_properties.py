"""Property-based tests of the trial readers: any text reads without a
crash (or a hang: the fuzz profile has a deadline), and generated outcome
clauses, doses and durations read back as the numbers they were made from."""

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from etl.rows.trial_blocks import declared_enums, read_explicit_block
from etl.schema import load_schema
from etl.wiki.trial_outcomes import read_outcome, read_outcomes
from etl.wiki.trial_tables import read_table_row
from etl.wiki.trials import find_arms, find_dose, find_duration, text_facts

from . import test_fuzz  # noqa: F401  (loads the shared hypothesis profiles)
from .test_numbers import written

MINUS_SIGNS = ["-", "\u2212"]
magnitude = st.floats(min_value=0.01, max_value=5000, allow_nan=False).map(lambda v: round(v, 2))
measure = st.sampled_from(["grip strength", "HbA1c", "peak VO₂", "six-minute walk distance", "CRP"])
unit = st.sampled_from(["kg", "pp", "%", "mL/kg/min", "m", "mg/L"])
clause_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)
trial_words = st.lists(
    st.sampled_from(
        [
            "n=",
            "70",
            "(",
            ")",
            ";",
            "vs",
            "placebo",
            "95% CI",
            "0.01–0.90",
            "P=",
            "p<",
            "0.03",
            "−",
            "+",
            "mg/day",
            "13-week",
            "double-blind",
            "crossover",
            "phase",
            "II",
            "HR",
            "RR",
            "43%",
            "completed",
            "/",
            ",",
            " ",
            "s.c.",
            "aged",
            "years",
        ]
    ),
    max_size=60,
).map("".join)


@given(st.one_of(clause_text, trial_words))
def test_trial_readers_never_crash(text):
    read_outcomes(text)
    read_outcome(text)
    text_facts(text)
    find_arms(text)
    find_dose(text)
    find_duration(text)
    read_table_row(["Trial", "NCT", "n", "Primary outcome", "p-value", "Dose", "Status"], [text] * 7)


ENUMS = declared_enums(load_schema())


class _NoPages:
    study_works: dict = {}

    def resolve(self, target, from_page=None):
        return None


@given(
    st.one_of(
        clause_text,
        trial_words.map(lambda t: "trial: a1\noutcomes:\n  - {measure: x, p: '" + t.replace("'", "") + "'}\n"),
    )
)
def test_explicit_blocks_never_crash(text):
    read_explicit_block(
        text, 10, {"a1": SimpleNamespace(registry_id=None, work=None, study_page=None)}, _NoPages(), "p", ENUMS
    )


@given(
    measure,
    st.floats(min_value=-500, max_value=500, allow_nan=False).map(lambda v: round(v, 2)).filter(lambda v: v != 0),
    unit,
    magnitude,
    magnitude,
    st.sampled_from(["=", "<"]),
    st.floats(min_value=0.0001, max_value=0.99).map(lambda v: float(f"{v:.2g}")),
    st.sampled_from(MINUS_SIGNS),
)
def test_outcome_round_trip(name, effect, effect_unit, a, b, operator, p, minus):
    low, high = sorted((a, b))
    sign = "+" if effect > 0 else minus
    interval = f"95% CI {written(low, minus)}–{written(high, minus)}"
    text = f"{name} {sign}{written(abs(effect), '-')} {effect_unit} vs placebo ({interval}; P{operator}{p:g})"
    outcome, problems = read_outcome(text)
    assert problems == []
    assert (outcome.measure, outcome.effect_value, outcome.effect_unit, outcome.comparison) == (
        name,
        float(written(effect, "-")),
        effect_unit,
        "placebo",
    )
    assert (outcome.ci_low, outcome.ci_high, outcome.p_operator, outcome.p_value) == (low, high, operator, p)


@given(
    st.integers(min_value=1, max_value=2000),
    st.sampled_from(["mg", "g", "µg", "IU", "mg/kg"]),
    st.sampled_from([("/day", "daily"), (" twice daily", "twice daily"), (" weekly", "weekly")]),
    st.sampled_from([("oral", "oral"), ("s.c.", "subcutaneous"), ("i.v.", "intravenous")]),
)
def test_dose_round_trip(value, dose_unit, frequency, route):
    dose = find_dose(f"drug {value} {dose_unit}{frequency[0]} {route[0]} vs placebo")
    assert (dose.value, dose.unit, dose.frequency, dose.route) == (value, dose_unit, frequency[1], route[1])


@given(
    st.integers(min_value=1, max_value=520),
    st.sampled_from([("week", 1.0), ("day", 1 / 7), ("month", 365.25 / 12 / 7), ("year", 365.25 / 7)]),
    st.booleans(),
)
def test_duration_round_trip(count, duration_unit, hyphenated):
    text = f"{count}-{duration_unit[0]} trial" if hyphenated else f"treated for {count} {duration_unit[0]}s"
    assert find_duration(text)[0] == round(count * duration_unit[1], 2)

"""Number, range, confidence-interval and p-value parsers: examples from the
wiki, round trips of generated values, and no crash on any text."""

from hypothesis import given
from hypothesis import strategies as st

from etl.wiki.numbers import ConfidenceInterval, PValue, find_ci, find_p_value, parse_number, parse_range

from . import test_fuzz  # noqa: F401  (loads the shared hypothesis profiles)

MINUS_SIGNS = ["-", "\u2212", "\u2013"]


def test_examples_from_the_wiki():
    assert parse_number("1,961") == 1961
    assert parse_number("−0.46") == -0.46
    assert parse_number("3 × 10⁻⁵") == 3e-5
    assert parse_number("43%") == 43
    assert parse_range("0.01–0.90") == (0.01, 0.90)
    assert parse_range("−1.2 to −0.3") == (-1.2, -0.3)
    assert parse_range("1,961") is None
    assert find_ci("HbA1c −0.46 pp vs placebo (95% CI 0.01–0.90; P=0.03)") == ConfidenceInterval(
        95.0, 0.01, 0.90, "95% CI 0.01–0.90"
    )
    assert find_p_value("(95% CI 0.01–0.90; P=0.03)") == PValue("=", 0.03, "P=0.03")
    assert find_p_value("ACR20 43% vs 27% (p<0.001)") == PValue("<", 0.001, "p<0.001")
    assert find_p_value("p ≤ 0.05") == PValue("≤", 0.05, "p ≤ 0.05")
    assert find_p_value("insulin sensitivity ns") == PValue("ns", None, "ns")
    assert parse_number("n/a") is None and find_ci("no interval") is None and find_p_value("no p here") is None


def written(value: float, minus: str) -> str:
    text = f"{abs(value):.4f}".rstrip("0").rstrip(".")
    return (minus if value < 0 else "") + text


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 4))


@given(finite, st.sampled_from(MINUS_SIGNS))
def test_number_round_trip(value, minus):
    assert parse_number(written(value, minus)) == float(written(value, "-"))


@given(st.integers(min_value=1000, max_value=10**9))
def test_thousands_separators_round_trip(value):
    assert parse_number(f"{value:,}") == value


@given(finite, finite, st.sampled_from(["–", " to ", "—", " – "]), st.sampled_from(MINUS_SIGNS[:2]))
def test_range_round_trip(low, high, separator, minus):
    assert parse_range(written(low, minus) + separator + written(high, minus)) == (
        float(written(low, "-")),
        float(written(high, "-")),
    )


@given(
    st.sampled_from([90, 95, 99]),
    finite,
    finite,
    st.sampled_from(["95% CI {a}–{b}", "({level}% CI, {a} to {b})", "{level}% CI: {a}, {b}"]),
)
def test_ci_round_trip(level, low, high, template):
    text = template.replace("95%", f"{level}%").format(level=level, a=written(low, "\u2212"), b=written(high, "\u2212"))
    ci = find_ci("effect " + text + "; more")
    assert (ci.level, ci.low, ci.high) == (level, float(written(low, "-")), float(written(high, "-")))


@given(
    st.sampled_from(["=", "<", "≤", ">"]),
    st.floats(min_value=1e-9, max_value=1).map(lambda v: float(f"{v:.3g}")),
    st.sampled_from(["P", "p"]),
    st.sampled_from(["", " "]),
)
def test_p_value_round_trip(operator, value, letter, space):
    text = f"{letter}{space}{operator}{space}{value:g}"
    assert find_p_value("result (" + text + ")") == PValue(operator, value, text)


@given(st.text(max_size=300))
def test_parsers_never_crash(text):
    parse_number(text)
    parse_range(text)
    find_ci(text)
    find_p_value(text)

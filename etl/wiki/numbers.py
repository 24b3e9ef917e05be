"""Numbers as the wiki writes them: Unicode minus signs, thousands
separators, en-dash ranges, confidence intervals and p-values.

Pure functions from text to values; each returns None for text it cannot
read, so a caller can report the raw text rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .syntax import not_after

MINUS = "-\u2212\u2012\u2013\u2014\ufe63\uff0d"  # hyphen, minus, figure/en/em dash, small and full-width hyphen-minus
M = re.escape(MINUS)  # for use inside [...]
SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
NUMBER = (
    rf"[{M}+]?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)?(?:\.\d+)?"  # sign, digits with thousands separators, decimals
    rf"(?:\s*[x×]\s*10\s*(?:\^|\*\*)?\s*[{M}⁻]?\s*[\d⁰¹²³⁴⁵⁶⁷⁸⁹]+|[eE][{M}+]?\d+)?"  # '× 10⁻⁵', 'e-5'
)
NUMBER_RE = re.compile(rf"^\s*(?P<number>{NUMBER})\s*(?P<percent>%)?\s*$")
RANGE_RE = re.compile(
    rf"^\s*(?P<low>{NUMBER})\s*%?\s*(?:to|[–—]|-(?=\s*[\d{M}.])|,(?=\s))\s*(?P<high>{NUMBER})\s*%?\s*$"
)
CI_RE = re.compile(
    rf"(?P<level>\d{{2}}(?:\.\d+)?)\s*%\s*(?:CI|confidence interval|CrI)\s*[:,=]?\s*\(?\s*"
    rf"(?P<range>{NUMBER}\s*%?\s*(?:to|[–—]|,(?=\s)|-(?=\s*[\d{M}.]))\s*{NUMBER})\s*%?",
    re.IGNORECASE,
)
P_RE = re.compile(not_after(r"\w", "[Pp]") + rf"\s*(?P<operator>=|<|>|≤|≥|<=|>=|&lt;|&gt;)\s*(?P<value>{NUMBER})")
NS_RE = re.compile("(?:" + "|".join(not_after(r"\w", word) for word in ("ns", r"n\.s\.", "NS")) + r")(?![\w])")
OPERATORS = {"<=": "≤", ">=": "≥", "&lt;": "<", "&gt;": ">"}
# What looks like a p-value or a confidence interval, read or not: where
# find_p_value or find_ci returns None for such text, a caller reports it.
P_LOOKS = re.compile(not_after(r"\w", "[Pp]") + r"\s*(?:=|<|>|≤|≥)\s*\S")
CI_LOOKS = re.compile(r"\d\s*%\s*(?:CI|confidence interval|CrI)\b", re.I)


def parse_number(text: str) -> float | None:
    """'1,961' -> 1961.0, '−0.46' -> -0.46, '3 × 10⁻⁵' -> 3e-05, '43%' -> 43.0."""
    match = NUMBER_RE.match(text or "")
    if not match or not re.search(r"\d", match.group("number")):
        return None
    return _to_float(match.group("number"))


def _to_float(number: str) -> float | None:
    text = number.strip().translate(SUPERSCRIPT)
    for dash in MINUS:
        text = text.replace(dash, "-")
    text = text.replace(",", "").replace(" ", "")
    text = re.sub(r"[x×]10(?:\^|\*\*)?(-?\d+)$", r"e\1", text)
    if text in ("", "-", "+", ".") or not re.search(r"\d", text):
        return None
    if text.startswith("e") or text.startswith("-e") or text.startswith("+e"):
        text = text.replace("e", "1e", 1)
    try:
        return float(text)
    except ValueError:
        return None


def parse_range(text: str) -> tuple[float, float] | None:
    """'0.01–0.90' -> (0.01, 0.9); '−1.2 to −0.3' -> (-1.2, -0.3)."""
    match = RANGE_RE.match(text or "")
    if not match:
        return None
    low, high = _to_float(match.group("low")), _to_float(match.group("high"))
    if low is None or high is None:
        return None
    return low, high


@dataclass(frozen=True)
class ConfidenceInterval:
    level: float | None  # None when the text does not state it
    low: float
    high: float
    raw: str


def find_ci(text: str) -> ConfidenceInterval | None:
    """The first confidence interval in text: '95% CI 0.01–0.90'."""
    for match in CI_RE.finditer(text or ""):
        bounds = parse_range(match.group("range"))
        if bounds:
            return ConfidenceInterval(float(match.group("level")), bounds[0], bounds[1], match.group(0).strip())
    return None


@dataclass(frozen=True)
class PValue:
    operator: str  # =, <, >, ≤, ≥ or ns
    value: float | None
    raw: str


def find_p_value(text: str) -> PValue | None:
    """The first p-value: 'P=0.03', 'p<0.001', 'p ≤ 0.05', 'P = 3 × 10⁻⁵', 'ns'."""
    match = P_RE.search(text or "")
    ns = NS_RE.search(text or "")
    if match and (not ns or match.start() < ns.start()):
        value = _to_float(match.group("value"))
        if value is not None:
            operator = OPERATORS.get(match.group("operator"), match.group("operator"))
            return PValue(operator, value, match.group(0))
    if ns:
        return PValue("ns", None, ns.group(0))
    return None

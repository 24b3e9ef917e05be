"""The wiki's syntax (etl/wiki/syntax.py): what each pattern reads, and
what it must not."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.schema import load_schema
from etl.wiki.syntax import (
    BARE_DOI,
    DOI,
    DOI_INTRO,
    FOOTNOTE_REF,
    GAP_TAG,
    LEADING_PAGE_LINK,
    MALFORMED_REGISTRY_ID,
    PAGE_LINK,
    REGISTRY_ID,
    VALID_DOI,
    WIKILINK,
    WIKILINK_VALUE,
    clean_doi,
    link_text,
    mask_code,
)


@pytest.mark.parametrize(
    "text,parts",
    [
        ("see [[page]] here", ("page", None, None)),
        ("[[folder/page#Some section]]", ("folder/page", "Some section", None)),
        ("[[page|the page]]", ("page", None, "the page")),
        ("[[page#anchor|shown]]", ("page", "anchor", "shown")),
        ("[[#local section]]", ("", "local section", None)),
        ("[[a#b#c]]", ("a", "b#c", None)),
        ("[[a|b|c]]", ("a", None, "b|c")),
        ("[[a [[b]]", ("b", None, None)),  # no part of a link holds a bracket
    ],
)
def test_wikilink_parts(text, parts):
    match = WIKILINK.search(text)
    assert match.groups() == parts


@pytest.mark.parametrize("text", ["[page]", "[[page]", "[[pa]ge]]", "[[page|al[ias]]", "[ [page]]", "[[page#a[b]]"])
def test_not_a_wikilink(text):
    assert WIKILINK.search(text) is None


def test_a_page_link_names_a_page():
    text = "[[#local]] then [[page#x|y]] and [[|alias only]]"
    assert [m.group(1) for m in WIKILINK.finditer(text)] == ["", "page", ""]
    assert [m.group(1) for m in PAGE_LINK.finditer(text)] == ["page"]
    # Same matches as WIKILINK wherever the target is not empty.
    sample = "[[a]] [[#b]] [[c|d]] [[e#f]] [[]] [[ g ]]"
    assert [m.span() for m in PAGE_LINK.finditer(sample)] == [m.span() for m in WIKILINK.finditer(sample) if m.group(1)]


@pytest.mark.parametrize(
    "value,target",
    [
        ("[[page]]", "page"),
        ("  [[studies/x#methods|X]] \n", "studies/x"),
        ("[[page]] and more", None),
        ("[[#anchor]]", None),
        ("see [[page]]", None),
        ("[[page]][[other]]", None),
    ],
)
def test_a_value_that_is_one_link(value, target):
    match = WIKILINK_VALUE.match(value)
    assert (match.group(1) if match else None) == target


@pytest.mark.parametrize(
    "value,target",
    [
        ("[[sting]] activation → TBK1", "sting"),
        (" [[page]]", "page"),
        ("[[page]]", "page"),
        ("[[unclosed", None),
        ("text [[page]]", None),
        ("[[#anchor]] text", None),
    ],
)
def test_a_value_that_opens_with_a_link(value, target):
    match = LEADING_PAGE_LINK.match(value)
    assert (match.group(1) if match else None) == target


@pytest.mark.parametrize(
    "text,shown",
    [
        ("[[page]]", "page"),
        ("[[page|Alias]] trial", "Alias trial"),
        ("[[page#sec]]", "page#sec"),
        ("[[lpa|Lipoprotein(a) [Lp(a)]]]", "Lipoprotein(a) [Lp(a)]"),  # read up to the first ']]'
        ("no link", "no link"),
    ],
)
def test_link_text(text, shown):
    assert link_text(text) == shown


def test_mask_code_keeps_offsets_and_hides_quoted_syntax():
    text = "a `[[x]]` b ``#gap/y `z` `` c [[real]]"
    masked = mask_code(text)
    assert len(masked) == len(text)
    assert [m.group(1) for m in WIKILINK.finditer(masked)] == ["real"]
    assert GAP_TAG.search(masked) is None
    assert mask_code("no code") == "no code"
    assert mask_code("a `b\nc` d") == "a " + " " * 5 + " d"  # a span may cross a line, as in CommonMark
    assert mask_code("an ` unclosed tick") == "an ` unclosed tick"


def test_footnote_reference():
    assert FOOTNOTE_REF.findall("claim[^smith2020] and [^a-b_1].") == ["smith2020", "a-b_1"]
    assert FOOTNOTE_REF.findall("[^with space] [^] [x]") == []


@pytest.mark.parametrize(
    "text,tags",
    [
        ("claim #gap/needs-replication.", ["gap/needs-replication"]),
        ("#stub", ["stub"]),
        ("(#unsourced)", ["unsourced"]),
        ('"#gap/not-populated — later"', ["gap/not-populated"]),
        ("**#gap/x2**", ["gap/x2"]),
        ("a#gap/x", []),  # inside a word
        ("#gap/x/y", []),  # a path, not a tag
        ("#gap/-x #gap/x- #gap/", []),  # a name starts and ends with a letter or digit
        ("#stubs #unsourced-claims", []),
        ("see page#stub", []),
    ],
)
def test_gap_tags(text, tags):
    assert [m.group(1) for m in GAP_TAG.finditer(text)] == tags


def test_registry_ids():
    text = "NCT01234567, (NCT12345678) NCT1234 NCT123456789 xNCT01234567 NCT01234567b"
    assert REGISTRY_ID.findall(text) == ["NCT01234567", "NCT12345678"]
    assert MALFORMED_REGISTRY_ID.findall(text) == ["NCT1234", "NCT123456789"]
    assert REGISTRY_ID.fullmatch("NCT00000001") and not REGISTRY_ID.fullmatch("nct00000001")


# Each pattern written with not_after() against the same pattern opened with
# \\b or a lookbehind, as it was written before (the slower form).
OPENED_WITH_A_LOOKBEHIND = {
    "REGISTRY_ID": r"\bNCT\d{8}\b",
    "MALFORMED_REGISTRY_ID": r"\bNCT(?!\d{8}\b)\d+\b",
    "BARE_DOI": r"(?<![\w./-])(10\.\d{4,9}/[^\s·]+)",
    "PMC": r"\bPMC(?:ID)?\s*:?\s*(?:PMC)?\s?(\d{4,9})\b",
    "ISBN": r"\bISBN:?\s*((?:97[89][-\s]?)?(?:\d[-\s]?){9}[\dX])\b",
    "RETRACTED": r"\bRETRACTED\b",
    "P_VALUE": r"(?<![\w])[Pp]\s*(?:[<>=≤≥]|&lt;|&gt;)\s*(?:0|[1-9]\d*)?\.?\d+(?:\s*[x×]\s*10\s*[⁻−-]?\s*\d+)?"
    r"|(?<![\w])ns(?![\w])",
    "P_RE": r"(?<![\w])[Pp]\s*(?P<operator>=|<|>|≤|≥|<=|>=|&lt;|&gt;)\s*(?P<value>{NUMBER})",
    "P_LOOKS": r"(?<![\w])[Pp]\s*(?:=|<|>|≤|≥)\s*\S",
    "NS_RE": r"(?<![\w])(?:ns|n\.s\.|NS)(?![\w])",
    "N_VALUE": r"(?<![\w/])[nN]\s*=\s*[~≈]?\s*(\d{1,3}(?:,\d{3})+|\d+)(?![\d,.]*\d)",
}
PIECES = ["N", "C", "T", "P", "p", "n", "s", "S", "0", "1", "9", " ", "x", "_", "/", "-", ".", "=", "<", "é", "\n"]
PIECES += ["NCT", "NCT1234567", "ns", "n.s.", "NS", "PMC", "ISBN", "RETRACTED", "10.", "1234/", "&lt;", "X"]


def _rewritten_patterns():
    from etl.wiki import citation_segments, citations, numbers, syntax

    found = {}
    for module in (syntax, citations, numbers, citation_segments):
        for name in OPENED_WITH_A_LOOKBEHIND:
            if hasattr(module, name) and name not in found:
                found[name] = getattr(module, name)
    return found


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14))
def test_patterns_opened_with_their_literal_find_what_the_lookbehind_forms_find(pieces):
    """Opening with the literal lets the engine skip to it (a faster search);
    where each pattern matches, and what it captures, must not change."""
    from etl.wiki.numbers import NUMBER

    text = "".join(pieces)
    patterns = _rewritten_patterns()
    assert set(patterns) == set(OPENED_WITH_A_LOOKBEHIND)
    for name, pattern in patterns.items():
        assert not pattern.pattern.startswith(("\\b", "(?<", "((?<")), name  # nothing the engine cannot skip to
        before = re.compile(OPENED_WITH_A_LOOKBEHIND[name].replace("{NUMBER}", NUMBER))
        found = [(m.span(), m.groups()) for m in pattern.finditer(text)]
        assert found == [(m.span(), m.groups()) for m in before.finditer(text)], name


@pytest.mark.parametrize(
    "text,captured",
    [
        ("doi:10.1038/nature12345", "10.1038/nature12345"),
        ("DOI 10.1000/xyz", "10.1000/xyz"),
        ("https://doi.org/10.1016/j.cell.2013.05.039.", "10.1016/j.cell.2013.05.039."),
        ("http://dx.doi.org/10.1002/(SICI)1097-4636 · next", "10.1002/(SICI)1097-4636"),
        ("Doi: 10.5555/x", "10.5555/x"),
    ],
)
def test_doi_with_its_introduction(text, captured):
    assert DOI.search(text).group(1) == captured


def test_doi_shapes():
    assert DOI.search("endoi:10.1/x") is None  # 'doi' must start a word
    assert BARE_DOI.findall("see 10.1234/abc.5 and x10.1234/no, 1.10.1234/no") == ["10.1234/abc.5"]
    assert VALID_DOI.fullmatch("10.1234/x") and VALID_DOI.fullmatch("10.123456789/x")
    assert not VALID_DOI.fullmatch("10.123/x") and not VALID_DOI.fullmatch("10.1234567890/x")
    assert not VALID_DOI.fullmatch("10.1234/") and not VALID_DOI.fullmatch("11.1234/x")
    assert DOI_INTRO.sub("", "https://doi.org/10.1/x") == "10.1/x"
    assert DOI_INTRO.sub("", "DOI: 10.1/x") == "10.1/x"
    assert DOI_INTRO.sub("", "10.1/doi:x") == "10.1/doi:x"  # only an introduction at the start


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("10.1/x.", "10.1/x"),
        ("10.1/x),", "10.1/x"),
        ("10.1002/(SICI)1097(199)", "10.1002/(SICI)1097(199)"),
        ("10.1/x]", "10.1/x"),
        ("10.1/a[b]", "10.1/a[b]"),
        ("10.1/x**", "10.1/x"),
    ],
)
def test_clean_doi(raw, clean):
    assert clean_doi(raw) == clean


def test_identifier_schemes_state_the_same_shapes():
    """data/vocabularies.yml's DOI and NCT patterns (the identifier_schemes
    table) accept what the wiki's syntax accepts."""
    schemes = {s["scheme"]: re.compile(s["pattern"]) for s in load_schema().vocabularies["identifier_schemes"]}
    for text in ["10.1234/x", "10.123456789/a.b(c)", "10.123/x", "10.1234/", "10.12345/ x", "doi:10.1234/x"]:
        assert bool(schemes["doi"].fullmatch(text)) == bool(VALID_DOI.fullmatch(text)), text
    for text in ["NCT01234567", "NCT1234567", "NCT012345678", "nct01234567", "NCT0123456a"]:
        assert bool(schemes["nct"].fullmatch(text)) == bool(REGISTRY_ID.fullmatch(text)), text

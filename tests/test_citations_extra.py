"""Citation-record shapes added with the gold set, on records written for
these tests."""

import pytest

from etl.wiki.citations import parse_citation


@pytest.fixture(scope="module")
def parse(schema):
    return lambda record: parse_citation(record, schema.vocabularies["study_designs"], schema.venues)


def test_a_doi_in_a_code_span_is_quoted_not_cited(parse):
    c = parse("doi:10.5555/right · Alpha A · *Cell* 2020 · note: the DOI `10.5555/wrong` was a mistake")
    assert c.doi == "10.5555/right" and c.more_identifiers == []


def test_pmc_written_with_a_colon(parse):
    assert parse("doi:10.5555/x · PMC:1234567 · Alpha A · *Cell* 2020").pmc == "PMC1234567"


def test_a_declared_journal_with_a_number_in_its_name(parse):
    c = parse("doi:10.5555/x · Alpha A · Periodontology 2000 2019;80(1):7-10 · review")
    assert (c.venue, c.year) == ("Periodontology 2000", 2019)


def test_the_journal_in_a_design_parenthesis(parse):
    c = parse("doi:10.5555/x · review (Nat Rev Mol Cell Biol) · model: mice")
    assert (c.design, c.venue) == ("review", "Nat Rev Mol Cell Biol")


def test_volume_issue_is_not_a_year(parse):
    c = parse("doi:10.5555/x · Alpha A · *Phil Trans R Soc B* 376(1826) · 2021 · review")
    assert c.year == 2021


@pytest.mark.parametrize(
    "segment, n",
    [
        ("n=13 controls + 45 donors", None),
        ("meta-analysis (cohort A n=573, cohort B n=2,158)", None),
        ("rct (double-blind; n=84 total; drug n=45 vs placebo n=39)", 84),
        ("enrolled n=3072, analysis n=3016", None),
        ("n=25 studies, 63,842 adults", 63842),
        ("n=8 WT/9 KO", None),
        ("n=16 patients/18 limbs", 16),
    ],
)
def test_sample_size_shapes(parse, segment, n):
    assert parse(f"doi:10.5555/x · Alpha A · *Cell* 2020 · {segment}").n == n


@pytest.mark.parametrize(
    "segment, design",
    [
        ("n/a (review)", "review"),
        ("experimental (ex vivo)", "in-vitro"),
        ("comparative study (non-randomized; open)", "clinical-trial"),
        ("in-vivo (human, phase 1 trial)", "clinical-trial"),
        ("n=40 UM-HET3 mice", "in-vivo"),
        ("n=77 in the terminal cohort", None),
    ],
)
def test_design_shapes(parse, segment, design):
    assert parse(f"doi:10.5555/x · Alpha A · *Cell* 2020 · {segment}").design == design

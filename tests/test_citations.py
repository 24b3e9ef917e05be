"""The citation-record parser on records written for these tests: each
shape the wiki uses, and the traps (upkeep dates, per-group sizes)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.wiki.citations import completeness, parse_citation
from etl.wiki.syntax import clean_doi


@pytest.fixture(scope="module")
def parse(schema):
    designs = schema.vocabularies["study_designs"]
    return lambda record: parse_citation(record, designs, schema.venues)


def test_full_record_parses_every_field(parse):
    c = parse(
        "doi:10.5555/demo.alpha · Alpha A, Beta B · Demo Journal 2020 · rct · n=40 (20 drug / 20 placebo)"
        " · score fell (p=0.02) · model: adult volunteers; 12 citations per Crossref"
    )
    assert (c.doi, c.authors, c.author_names, c.author_surnames, c.first_author) == (
        "10.5555/demo.alpha",
        "Alpha A, Beta B",
        ["Alpha A", "Beta B"],
        ["Alpha", "Beta"],
        "Alpha A",
    )
    assert (c.venue, c.year, c.design, c.design_text, c.n, c.n_text) == (
        "Demo Journal",
        2020,
        "rct",
        "rct",
        40,
        "n=40 (20 drug / 20 placebo)",
    )
    assert (c.p_value_text, c.model, c.citation_count, c.segments, c.parse_status, c.missing) == (
        "p=0.02",
        "adult volunteers; 12 citations per Crossref",
        12,
        7,
        "parsed",
        [],
    )


def test_study_link_record_is_parsed_without_authors_and_a_per_group_size_is_no_total(parse):
    c = parse("[[studies/demo-study]] · n=20/group · randomized · p<0.01 · model: aged mice")
    assert (c.study_link, c.n, c.design, c.p_value_text, c.model, c.parse_status) == (
        "studies/demo-study",
        None,
        "rct",
        "p<0.01",
        "aged mice",
        "parsed",
    )


def test_a_record_opening_with_a_bare_study_slug_keeps_the_link(parse):
    c = parse("[[demo-2021-fictional-result]] · in-vivo · Zeta Z et al. · *Demo Journal* 2021")
    assert c.wikilinks == ["demo-2021-fictional-result"] and c.study_link is None
    assert completeness(c, links_a_study=True) == ("parsed", [])


def test_retracted_record_is_flagged(parse):
    c = parse("**RETRACTED** — doi:10.5555/x.1 · Omega O et al. · *Demo* 2009 · in-vivo · retracted later")
    assert c.retracted and c.doi == "10.5555/x.1" and c.first_author == "Omega O" and c.year == 2009


def test_free_text_is_unparsed(parse):
    c = parse("see the pathway page for background")
    assert c.parse_status == "unparsed" and c.missing == ["identifier", "authors", "year"]


def test_venue_with_volume_and_a_year_in_its_own_segment(parse):
    c = parse("doi:10.5555/demo.b · Gamma G, Delta D · *Demo Clin Endocrinol* 105(11):3361–3373 · 2020 · observational")
    assert (c.venue, c.year, c.design) == ("Demo Clin Endocrinol", 2020, "observational")


def test_venue_without_a_year_is_still_the_venue(parse):
    c = parse("doi:10.5555/demo.c · Epsilon E et al. · Cell Death Differ. 25:486–541 · review")
    assert (c.venue, c.year, c.parse_status, c.missing) == ("Cell Death Differ", None, "partial", ["year"])


@pytest.mark.parametrize(
    "authors, surnames, year",
    [
        ("Savitsky et al. 1995", ["Savitsky"], 1995),
        ("Imai, Guarente 2014", ["Imai", "Guarente"], 2014),
        ("Harada H et al. 1999 (Mol Cell 3:413–422)", ["Harada"], 1999),
        ("Zhang Z, Tian X, Lu JY et al. (Gorbunova/Seluanov labs)", ["Zhang", "Tian", "Lu"], None),
        (
            "Órpez-Zafra T, van den Akker E, Kuro-o M, d'Adda di Fagagna F",
            ["Órpez-Zafra", "van den Akker", "Kuro-o", "d'Adda di Fagagna"],
            None,
        ),
        ("Le Garff-Tavernier M, Singh R & Green DR", ["Le Garff-Tavernier", "Singh", "Green"], None),
        ("Wahl A, Klaric L et al., Gieger C", ["Wahl", "Klaric", "Gieger"], None),
        ("Demo Aging Research Consortium", ["Demo Aging Research Consortium"], None),
    ],
)
def test_author_shapes(parse, authors, surnames, year):
    c = parse(f"doi:10.5555/demo.d · {authors} · in-vitro")
    assert (c.author_surnames, c.year) == (surnames, year)


def test_a_lab_note_after_the_authors_is_kept_apart(parse):
    c = parse("doi:10.5555/demo.e · Zhang Z, Tian X et al. (Demo/Example labs) · *Demo Journal* 2013")
    assert c.author_note == "Demo/Example labs" and c.author_surnames == ["Zhang", "Tian"]


def test_identifier_forms(parse):
    c = parse("Alpha A et al. · *Demo Journal* 2019 · DOI 10.5555/demo.f · PMID: available")
    assert c.doi == "10.5555/demo.f" and c.pmid is None
    c = parse("pmid:31234567 · Alpha A · Demo Journal 2019 · doi:10.5555/first · retraction doi:10.5555/second")
    assert (c.pmid, c.doi, c.more_identifiers) == ("31234567", "10.5555/first", [("doi", "10.5555/second")])


@pytest.mark.parametrize(
    "upkeep",
    ["PDF verified 2026-06-03", "downloaded 2026-05-04", "literature checked 2026-07-01", "accessed 2026-05-29"],
)
def test_upkeep_dates_are_never_the_year(parse, upkeep):
    c = parse(f"doi:10.5555/demo.g · Alpha A et al. · in-vivo · {upkeep}")
    assert c.year is None


@pytest.mark.parametrize(
    "segment, design",
    [
        ("design: systematic review + network meta-analysis", "meta-analysis"),
        ("in-vivo + in-vitro", "in-vivo"),
        ("in-vitro + in-silico", "in-vitro"),
        ("Phase 3 open-label rct", "rct"),
        ("commentary", "review"),
        ("double-blind placebo-controlled RCT", "rct"),
    ],
)
def test_written_out_designs(parse, segment, design):
    assert parse(f"doi:10.5555/demo.h · Alpha A · *Demo Journal* 2020 · {segment}").design == design


def test_a_journal_whose_name_holds_a_design_word_is_a_journal(parse):
    c = parse("doi:10.5555/demo.i · Alpha A · *Annual Review of Demonstrations* 2008 · review")
    assert (c.venue, c.year, c.design) == ("Annual Review of Demonstrations", 2008, "review")


@pytest.mark.parametrize(
    "size, n",
    [
        ("n=1,234 adults", 1234),
        ("n=12 RCTs", None),
        ("n=3–7/group", None),
        ("n=27 cases + 24 controls", None),
        ("n=5 cell lines", None),
        ("n=225 (148 drug, 77 placebo)", 225),
    ],
)
def test_sample_size_is_one_clear_total(parse, size, n):
    assert parse(f"doi:10.5555/demo.j · Alpha A · Demo Journal 2020 · {size}").n == n


def test_doi_keeps_balanced_parentheses_and_drops_trailing_punctuation():
    assert (
        clean_doi("10.1002/1529-0131(199812)41:12<2196::AID-ART15>3.0.CO;2-2")
        == "10.1002/1529-0131(199812)41:12<2196::AID-ART15>3.0.CO;2-2"
    )
    assert clean_doi("10.5555/abc).") == "10.5555/abc"


VENUE_WORDS = [
    "The",
    "the",
    "Nature",
    "Nat",
    "Commun",
    "Communications",
    "Aging",
    "Cell",
    "Metab.",
    "J",
    "Biol",
    "Chem",
    "&",
    "and",
    "Genes",
    "Dev",
    "Sci",
    "Transl",
    "Med",
    "—",
    "2019;",
    "N",
    "Engl",
    "Ñature",
    "Lancet.",
    "Healthy",
    "Longev",
    "(2020)",
    "·",
    "Rev.",
    "Mol",
    "Ageing",
    "Res",
    "UniProt",
    ":",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(VENUE_WORDS), max_size=9), st.sampled_from([" ", "  ", "\n"]))
def test_leading_venue_is_the_longest_head_whose_whole_key_is_declared(schema, words, space):
    """leading_venue folds each word once and puts a head's key together
    from its words' keys; the head it gives must be the one found by taking
    the key of each head as written, longest first."""
    venues = schema.venues
    text = space.join(words)
    expected = None
    for size in range(min(len(text.split()), venues.max_words), 0, -1):
        head = " ".join(text.split()[:size]).rstrip(".,;:")
        if venues.lookup(head):
            expected = head
            break
    assert venues.leading_venue(text) == expected

"""Citation records written as sentences, with n in words, with the design
inside a sentence, naming several works or none: the styles of
tests/gold/footnotes_styles.jsonl, on small records written for these tests
(the names, journals and DOIs are made up)."""

import time

import pytest

from etl.checks.page import check_page
from etl.rows.corpus_index import CorpusIndex
from etl.wiki.citation_prose import count_in_words, sentences
from etl.wiki.citations import parse_citation
from etl.wiki.parse import parse_page


@pytest.fixture(scope="module")
def parse(schema):
    return lambda record: parse_citation(record, schema.vocabularies["study_designs"], schema.venues)


# --- the issue's two sentences ------------------------------------------------


def test_a_design_and_n_as_parts_of_one_sentence(parse):
    c = parse("Randomized crossover feeding trial; n=36.")
    assert (c.design, c.n) == ("rct", 36)


def test_a_design_and_n_in_words_inside_one_sentence(parse):
    c = parse("Factorial dietary-advice RCT in 2,033 men after myocardial infarction.")
    assert (c.design, c.n, c.n_text) == ("rct", 2033, "2,033 men")


def test_the_same_sentence_as_a_segment_of_a_record(parse):
    c = parse("doi:10.5555/diet.1 · Quill R et al. · *Lancet* 1989 · Factorial dietary-advice RCT in 2,033 men")
    assert (c.first_author, c.year, c.venue, c.design, c.n) == ("Quill R", 1989, "Lancet", "rct", 2033)


# --- prose: a record that is sentences, not segments --------------------------


def test_a_reference_written_as_sentences(parse):
    c = parse(
        'Quill RT, Marsh LB, Tern AC. "A made-up study of oats." *Current Biology* 12(3):R45–R47, 2011. '
        "doi:10.5555/oats.2011. Full text read 2026-01-02. Open-label pilot in 84 patients with gout."
    )
    assert c.author_surnames == ["Quill", "Marsh", "Tern"]
    assert (c.venue, c.year, c.doi) == ("Current Biology", 2011, "10.5555/oats.2011")
    assert (c.design, c.n) == ("clinical-trial", 84)
    assert c.segments == 1  # the record has no ' · ' segments


def test_a_note_naming_one_work_in_a_sentence(parse):
    c = parse(
        "#gap/unsourced — the threshold is often repeated; Plover K et al. 2012 (Nature) reported that "
        "fasting halves the marker in aged mice; human data are needed."
    )
    assert (c.author_surnames, c.year, c.venue, c.design) == (["Plover"], 2012, "Nature", "in-vivo")


def test_a_work_named_with_its_doi_in_a_sentence(parse):
    c = parse("See Heron 2003 (doi:10.5555/heron.3) for the first description; the clinical use is assumed.")
    assert (c.author_surnames, c.year, c.doi, c.venue, c.design) == (["Heron"], 2003, "10.5555/heron.3", None, None)


def test_candidate_replacements_are_not_the_cited_work(parse):
    c = parse(
        "CITATION INVALID — doi:10.5555/gone returns 404. Candidate replacements: Wren et al. 2003 "
        "PMID 1234567 (meta-analysis); Finch & Lark 2007 PMID 7654321."
    )
    assert (c.doi, c.pmid, c.author_surnames, c.year, c.venue, c.design) == (
        "10.5555/gone",
        "1234567",
        [],
        None,
        None,
        None,
    )


def test_a_database_entry_is_its_venue_and_an_access_date_no_year(parse):
    c = parse("The alias reflects the gene's map position. UniProt Q99999 (FAKE_HUMAN), accessed 2026-03-04.")
    assert (c.venue, c.year) == ("UniProt", None)
    assert parse("GenAge entry 7 (FAKE) — model: Drosophila melanogaster (knockdown shortens lifespan)").design == (
        "in-vivo"
    )


def test_a_note_that_names_no_work_states_nothing(parse):
    c = parse("#gap/unsourced — a source showing this in Schwann cells of aged nerves is still needed.")
    assert (c.author_surnames, c.year, c.venue, c.design, c.n) == ([], None, None, None, None)


def test_a_sentence_is_not_cut_after_an_initial_or_et_al():
    assert sentences("Quill R. et al. found it. Marsh T. Tern A. 2001. Review; see below — in short") == [
        "Quill R. et al. found it.",
        "Marsh T. Tern A. 2001.",
        "Review",
        "see below",
        "in short",
    ]


# --- n written in words ---------------------------------------------------------


@pytest.mark.parametrize(
    "segment, n",
    [
        ("RCT (412 adults, 2 yr)", 412),
        ("systematic review · 11 studies / 318 patients", 318),
        ("meta-analysis · 9 RCTs (~12,400 participants total); safety subset: 6 trials, 9,100 participants", 12400),
        ("observational · tissue from 3 donors · 120 biopsies from 7 men aged 40–80", 7),
        ("cohort · 2,300 cases of hip fracture", 2300),
        ("observational · 55 patients with colitis vs 140 controls", None),  # no total stated
        ("observational · 3,100 cases, 7,200 controls", None),
        ("observational · >25,000 dogs enrolled", None),  # a bound
        ("rct · 6–9 patients per group", None),
        ("observational · ~12 million participants", None),  # rounded, not a count
        ("in-vitro · fibroblasts from 3 patients + knockout mice", None),  # mixed models, no single total
        ("rct · n=40 randomized, n=31 completed", 40),
        ("rct · n=TRIAL-X eligible participants", None),  # 'n=' is written: words do not replace it
    ],
)
def test_n_in_words(parse, segment, n):
    assert parse(f"doi:10.5555/n · Alpha A · *Cell* 2020 · {segment}").n == n


def test_a_reviews_counts_belong_to_the_reviewed_studies(parse):
    assert parse("doi:10.5555/r · Alpha A · *Cell* 2020 · review · one trial enrolled 2,719 individuals").n is None


def test_count_in_words_is_none_when_nobody_is_counted():
    assert count_in_words("doi:10.5555/x · 12 genes in 3 pathways; 40 mg/kg") is None


# --- a design inside a sentence or as a clause --------------------------------


@pytest.mark.parametrize(
    "segment, design",
    [
        ("estrogen loss → bone resorption; mechanistic review", "review"),
        ("protocol of the PILOT-9 trial (oral, weekly); Phase 1b; ~60 patients", "clinical-trial"),
        ("GWAS meta-analysis; n=310,000", "meta-analysis"),
        ("interventional (longitudinal pre-post, no control arm)", "clinical-trial"),
        ("preclinical (rat burn model + in-vitro keratinocytes)", "in-vivo"),
        ("human genetics (clinical genetics cohort)", "observational"),
        ("Phase 2b randomised double-blind placebo-controlled", "rct"),
        ("open-label phase 3", "clinical-trial"),
        ("umbrella-review of interventional meta-analyses", "meta-analysis"),
        ("mini-review", "review"),
        ("positional cloning", "observational"),
        ("first description of the pathway; n/a (methods)", "in-silico"),
        ("gain rose; increased muscle cross-sectional area", None),  # a design word is not the clause's head
        ('"Deletion shortens lifespan in mice" · 2020', None),  # a title's words are not a result
    ],
)
def test_design_in_a_sentence(parse, segment, design):
    assert parse(f"doi:10.5555/d · Alpha A · *Cell* 2020 · {segment}").design == design


def test_a_result_in_animals_or_cells_gives_the_design(parse):
    assert parse("doi:10.5555/m · Alpha A · *Cell* 2020 · the drug extends lifespan in aged male mice").design == (
        "in-vivo"
    )
    assert parse("doi:10.5555/c · Alpha A · *Cell* 2020 · editing reached 40% in human cells").design == "in-vitro"


def test_animals_counted_beside_people_are_not_an_animal_study(parse):
    c = parse("doi:10.5555/a · Alpha A · *Cell* 2020 · n=human brains + mouse model · multi-method")
    assert c.design is None


# --- several works, and authors written around the names ----------------------


def test_several_works_give_the_first_works_fields(parse):
    c = parse(
        "Shown in several papers. Kite MA et al. 2003 (doi:10.5555/k.1, PMID 1111111) · *Nature Immunology* · "
        "found the kinases. Rook E et al. 2004 (doi:10.5555/r.2) · *Nature Immunology* · found the adaptor."
    )
    assert (c.doi, c.pmid, c.author_surnames, c.year, c.venue) == (
        "10.5555/k.1",
        "1111111",
        ["Kite"],
        2003,
        "Nature Immunology",
    )


def test_authors_named_late_in_a_segment(parse):
    c = parse(
        "doi:10.5555/late · in-vitro · model: mammalian cells; a parallel discovery; Autophagy 4(2):10–19 (2008); "
        "authors: Owl N, Swift T, Crane S; 120 citations"
    )
    assert (c.author_surnames, c.venue, c.year, c.design) == (["Owl", "Swift", "Crane"], "Autophagy", 2008, "in-vitro")


def test_another_works_names_in_a_note_are_not_the_authors(parse):
    c = parse("doi:10.5555/o · in-vitro · the effect is large (Gannet & Tern 2017 review quotes 1,000-fold)")
    assert c.author_surnames == []
    assert parse("doi:10.5555/t · in-vivo · model: mice; ~60% dead at E15; Table I) · notes").author_surnames == []


@pytest.mark.parametrize(
    "authors, surnames",
    [
        ("Hawk KE (Ohio State), Ibis JM (Yale) and DOG Consortium", ["Hawk", "Ibis", "DOG Consortium"]),
        ("Teal L, Gull B et al; BRAVO-X Collaborative Group", ["Teal", "Gull", "BRAVO-X Collaborative Group"]),
        ("Dove J, Del Monte M F, Jay C", ["Dove", "Del Monte", "Jay"]),
        ("Stork MA,..., Egret HM (last)", ["Stork", "Egret"]),
        ("Snipe C et al. (Avocet, Curlew, Dunlin, et al.)", ["Snipe", "Avocet", "Curlew", "Dunlin"]),
        ("Knot IS et al. (Knot, Sand, Ruff)", ["Knot", "Sand", "Ruff"]),
        ("Pipit CV, Shrike CL, et al. (Aarhus University Hospital, Denmark)", ["Pipit", "Shrike"]),
        ("Acme Therapeutics", ["Acme Therapeutics"]),
    ],
)
def test_author_lists_with_notes_and_groups(parse, authors, surnames):
    assert parse(f"doi:10.5555/g · {authors} · *Cell* 2020 · review").author_surnames == surnames


def test_a_journal_right_after_the_names_is_not_a_name(parse):
    c = parse("doi:10.5555/j · review · model: narrative review (Crake ML & Merlin S, Am J Med 2001;110:118–126)")
    assert (c.author_surnames, c.venue, c.year) == (["Crake", "Merlin"], "Am J Med", 2001)


# --- no DOI, empty, and bad input ---------------------------------------------


def test_a_record_with_no_doi(parse):
    c = parse("Rail S · *Int Angiol* 1985;4(4):419–424 · review/technique · PMID 1234567 · (no DOI in record)")
    assert (c.doi, c.pmid, c.author_surnames, c.year, c.venue, c.design) == (
        None,
        "1234567",
        ["Rail"],
        1985,
        "Int Angiol",
        "review",
    )


def test_a_volume_before_its_issue_is_not_the_year(parse):
    c = parse("doi:10.5555/v · Grebe A · Biochim Biophys Acta Mol Basis Dis 1864(4):1220-1231 · 2018 · review")
    assert c.year == 2018


def test_prose_records_keep_their_diagnostics_with_file_and_line(schema):
    page = (
        "---\ntype: protein\n---\n# Demo\n\nA claim [^a] and another [^b] and a third [^c].\n\n"
        "[^a]: Loon K et al. 2004 (Nature) reported it in yeast; no identifier yet.\n"
        "[^b]:\n\n"
        "[^c]: #gap/unsourced — a source is still needed for this claim.\n"
    )
    parsed = parse_page("proteins/demo.md", page.encode(), schema)
    reported = {(d.code, d.line) for d in check_page(parsed, CorpusIndex(["proteins/demo"]), schema)}
    assert ("citation-no-identifier", 8) in reported
    assert ("footnote-empty", 9) in reported
    assert ("citation-shape", 11) in reported
    assert parsed.citations[0].author_surnames == ["Loon"] and parsed.citations[0].design == "in-vivo"


@pytest.mark.parametrize(
    "record",
    [
        "Quill R. " * 20000,
        "(" * 50000 + "Quill R et al. 2001",
        "; ".join(["12 patients, 13 patients"] * 5000),
        "See Quill 2001 (doi " * 10000,
        "authors: " + ", ".join(["Quill R"] * 20000),
        "; ".join(["Phase 1b"] * 20000),
    ],
)
def test_long_prose_is_read_in_linear_time(parse, record):
    started = time.monotonic()
    parse(record)
    assert time.monotonic() - started < 10  # a quadratic reader takes minutes on these

from etl.citations import Citation, clean_doi, parse_citation


def test_full_record_parses_every_field(schema):
    record = "doi:10.5555/demo.alpha · Alpha A, Beta B · Demo Journal 2020 · rct · n=40 (20 drug / 20 placebo) · score fell (p=0.02) · model: adult volunteers; 12 citations per Crossref"
    assert parse_citation(record, schema.vocabularies["study_designs"]) == Citation(
        segments=7,
        doi="10.5555/demo.alpha",
        authors="Alpha A, Beta B",
        author_names=["Alpha A", "Beta B"],
        first_author="Alpha A",
        venue="Demo Journal",
        venue_confident=True,
        year=2020,
        design="rct",
        design_text="rct",
        n=40,
        n_text="n=40 (20 drug / 20 placebo)",
        p_value_text="p=0.02",
        model="adult volunteers; 12 citations per Crossref",
        citation_count=12,
        parse_status="parsed",
    )


def test_study_link_record_is_parsed_without_authors(schema):
    c = parse_citation("[[studies/demo-study]] · n=20/group · randomized · p<0.01 · model: aged mice", schema.vocabularies["study_designs"])
    assert (c.study_link, c.n, c.design, c.p_value_text, c.model, c.parse_status) == ("studies/demo-study", 20, "rct", "p<0.01", "aged mice", "parsed")


def test_retracted_record_is_flagged(schema):
    c = parse_citation("**RETRACTED** — doi:10.5555/x.1 · Omega O et al. · *Demo* 2009 · in-vivo · retracted later", schema.vocabularies["study_designs"])
    assert c.retracted and c.doi == "10.5555/x.1" and c.first_author == "Omega O" and c.year == 2009


def test_free_text_is_unparsed(schema):
    assert parse_citation("see the pathway page for background", schema.vocabularies["study_designs"]).parse_status == "unparsed"


def test_doi_keeps_balanced_parentheses_and_drops_trailing_punctuation():
    assert clean_doi("10.1002/1529-0131(199812)41:12<2196::AID-ART15>3.0.CO;2-2") == "10.1002/1529-0131(199812)41:12<2196::AID-ART15>3.0.CO;2-2"
    assert clean_doi("10.5555/abc).") == "10.5555/abc"

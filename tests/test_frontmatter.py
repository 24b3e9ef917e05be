import pytest

from etl.wiki.frontmatter import FrontmatterError, parse_frontmatter, split_comment


def test_yaml_12_keeps_yes_as_a_string_and_dates_as_iso_text():
    fm = parse_frontmatter("---\nmr-causal-evidence: yes\nverified: true\nverified-date: 2026-05-06\n---\nbody\n")
    assert [(f.key, f.value) for f in fm.fields] == [
        ("mr-causal-evidence", "yes"),
        ("verified", True),
        ("verified-date", "2026-05-06"),
    ]


def test_each_key_keeps_its_line_raw_text_and_trailing_comment():
    text = "---\ntype: protein\ngtex-aging-correlation: null   # #gap/not-queried; later\nhgnc: 6000\n---\n# Title\n"
    fm = parse_frontmatter(text)
    gtex = fm.entry("gtex-aging-correlation")
    assert (gtex.line, gtex.raw, gtex.comment, gtex.comment_line, gtex.value) == (
        3,
        "null",
        "#gap/not-queried; later",
        3,
        None,
    )
    assert fm.entry("hgnc").line == 4
    assert text.split("\n")[fm.body_line - 1 + 1] == "# Title"


def test_hash_inside_quotes_is_not_a_comment():
    assert split_comment('title: "C# and #1"  # real') == ('title: "C# and #1"', "real")


def test_duplicate_key_is_an_error_on_the_second_key_line():
    with pytest.raises(FrontmatterError) as caught:
        parse_frontmatter("---\na: 1\nb: 2\na: 3\n---\n")
    assert (caught.value.line, caught.value.code) == (4, "yaml-duplicate-key")


def test_syntax_error_names_the_line():
    """At the line of the unclosed '[' (2), naming the line where parsing stopped (3)."""
    with pytest.raises(FrontmatterError) as caught:
        parse_frontmatter("---\na: [1, 2\nb: 2\n---\n")
    assert caught.value.code == "yaml-syntax"
    assert caught.value.line == 2
    assert "parsing stopped at line 3" in caught.value.message


def test_page_without_frontmatter_has_no_fields():
    fm = parse_frontmatter("# Just a heading\n")
    assert fm.fields == [] and fm.body_line == 1


def test_an_impossible_date_is_a_yaml_error_on_its_line():
    from etl.wiki.frontmatter import FrontmatterError, parse_frontmatter

    try:
        parse_frontmatter("---\ntype: protein\nverified: true\nverified-date: 2026-02-30\n---\n\n# X\n")
    except FrontmatterError as error:
        assert error.line == 4 and error.code == "yaml-syntax" and "2026-02-30 is not a date" in error.message
    else:
        raise AssertionError("an impossible date was accepted")

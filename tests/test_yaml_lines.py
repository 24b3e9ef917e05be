"""A YAML error names the line where the broken construct starts (the opening
quote or bracket, the key whose value breaks) and the line where parsing
stopped; "frontmatter ignored" is said only when the build goes on."""

import re
import shutil

import pytest

from etl.pipeline.check import check_wiki
from etl.schema import DATA_DIR, load_schema
from etl.wiki.frontmatter import FrontmatterError, parse_frontmatter
from etl.wiki.parse import parse_page

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "yaml_lines"

# page -> (line reported: where the construct starts, line where parsing stopped)
EXPECTED = {
    # The case: a quote opened on line 3 runs to the closing '---' on line 15.
    "unclosed-double-quote.md": (3, 15),
    "unclosed-single-quote.md": (3, 6),
    # A later quote closes it; the parser fails at that quote's line, the key is where it began.
    "quote-closed-by-a-later-quote.md": (3, 5),
    "unclosed-bracket.md": (3, 4),
    "unclosed-brace.md": (3, 4),
    # The second item is indented less than the first: the key whose list breaks.
    "bad-list-indentation.md": (3, 5),
    # The key itself is over-indented: nothing starts earlier, one line.
    "over-indented-key.md": (5, 5),
}
STOPPED = re.compile(r"parsing stopped at line (\d+)")


def yaml_error(name: str):
    page = parse_page(name, (FIXTURES / name).read_bytes(), load_schema())
    return next(d for d in page.diagnostics if d.code == "yaml-syntax")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_error_is_where_the_construct_starts_and_names_where_parsing_stopped(name):
    start, stop = EXPECTED[name]
    error = yaml_error(name)
    assert error.line == start, error.format()
    named = STOPPED.search(error.message)
    if start == stop:
        assert named is None, error.format()
    else:
        assert named is not None and int(named.group(1)) == stop, error.format()
        assert "starts on this line" in error.message
    # The line reported holds what the message says starts there.
    source = (FIXTURES / name).read_text(encoding="utf-8").split("\n")[start - 1]
    if "quoted value" in error.message:
        assert source.count('"') % 2 == 1 or source.count("'") % 2 == 1
    if "[ list" in error.message:
        assert "[" in source and "]" not in source
    if "{ mapping" in error.message:
        assert "{" in source and "}" not in source
    if "the value of" in error.message:
        key = re.search(r"the value of '([^']+)'", error.message).group(1)
        assert source.startswith(f"{key}:")


def test_every_fixture_is_checked_and_the_good_page_is_clean():
    pages = {p.name for p in FIXTURES.glob("*.md")}
    assert pages - set(EXPECTED) == {"good.md"}
    found = {(d.path, d.code, d.line) for d in check_wiki(FIXTURES) if d.code.startswith("yaml")}
    assert found == {(name, "yaml-syntax", start) for name, (start, _) in EXPECTED.items()}


def test_a_blocking_error_does_not_say_the_frontmatter_is_ignored():
    error = yaml_error("unclosed-bracket.md")
    assert "yaml-syntax" in load_schema().blocking_codes
    assert "ignored" not in error.message and "the build stops until it is fixed" in error.message


def test_where_the_code_does_not_block_the_frontmatter_is_ignored(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    errors = (data / "errors.yml").read_text(encoding="utf-8")
    entry = next(line for line in errors.splitlines() if line.lstrip().startswith("- {code: yaml-syntax,"))
    (data / "errors.yml").write_text(errors.replace(entry, entry.replace("blocks: true, ", "")), "utf-8")
    schema = load_schema(data)
    assert "yaml-syntax" not in schema.blocking_codes
    page = parse_page("b.md", (FIXTURES / "unclosed-bracket.md").read_bytes(), schema)
    (error,) = [d for d in page.diagnostics if d.code == "yaml-syntax"]
    assert error.message.endswith("; frontmatter ignored")


def test_a_duplicate_key_stays_on_the_second_key():
    with pytest.raises(FrontmatterError) as caught:
        parse_frontmatter("---\na: 1\nb: [x,\n  y]\na: 3\n---\n")
    assert (caught.value.line, caught.value.code) == (5, "yaml-duplicate-key")
    assert STOPPED.search(caught.value.message) is None

"""The two block parsers of etl/wiki/markdown.py read every page alike:
pulldown-cmark's events (etl/wiki/block_events.py) against markdown-it-py,
the reference, compared on the whole Body (sections, links, gap tags,
footnotes, tables, fences, banner) of fixture pages, constructs and random
documents; where they would differ the page is read by markdown-it."""

import random
from pathlib import Path

import pytest

from etl.wiki.block_events import Unlike, block_tokens
from etl.wiki.frontmatter import FrontmatterError, parse_frontmatter
from etl.wiki.markdown import parse_body

from .conftest import REAL_WIKI, ROOT


def _body_text(path: Path) -> tuple[str, int]:
    text = path.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        frontmatter = parse_frontmatter(text)
    except FrontmatterError:
        return text, 1
    return frontmatter.body, frontmatter.body_line


def _assert_alike(text: str, first_line: int = 1, where: object = None) -> None:
    reference = parse_body(text, first_line, parser="markdown-it")
    assert parse_body(text, first_line, parser="pyromark") == reference, where or text


def _reads_with_pulldown(text: str) -> bool:
    try:
        block_tokens(text)
    except Unlike:
        return False
    return True


# Read by pulldown-cmark, each with what the walker takes from it.
ALIKE = [
    "# Title\n\nText with a #gap/some-tag claim. And [[page|alias]] [^1].\n\n[^1]: doi:10.1/x · A B · J 2020\n",
    "- a #gap/x-y claim\n  - b [[p]]\n    more\n  lazy\n- c\n",
    "- a\n\n  second para #gap/t\n   extra indent\n- b\n",
    "> ⚠ warning banner\n> more of it\n\n# T\n",
    "Text[^1].\n\n[^1]: first line\n    second line\n\n    second para\n\n[^2]: next\n",
    "[^1]: first\nlazy line\n[^2]: second\n",
    "- x\n\n  | a | b |\n  |---|---|\n  | 1 | [[p|q]] |\n",
    "> | a | b |\n> |---|---|\n> | 1 | 2 |\n",
    "text\n| a | b |\n|---|---|\n| 1 | 2 |\n\nafter\n",
    "| a | b |\n|---|---|\n| 1 | 2 | 3 |\n| 1 |\n",
    "| a | b |\n| 1 | 2 |\n",
    "Title\nline two\n===\n\nSub\n---\n",
    "## Head ##\n### #\n#### x #y\n# \n",
    "<!-- #gap/hidden claim. [[p]] -->\n\n  <div>\n  [[q]] #gap/z here.\n  </div>\n",
    "- a\n\n  ```trial\n  x: 1\n  ```\n",
    "```trial\nunclosed\n",
    "    code [[not-a-link]]\n\ntext\n",
    "foo  \nbar [[x]]\\\nbaz\n",
    "See [a][r] and [b].\n\n[r]: http://x.org/a\n[b]: <http://y.org/b c> 'T'\n",
    "Mail <a@b.org> and <http://x.org/é>\n",
    "[^1]: See [x](http://x.org) #gap/f\n",
    "- # h1 in a list\n- ## h2\n",
    "1. one\n2) two\n10. ten\n   cont\n",
    "- ü [[ä]]\n  ö #gap/u claim.\n",
    "First sentence. Second #gap/a\n   continues here. Third.\n",
    "[^evil]: <script>x</script> doi:10.5555/evil\n",
]

# Read otherwise by the two: these pages go to markdown-it.
UNLIKE = [
    "[^a b]: a label with a space\n",
    "[^1]: x\n    [^2]: indented, so inside the first to markdown-it\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n[^1]: a row to markdown-it\n",
    "| a |\n|---|\n    | indented as code |\n",
    "a | b\n- | -\n",
    "> quote\nlazy line\n[^a]:\n",
    "- a\n\tTabbed continuation\n",
    "| x |\n---\nrow\n",
    "[r]: http://x.org\n    continued\n---\n",
    "| a | b |\n|---|\n| 1 | 2 |\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n- an item right after the table\n",
]


@pytest.mark.parametrize("text", ALIKE)
def test_constructs_read_alike_by_pulldown(text):
    assert _reads_with_pulldown(text)
    _assert_alike(text)


@pytest.mark.parametrize("text", UNLIKE)
def test_constructs_read_otherwise_go_to_markdown_it(text):
    assert not _reads_with_pulldown(text)
    _assert_alike(text)


def test_fixture_pages_read_alike():
    pages = sorted((ROOT / "tests" / "fixtures").rglob("*.md"))
    assert len(pages) > 20
    for path in pages:
        _assert_alike(*_body_text(path), where=path)


LINES = [
    "", "", "text #gap/a-b claim. More [[p|q]] here.", "plain words", "# H", "## Sub ##", "Setext", "===", "---",
    "- item [[x]]", "  - nested #gap/n", "1. one", "2) two", "* star", "> quote", "> > deep", "    indented code",
    "```trial", "```", "<!-- c #gap/h -->", "<div>", "</div>", "| a | b |", "|---|---|", "| 1 | 2 |", "a | b",
    "[^1]: rec one [[w]]", "[^2]: rec two", "    continued", "  two spaces", "text[^1] ref", "[r]: http://x.org",
    "see [l](http://y.org) and [r]", "\tTabbed", "-", "| x |", "|", "<http://auto.org>", "trailing  ", "line\\",
    "> - quoted item", "> | a |", "> |---|", "[^a]:", "  [^3]: spaced def", "#gap/x-y",
]  # fmt: skip


def test_random_documents_read_alike():
    """Documents of random lines (a fixed seed): equal Bodies, and most of
    them read by pulldown-cmark, so the comparison is not all fallback."""
    draw = random.Random(26)
    read = 0
    for _ in range(400):
        text = "\n".join(draw.choice(LINES) for _ in range(draw.randint(1, 12))) + draw.choice(["", "\n"])
        read += _reads_with_pulldown(text)
        _assert_alike(text)
    assert read > 150


def test_every_page_of_the_real_wiki_reads_alike():
    pages = sorted(REAL_WIKI.rglob("*.md"))
    assert len(pages) > 800
    for path in pages:
        _assert_alike(*_body_text(path), where=path)

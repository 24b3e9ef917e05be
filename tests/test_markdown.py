"""The body parser: markdown links are found with inline parsing only where
a link can start, and that loses none of them."""

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from etl.wiki.markdown import parse_body, split_cells

from .conftest import REAL_WIKI


def _links_by_full_inline_parse(text: str) -> list[tuple]:
    """Every markdown link markdown-it finds with inline parsing enabled on
    every paragraph and heading: (target, anchor, text)."""
    md = MarkdownIt("commonmark").enable("table").use(footnote_plugin)
    md.core.ruler.disable("footnote_tail")
    found = []
    for token in md.parse(text):
        if token.type != "inline" or not token.children:
            continue
        children = token.children
        for i, child in enumerate(children):
            if child.type == "link_open":
                words = []
                for follower in children[i + 1 :]:
                    if follower.type == "link_close":
                        break
                    words.append(follower.content)
                href = child.attrGet("href") or ""
                target, _, anchor = href.partition("#")
                found.append((target or href, anchor or None, "".join(words).strip() or None))
    return found


def _markdown_links(body) -> list[tuple]:
    return [(link.target, link.anchor, link.alias) for link in body.links if link.kind == "markdown"]


def test_inline_links_autolinks_and_reference_links_are_found():
    text = "\n".join(
        [
            "# Title with [a link](https://example.org/t)",
            "",
            "Plain text, p<0.05 and a <b>tag</b>, with no link at all.",
            "",
            "See [the trial](https://clinicaltrials.gov/x#results) and <https://example.org/auto>.",
            "",
            "Mail <someone@example.org> or read [the review][rev].",
            "",
            "[rev]: https://example.org/review",
            "",
            "<!-- [not a link](https://example.org/hidden) -->",
        ]
    )
    body = parse_body(text)
    got = [(link.target, link.anchor, link.alias, link.line) for link in body.links if link.kind == "markdown"]
    assert got == [
        ("https://example.org/t", None, "a link", 1),
        ("https://clinicaltrials.gov/x", "results", "the trial", 5),
        ("https://example.org/auto", None, "https://example.org/auto", 5),
        ("mailto:someone@example.org", None, "someone@example.org", 7),
        ("https://example.org/review", None, "the review", 7),
    ]


def test_a_reference_link_in_a_table_cell_needs_its_own_definition():
    # A cell is parsed on its own: the page's references do not reach it.
    text = "| a | b |\n|---|---|\n| [x][rev] | [y](https://example.org/y) |\n\n[rev]: https://example.org/r\n"
    body = parse_body(text)
    assert [(link.target, link.alias) for link in body.links if link.kind == "markdown"] == [
        ("https://example.org/y", "y")
    ]


def test_every_markdown_link_of_the_real_wiki_is_found():
    """Against markdown-it's inline parse of every paragraph and heading of
    every page (table rows are read from their raw lines, so tables are left
    out of both sides here)."""
    pages = sorted(REAL_WIKI.rglob("*.md"))
    assert len(pages) > 800
    total = 0
    for path in pages:
        text = path.read_text(encoding="utf-8")
        if text.startswith("---"):
            end = text.find("\n---", 3)
            text = "\n" * text.count("\n", 0, end + 4) + text[end + 4 :]
        without_tables = "\n".join("" if line.lstrip(" >").startswith("|") else line for line in text.split("\n"))
        expected = _links_by_full_inline_parse(without_tables)
        assert _markdown_links(parse_body(without_tables)) == expected, path
        total += len(expected)
    assert total > 50  # the wiki has few: most of its links are [[wikilinks]]


@pytest.mark.parametrize(
    "line, cells",
    [
        ("| a | b |", [" a ", " b "]),
        ("| [[proteins/il-6|IL-6]] | raised |", [" [[proteins/il-6|IL-6]] ", " raised "]),
        ("| x \\| y | z |", [" x \\| y ", " z "]),
        ("  > | quoted | row |", [" quoted ", " row "]),
        ("| closed ]] early | [[open | two |", [" closed ]] early ", " [[open | two "]),
        ("| [[[odd]]] | ok |", [" [[[odd]]] ", " ok "]),
        ("| trailing backslash \\", [" trailing backslash \\"]),
        ("no outer pipes | here", ["no outer pipes ", " here"]),
    ],
)
def test_split_cells_keeps_wikilinks_and_escapes_whole(line, cells):
    assert split_cells(line) == cells

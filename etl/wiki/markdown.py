"""Page bodies: headings, links, gap tags, footnotes and pipe tables, each
with its source line. Walks markdown-it-py's tokens with their line maps, or
the same tokens made from pulldown-cmark's events (block_events.py).

Pure: works on text. Line numbers are 1-based lines of the whole page
(``first_line`` is the page line where the body text starts).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from mdit_py_plugins.anchors.index import slugify
from mdit_py_plugins.footnote import footnote_plugin

from .block_events import Unlike, block_tokens, page_env
from .syntax import FOOTNOTE_REF, GAP_TAG, WIKILINK, mask_code

SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z\[*(#\"'])")
QUALIFIER = re.compile(r"\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
BANNER = re.compile(r"^>\s*⚠")


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table").use(footnote_plugin)
    # Keep footnote definitions in document order with their line maps;
    # the tail rule would drop unreferenced definitions.
    md.core.ruler.disable("footnote_tail")
    # Inline parsing is two thirds of the parse and only markdown links need
    # it; `inline_children` runs it for the inline tokens that can hold one.
    md.core.ruler.disable("inline")
    return md


MD = _parser()
# Which parser reads the block structure: pulldown-cmark through pyromark
# (block_events.py: markdown-it's tokens, a third of the time; pages it would
# read otherwise go to markdown-it), or markdown-it-py, the reference its
# tests compare with (AGINGKB_MARKDOWN_PARSER=markdown-it).
PARSER = os.environ.get("AGINGKB_MARKDOWN_PARSER", "pyromark")
if PARSER not in ("pyromark", "markdown-it"):
    raise ValueError(f"AGINGKB_MARKDOWN_PARSER is {PARSER!r}: 'pyromark' or 'markdown-it'")


# A superset of what can open a link token in CommonMark inline text: an
# inline link's "](", an autolink "<scheme:" or "<user@".
MAY_LINK = re.compile(r"\]\(|<[A-Za-z][A-Za-z0-9+.\-]{1,31}:|<[^<>\s]+@")


def inline_children(content: str, env: dict) -> list:
    """markdown-it's inline tokens for `content`, or [] when no link can
    start in it (reference links count only when the page defines some)."""
    may_link = ("](" in content or "<" in content) and MAY_LINK.search(content)  # its literals first: fast
    if not may_link and not (env.get("references") and "[" in content):
        return []
    children: list = []
    MD.inline.parse(content, MD, env, children)
    return children


@dataclass
class Section:
    seq: int
    level: int
    heading: str
    anchor: str
    parent_seq: int | None
    heading_path: str
    line: int
    end_line: int
    text: str
    body_start: int = 0  # 0-based body line of the heading
    closed: bool = False


@dataclass
class Link:
    kind: str
    target: str
    anchor: str | None
    alias: str | None
    line: int
    section_seq: int | None


@dataclass
class GapTag:
    tag: str
    claim: str
    qualifier: str | None
    line: int
    section_seq: int | None
    footnotes: list[str]


@dataclass
class FootnoteDef:
    label: str
    record: str
    line: int
    end_line: int


@dataclass
class FootnoteRef:
    label: str
    line: int
    section_seq: int | None


@dataclass
class PipeTable:
    header: list[str]
    rows: list[list[str]]
    row_lines: list[int]
    line: int
    end_line: int
    section_seq: int | None


@dataclass
class Fence:
    info: str  # the word after the opening ``` (e.g. 'trial')
    content: str
    line: int  # line of the opening ```
    section_seq: int | None


@dataclass
class Body:
    title: str | None = None
    banner: str | None = None
    sections: list[Section] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    gaps: list[GapTag] = field(default_factory=list)
    footnote_defs: list[FootnoteDef] = field(default_factory=list)
    footnote_refs: list[FootnoteRef] = field(default_factory=list)
    tables: list[PipeTable] = field(default_factory=list)
    orphan_table_lines: list[int] = field(default_factory=list)  # pipe lines with no table header
    fences: list[Fence] = field(default_factory=list)
    word_count: int = 0


CONTAINER_PREFIX = re.compile(r"^[\s>]*")


def table_line(line: str) -> str:
    """A raw table line without blockquote markers and list indentation."""
    return CONTAINER_PREFIX.sub("", line).strip()


# What split_cells reads: a wikilink bracket pair, an escaped character, a
# pipe, a run of anything else, or a lone bracket or trailing backslash.
CELL_TOKEN = re.compile(r"\[\[|\]\]|\\.|\||[^\[\]\\|]+|.", re.DOTALL)


def split_cells(line: str) -> list[str]:
    """Cells of a raw pipe-table line. Splits on unescaped pipes outside
    [[wikilinks]], so [[page|alias]] stays one cell as its author meant."""
    text = table_line(line)
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    cells, current, depth = [], [], 0
    for token in CELL_TOKEN.findall(text):
        if token == "|" and not depth:
            cells.append("".join(current))
            current = []
            continue
        if token == "[[":
            depth += 1
        elif token == "]]" and depth:
            depth -= 1
        current.append(token)
    cells.append("".join(current))
    return cells


TABLE_TOKENS = ("table_open", "thead_open", "thead_close", "tr_open", "tr_close", "table_close")


def _line_at(content: str, offset: int, start_line: int) -> int:
    return start_line + content.count("\n", 0, offset)


def sentence_claim(text: str, start: int, end: int) -> str:
    """The sentence holding text[start:end]; when the tag opens its
    sentence (it follows a full stop), the sentence before it."""
    bounds = [0] + [m.end() for m in SENTENCE_END.finditer(text)] + [len(text)]
    for index in range(len(bounds) - 1):
        lo, hi = bounds[index], bounds[index + 1]
        if lo <= start < hi or (start == hi == len(text)):
            before = GAP_TAG.sub("", text[lo:start]).strip(" \n*_—–-:;,")
            if not before and index > 0:
                lo = bounds[index - 1]
            return text[lo:hi].strip()
    return text.strip()


class _Walker:
    def __init__(self, body: str, first_line: int, parser: str):
        self.parser = parser
        self.source_lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.first_line = first_line
        self.result = Body()
        self.section_stack: list[Section] = []
        self.anchors: dict[str, int] = {}
        self.env: dict = {}

    @property
    def current_section(self) -> int | None:
        return self.section_stack[-1].seq if self.section_stack else None

    def page_line(self, map_line: int) -> int:
        return self.first_line + map_line

    def source(self, start: int, end: int) -> str:
        return "\n".join(self.source_lines[start:end])

    def tokens(self, text: str) -> list:
        if self.parser == "pyromark":
            try:
                tokens, definitions = block_tokens(text)
            except Unlike:  # a construct pulldown-cmark reads otherwise
                return MD.parse(text, self.env)
            labels = [t.meta["label"] for t in tokens if t.type == "footnote_reference_open"]
            self.env = page_env(definitions, labels, MD)
            return tokens
        return MD.parse(text, self.env)

    def walk(self) -> Body:
        tokens = self.tokens("\n".join(self.source_lines))
        result = self.result
        context: list[str] = []  # enclosing block types
        footnote: dict | None = None
        table: dict | None = None
        first_block = True
        for index, token in enumerate(tokens):
            if token.type.endswith("_open") and token.type not in ("heading_open", "paragraph_open"):
                context.append(token.type[: -len("_open")])
            elif token.type.endswith("_close") and token.type not in ("heading_close", "paragraph_close"):
                if context:
                    context.pop()

            if first_block and token.map is not None and token.level == 0:
                first_block = False
                if token.type == "blockquote_open" and BANNER.match(self.source_lines[token.map[0]] or ""):
                    result.banner = self.source(*token.map).strip()

            if token.type == "heading_open":
                self.open_section(token, tokens[index + 1])
            elif token.type == "footnote_reference_open":
                footnote = {"label": token.meta["label"], "map": token.map, "parts": []}
            elif token.type == "footnote_reference_close" and footnote:
                record = "\n\n".join(footnote["parts"]).strip()
                start, end = footnote["map"]
                result.footnote_defs.append(
                    FootnoteDef(footnote["label"], record, self.page_line(start), self.page_line(end - 1))
                )
                footnote = None
            elif token.type in TABLE_TOKENS and (table is not None or token.type == "table_open"):
                table = self.table_token(token, table, context)
            elif token.type == "fence" and token.map:
                result.fences.append(
                    Fence(token.info.strip(), token.content, self.page_line(token.map[0]), self.current_section)
                )
            elif token.type == "html_block":
                # Tags and links inside HTML comments are still the author's.
                self.scan_inline(token.content, token.map, context, None, False, None)
            elif token.type == "inline":
                if table is not None and table["row"] is not None:
                    continue  # the row was scanned from its raw line
                if tokens[index - 1].type == "paragraph_open" and token.content.lstrip().startswith("|"):
                    result.orphan_table_lines.append(self.page_line(token.map[0]))
                if footnote is not None:
                    footnote["parts"].append(token.content)
                self.scan_inline(
                    token.content, token.map, context, table, tokens[index - 1].type == "heading_open", self.env
                )
        self.close_sections(len(self.source_lines))
        return result

    def table_token(self, token, table: dict | None, context: list[str]) -> dict | None:
        """Follow one token of a pipe table: the table being read, or None
        once it closes (and is added to the result)."""
        if token.type == "table_open":
            return {"map": token.map, "header": [], "rows": [], "row_lines": [], "row": None, "in_head": False}
        if token.type in ("thead_open", "thead_close"):
            table["in_head"] = token.type == "thead_open"
        elif token.type == "tr_open":
            # Cells come from the raw line: markdown-it drops cells past
            # the header's count (an unescaped | in [[link|alias]]).
            table["row_line"] = token.map[0]
            table["row"] = []
            for cell in split_cells(self.source_lines[token.map[0]]):
                table["row"].append(cell.replace("\\|", "|").strip())
                # A cell is parsed on its own, without the page's link references.
                self.scan_inline(cell, [token.map[0], token.map[0] + 1], context, table, False, {})
        elif token.type == "tr_close":
            if table["in_head"]:
                table["header"] = table["row"]
            else:
                table["rows"].append(table["row"])
                table["row_lines"].append(self.page_line(table["row_line"]))
            table["row"] = None
        elif token.type == "table_close":
            start, end = table["map"]
            self.result.tables.append(
                PipeTable(
                    table["header"],
                    table["rows"],
                    table["row_lines"],
                    self.page_line(start),
                    self.page_line(end - 1),
                    self.current_section,
                )
            )
            return None
        return table

    def open_section(self, token, inline) -> None:
        level = int(token.tag[1:])
        line = token.map[0]
        self.close_sections(line, level)
        heading = inline.content.strip()
        if self.result.title is None and level == 1:
            self.result.title = heading
        anchor = slugify(heading) or "section"
        if anchor in self.anchors:
            self.anchors[anchor] += 1
            anchor = f"{anchor}-{self.anchors[anchor]}"
        else:
            self.anchors[anchor] = 0
        parent = self.section_stack[-1] if self.section_stack else None
        section = Section(
            seq=len(self.result.sections) + 1,
            level=level,
            heading=heading,
            anchor=anchor,
            parent_seq=parent.seq if parent else None,
            heading_path=(parent.heading_path + " > " if parent else "") + heading,
            line=self.page_line(line),
            end_line=self.page_line(line),
            text="",
            body_start=line,
        )
        self.result.sections.append(section)
        self.section_stack.append(section)

    def close_sections(self, next_heading_line: int, level: int = 0) -> None:
        """Close sections at or below `level` (all when 0) that end before
        the heading at body line `next_heading_line`."""
        # Each section's text runs to the next heading of any level.
        if self.result.sections and not self.result.sections[-1].closed:
            last = self.result.sections[-1]
            start = last.body_start
            end = max(start + 1, next_heading_line)
            while end - 1 > start and not self.source_lines[end - 1].strip():
                end -= 1
            last.end_line = self.page_line(end - 1)
            last.text = self.source(start + 1, end).strip()
            last.closed = True
        while self.section_stack and (level == 0 or self.section_stack[-1].level >= level):
            self.section_stack.pop()

    def scan_inline(
        self, content: str, line_map, context: list[str], table: dict | None, in_heading: bool, link_env: dict | None
    ) -> None:
        """Links, footnote references and gap tags in one run of inline
        text; markdown links only when `link_env` is given (not in raw HTML)."""
        masked = mask_code(content)
        start_line = self.page_line(line_map[0]) if line_map else self.first_line
        section = self.current_section
        result = self.result

        for match in WIKILINK.finditer(masked):
            target = content[match.start(1) : match.end(1)].strip()
            anchor = match.group(2)
            alias = match.group(3)
            result.links.append(
                Link(
                    "wikilink",
                    target,
                    anchor.strip() if anchor else None,
                    alias.strip() if alias else None,
                    _line_at(content, match.start(), start_line),
                    section,
                )
            )
        children = inline_children(content, link_env) if link_env is not None else []
        if children:
            offset = 0
            for i, child in enumerate(children):
                if child.type == "link_open":
                    href = child.attrGet("href") or ""
                    text_parts = []
                    for follower in children[i + 1 :]:
                        if follower.type == "link_close":
                            break
                        text_parts.append(follower.content)
                    found = content.find(href, offset) if href else -1
                    if found >= 0:
                        offset = found
                    target, _, anchor = href.partition("#")
                    result.links.append(
                        Link(
                            "markdown",
                            target or href,
                            anchor or None,
                            "".join(text_parts).strip() or None,
                            _line_at(content, max(found, 0), start_line),
                            section,
                        )
                    )
        for match in FOOTNOTE_REF.finditer(masked):
            result.footnote_refs.append(
                FootnoteRef(match.group(1), _line_at(content, match.start(), start_line), section)
            )
        for match in (
            GAP_TAG.finditer(masked) if "#" in masked else ()
        ):  # the pattern opens with a lookbehind: no fast scan
            tag = match.group(1)
            line = _line_at(content, match.start(), start_line)
            if table is not None:
                claim = self.source_lines[line - self.first_line].strip()
            elif in_heading:
                claim = content.strip()
            elif "list_item" in context:
                claim = content.strip()
            else:
                claim = sentence_claim(content, match.start(), match.end())
            qualifier = QUALIFIER.match(content, match.end())
            footnotes = list(dict.fromkeys(FOOTNOTE_REF.findall(mask_code(claim))))
            result.gaps.append(
                GapTag(tag, claim, qualifier.group(1).strip() if qualifier else None, line, section, footnotes)
            )


def parse_body(body: str, first_line: int = 1, parser: str | None = None) -> Body:
    """Parse a page body. `first_line` is the page line of body line 1;
    `parser` is 'markdown-it' or 'pyromark' (default: PARSER)."""
    walker = _Walker(body, first_line, parser or PARSER)
    result = walker.walk()
    result.word_count = len(body.split())
    return result

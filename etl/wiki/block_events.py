"""A page body's block tokens read from pulldown-cmark's event stream
(pyromark), in the shape markdown-it-py gives them: the same token types,
line maps and inline `content` (the block's raw text with its container
markers and indentation removed as markdown-it removes them).

Only what `markdown._Walker` reads is produced: headings, paragraphs (tight
list items included), lists, blockquotes, footnote definitions, pipe table
rows, fences, HTML blocks and rules. Inline parsing is left to markdown-it
(`markdown.inline_children`), which needs the page's link references:
`page_env` reads them the way markdown-it's reference rule stores them.
Where the two parsers may read a page differently, `block_tokens` raises
Unlike and the page is read by markdown-it (tests/test_markdown_parsers.py
holds both to the same result on every page of the shared wiki).

Pure: works on text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

import pyromark
from markdown_it import MarkdownIt
from markdown_it.common.utils import normalizeReference

OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_FOOTNOTES
PULLDOWN = pyromark.Markdown(options=OPTIONS)

ITEM_MARKER = re.compile(r"[ ]*([-+*]|\d{1,9}[.)])([ ]*)(.?)")
QUOTE_MARKER = re.compile(r"[ ]{0,3}> ?")
ATX_OPEN = re.compile(r"[ ]*#{1,6}(?:[ \t]+|$)")
ATX_CLOSE = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
# What may be a table's delimiter row to markdown-it.
DELIMITER_ROW = re.compile(r"[ \t]*[-:|][-:| \t]*$")
FOOTNOTE_LABEL = re.compile(r"[ ]*\[\^([^\]]+)\]:")
# Blocks whose inline events are not read here.
LEAVES = {"Paragraph", "Heading", "Table", "CodeBlock", "HtmlBlock", "MetadataBlock"}
# Leaves whose inner events are all inline: skipped up to their end.
INLINE_LEAVES = {"Paragraph", "Heading", "HtmlBlock"}
BLOCKS = LEAVES | {"BlockQuote", "List", "Item", "FootnoteDefinition", "DefinitionList"}


class Unlike(Exception):
    """The page holds a construct the two parsers read differently."""


class Token:
    """What the walker reads of a markdown-it token."""

    __slots__ = ("type", "map", "content", "tag", "info", "meta", "level")

    def __init__(self, kind: str, line_map=None, content="", tag="", info="", meta=None):
        self.type, self.map, self.content, self.tag, self.info, self.meta = kind, line_map, content, tag, info, meta
        self.level = 0


@dataclass(slots=True)
class Frame:
    kind: str  # 'quote', 'item' or 'footnote'
    indent: int = 0  # columns of indentation a continuation line loses here
    column: int = 0  # where this container's content starts on its first line


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.lines = text.split("\n")
        self.encoded = text.encode()
        self.ascii = len(self.encoded) == len(text)
        starts, offset = [], 0
        for line in self.encoded.split(b"\n"):
            starts.append(offset)
            offset += len(line) + 1
        self.starts = starts
        # markdown-it's line count: a final newline opens no line.
        self.line_count = len(self.lines) - 1 if text.endswith("\n") else len(self.lines)
        self.tokens: list[Token] = []
        self.frames: list[Frame] = []
        self.tight: list[int] | None = None  # byte span of a tight item's text

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def column(self, offset: int) -> tuple[int, int]:
        line = self.line_of(offset)
        start = self.starts[line]
        col = offset - start
        if not self.ascii:
            following = line + 1
            size = (self.starts[following] - 1 if following < len(self.starts) else len(self.encoded)) - start
            if size != len(self.lines[line]):  # not ASCII: count characters
                col = len(self.encoded[start:offset].decode("utf-8", "ignore"))
        return line, col

    def strip_prefix(self, line: str, frames=None) -> int:
        """Where a continuation line's text starts inside the containers."""
        position = 0
        for frame in self.frames if frames is None else frames:
            if frame.kind == "quote":
                match = QUOTE_MARKER.match(line, position)
                if match:
                    position = match.end()
                continue
            taken = 0
            while taken < frame.indent and position < len(line) and line[position] in " \t":
                if line[position] == "\t":  # markdown-it splits tabs into columns
                    raise Unlike("tab in a container's indentation")
                position += 1
                taken += 1
        return position

    def inline_text(self, start: int, end: int) -> tuple[str, list[int]]:
        """markdown-it's inline content of the lines spanning bytes [start, end)."""
        first, col = self.column(start)
        last = self.line_of(max(start, end - 1))
        parts = [self.lines[first][col:]]
        for number in range(first + 1, last + 1):
            line = self.lines[number]
            parts.append(line[self.strip_prefix(line) :])
            if "|" in parts[-2] and DELIMITER_ROW.match(parts[-1]):
                raise Unlike("a table markdown-it may find in a paragraph")
        return "\n".join(parts).strip(), [first, last + 1]

    def emit(self, kind: str, line_map=None, **fields) -> Token:
        token = Token(kind, line_map, **fields)
        self.tokens.append(token)
        return token

    def flush_tight(self) -> None:
        if self.tight is None:
            return
        content, line_map = self.inline_text(*self.tight)
        self.tight = None
        self.emit("paragraph_open", line_map)
        self.emit("inline", line_map, content=content)

    def line_span(self, span: dict) -> list[int]:
        return [self.line_of(span["start"]), self.line_of(max(span["start"], span["end"] - 1)) + 1]


def _heading(reader: _Reader, span: dict, level: int) -> None:
    first, col = reader.column(span["start"])
    line_map = reader.line_span(span)
    text = reader.lines[first][col:]
    opened = ATX_OPEN.match(text)
    if opened and line_map[1] - line_map[0] == 1:
        content = ATX_CLOSE.sub("", text[opened.end() :]).strip()
        if content.strip("#") == "" and content:
            content = ""
    else:  # setext: the lines above the underline
        underline = reader.starts[line_map[1] - 1]
        content, _ = reader.inline_text(span["start"], underline)
        below = reader.lines[line_map[1] - 1]
        if "|" in reader.lines[line_map[1] - 2] and DELIMITER_ROW.match(below[reader.strip_prefix(below) :]):
            raise Unlike("a table markdown-it may find in a setext heading")
    reader.emit("heading_open", line_map, tag=f"h{level}")
    reader.emit("inline", line_map, content=content)


def _check_table(reader: _Reader, line_map: list[int]) -> None:
    """Raise Unlike where markdown-it may read the table otherwise: a
    delimiter row opening with '- ', a row indented as code, or a line
    right after the table that is not blank (markdown-it may take it as a
    row where pulldown-cmark ends the table)."""
    start, end = line_map
    delimiter = reader.lines[start + 1] if start + 1 < len(reader.lines) else ""
    if re.match(r"-[ \t]", delimiter[reader.strip_prefix(delimiter) :]):
        raise Unlike("table delimiter row")
    for number in range(start + 2, end):
        line = reader.lines[number]
        rest = line[reader.strip_prefix(line) :]
        if rest.startswith(("    ", "\t")) or "\t" in rest[: len(rest) - len(rest.lstrip())]:
            raise Unlike("table row indented as code")
    if end < reader.line_count and reader.lines[end].strip(" \t"):
        raise Unlike("table ends on a line that is not blank")


def _check_quote(reader: _Reader, line_map: list[int]) -> None:
    """Raise Unlike for a blockquote with a lazy line (no '>') or a line
    that is not blank right after it: what may continue its paragraph
    differs between the two (a footnote definition, a table row)."""
    start, end = line_map
    for number in range(start, min(end + 1, reader.line_count)):
        line = reader.lines[number]
        if line.strip(" \t") and not QUOTE_MARKER.match(line, reader.strip_prefix(line)):
            raise Unlike("blockquote with a lazy line")


def _footnote_end(reader: _Reader, span: dict) -> int:
    """markdown-it's end of a footnote definition: the next line that is
    not blank after its text (blank lines between belong to it)."""
    line = reader.line_of(max(span["start"], span["end"] - 1)) + 1
    while line < reader.line_count and not reader.lines[line].strip(" \t"):
        line += 1
    return line


def _item_frame(reader: _Reader, span: dict) -> Frame:
    number, col = reader.column(span["start"])
    line = reader.lines[number]
    marker = ITEM_MARKER.match(line, col)
    parent = reader.frames[-1] if reader.frames else None
    base = reader.strip_prefix(line) if parent is None or parent.kind == "quote" else parent.column
    if not marker:
        return Frame("item", 0, col)
    spaces = len(marker.group(2))
    if not marker.group(3) or spaces > 4:
        spaces = 1
    column = marker.end(1) + spaces
    return Frame("item", max(0, column - base), column)


def _start(reader: _Reader, name: str, value, span: dict, state: dict) -> None:
    if name in LEAVES:
        state["leaf"] = name
        state["span"] = span
        if name == "Heading":
            state["level"] = int(value["level"][1:])
        elif name == "Table":
            line_map = reader.line_span(span)
            _check_table(reader, line_map)
            reader.emit("table_open", line_map)
        elif name == "CodeBlock":
            state["info"] = value.get("Fenced") if isinstance(value, dict) else None
            state["code"] = []
        return
    line_map = reader.line_span(span)
    if name == "BlockQuote":
        _check_quote(reader, line_map)
        reader.emit("blockquote_open", line_map)
        reader.frames.append(Frame("quote"))
    elif name == "List":
        reader.emit("bullet_list_open" if value is None else "ordered_list_open", line_map)
        state.setdefault("lists", []).append(value is None)
    elif name == "Item":
        reader.emit("list_item_open", line_map)
        reader.frames.append(_item_frame(reader, span))
    elif name == "FootnoteDefinition":
        number, col = reader.column(span["start"])
        label = FOOTNOTE_LABEL.match(reader.lines[number], col)
        # markdown-it takes no label with a space, and an indented
        # definition may be inside the one before (which it then replaces).
        line = reader.lines[number]
        indented = line[reader.strip_prefix(line) :].startswith((" ", "\t"))
        if not label or " " in label.group(1) or indented or any(f.kind == "footnote" for f in reader.frames):
            raise Unlike("footnote definition")
        token = reader.emit("footnote_reference_open", None, meta={"label": label.group(1) if label else value})
        token.map = [number, _footnote_end(reader, span)]
        parent = reader.frames[-1] if reader.frames else None
        reader.frames.append(Frame("footnote", 4, (parent.column if parent else 0) + 4))


def _end(reader: _Reader, name: str, state: dict, span: dict) -> None:
    if name in LEAVES:
        state["leaf"] = None
        if name == "Paragraph":
            content, line_map = reader.inline_text(span["start"], span["end"])
            reader.emit("paragraph_open", line_map)
            reader.emit("inline", line_map, content=content)
        elif name == "Heading":
            _heading(reader, span, state["level"])
        elif name == "Table":
            reader.emit("table_close")
        elif name == "CodeBlock" and state["info"] is not None:
            reader.emit("fence", reader.line_span(span), content="".join(state["code"]), info=state["info"])
        elif name == "HtmlBlock":
            # The first line from where the block starts (a footnote's
            # text starts after its label), the others inside the containers.
            first, col = reader.column(span["start"])
            line_map = reader.line_span(span)
            lines = [reader.lines[first][col:]]
            lines += [reader.lines[n][reader.strip_prefix(reader.lines[n]) :] for n in range(first + 1, line_map[1])]
            reader.emit("html_block", line_map, content="\n".join(lines) + "\n")
        return
    if name == "BlockQuote":
        reader.frames.pop()
        reader.emit("blockquote_close")
    elif name == "List":
        reader.emit("bullet_list_close" if state["lists"].pop() else "ordered_list_close")
    elif name == "Item":
        reader.frames.pop()
        reader.emit("list_item_close")
    elif name == "FootnoteDefinition":
        reader.frames.pop()
        reader.emit("footnote_reference_close")


def _table_part(reader: _Reader, kind: str, name: str, span: dict) -> None:
    if name == "TableHead":
        if kind == "Start":
            line_map = reader.line_span(span)
            reader.emit("thead_open", line_map)
            reader.emit("tr_open", [line_map[0], line_map[0] + 1])
        else:
            reader.emit("tr_close")
            reader.emit("thead_close")
    elif name == "TableRow":
        if kind == "Start":
            line = reader.line_of(span["start"])
            reader.emit("tr_open", [line, line + 1])
        else:
            reader.emit("tr_close")


def block_tokens(text: str) -> tuple[list[Token], dict]:
    """The body's block tokens, markdown-it's way (see the module doc), and
    its link reference definitions."""
    reader = _Reader(text)
    definitions = reference_definitions(reader)
    state: dict = {"leaf": None}
    leaf = None
    for event, span in PULLDOWN.events_with_range(text, merge_text=True):
        if leaf in INLINE_LEAVES:  # most events: only the leaf's own end matters here
            if type(event) is dict and "End" in event:
                value = event["End"]
                if (value if type(value) is str else next(iter(value))) == leaf:
                    _end(reader, leaf, state, span)
                    leaf = None
            continue
        if leaf == "Table":  # rows matter, not their cells' events
            if type(event) is dict:
                kind = "Start" if "Start" in event else "End" if "End" in event else None
                if kind is not None:
                    value = event[kind]
                    if value == "TableRow" or value == "TableHead":
                        _table_part(reader, kind, value, span)
                    elif value == "Table" or (type(value) is dict and "Table" in value):
                        _end(reader, "Table", state, span)
                        leaf = None
            continue
        if type(event) is str:  # SoftBreak, HardBreak, Rule
            if event == "Rule":
                reader.flush_tight()
                reader.emit("hr", reader.line_span(span))
            elif leaf is None:
                _extend_tight(reader, span)
            continue
        ((kind, value),) = event.items()
        if kind == "Start" or kind == "End":
            name = value if type(value) is str else next(iter(value))
            if leaf is None and name not in BLOCKS:  # inline markup of a tight item
                _extend_tight(reader, span)
                continue
            if leaf is not None and name != leaf:
                continue  # inline markup inside a leaf block
            if reader.tight is not None:
                reader.flush_tight()
            if kind == "Start":
                _start(reader, name, value[name] if type(value) is dict else None, span, state)
            else:
                _end(reader, name, state, span)
            leaf = state["leaf"]
        elif leaf == "CodeBlock" and kind == "Text":
            state["code"].append(value)
        elif leaf is None:
            _extend_tight(reader, span)
    reader.flush_tight()
    return reader.tokens, definitions


def _extend_tight(reader: _Reader, span: dict) -> None:
    if not reader.frames or reader.frames[-1].kind != "item":
        return
    if reader.tight is None:
        reader.tight = [span["start"], span["end"]]
    else:
        reader.tight[1] = max(reader.tight[1], span["end"])


def reference_definitions(reader: _Reader) -> dict:
    """The page's link reference definitions; Unlike when a line that is
    not blank follows one (markdown-it may end it there, pulldown-cmark may
    go on: a title, a setext underline)."""
    definitions = PULLDOWN.reference_definitions(reader.text)
    starts = {reader.line_of(definition["span"]["start"]) for definition in definitions.values()}
    for definition in definitions.values():
        after = reader.line_span(definition["span"])[1]
        if after < reader.line_count and reader.lines[after].strip(" \t") and after not in starts:
            raise Unlike("a line right after a link reference definition")
    return definitions


def page_env(definitions: dict, labels: list[str], md: MarkdownIt) -> dict:
    """The env markdown-it's block pass leaves for `md`'s inline parser: the
    footnote labels defined and the link references (first one wins)."""
    env: dict = {"footnotes": {"refs": {":" + label: -1 for label in labels}, "list": {}}} if labels else {}
    references: dict = {}
    for label, definition in definitions.items():
        href = md.normalizeLink(definition["dest"])
        key = normalizeReference(label)
        if key and key not in references and md.validateLink(href):
            references[key] = {"title": definition["title"], "href": href}
    if references:
        env["references"] = references
    return env

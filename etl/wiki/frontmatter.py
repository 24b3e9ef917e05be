"""Frontmatter: split a page into YAML frontmatter and body, and read the
YAML with YAML 1.2 semantics (``yes`` stays a string; dates become ISO
strings) while keeping each key's line, raw text and trailing comment.

Pure: works on text, never touches the file system.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

import frontmatter
import yaml as _pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, MappingStartEvent, ScalarEvent

from ..yaml12 import FAST_ENABLED, FAST_GUARD, Yaml12CLoader


class FrontmatterError(Exception):
    """A frontmatter problem, with the 1-based line of the page it concerns."""

    def __init__(self, line: int, message: str, code: str):
        super().__init__(message)
        self.line = line
        self.message = message
        self.code = code


@dataclass
class FieldEntry:
    key: str
    value: object  # plain Python: str, int, float, bool, None, list, dict
    raw: str  # source text of the value, comments removed
    comment: str | None  # trailing comment text without '#', lines joined by ' '
    line: int  # 1-based line of the key in the page
    comment_line: int | None  # 1-based line of the first comment
    position: int
    comment_source: str | None = None  # the comments as written, '#' included


@dataclass
class Frontmatter:
    fields: list[FieldEntry]
    body: str
    body_line: int  # 1-based page line where the body starts

    def get(self, key, default=None):
        for entry in self.fields:
            if entry.key == key:
                return entry.value
        return default

    def entry(self, key) -> FieldEntry | None:
        for entry in self.fields:
            if entry.key == key:
                return entry
        return None


class Yaml12Handler(frontmatter.YAMLHandler):
    """python-frontmatter handler that loads with ruamel.yaml (YAML 1.2)."""

    def load(self, fm, **kwargs):
        return _yaml().load(fm)


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    return yaml


HANDLER = Yaml12Handler()


# The fast path (etl/yaml12.py) reads most frontmatter; key lines come from the
# composed nodes' start marks. The ruamel round-trip path below stays the
# reference and the only producer of FrontmatterError messages.
def _fast_load(fm_text):
    """[(key, plain value, 0-based line in fm_text)], or None to use ruamel."""
    if not FAST_ENABLED or FAST_GUARD.search(fm_text):
        return None
    loader = Yaml12CLoader(fm_text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except (_pyyaml.YAMLError, ValueError, TypeError):
        return None
    finally:
        loader.dispose()
    if data is None:
        return []
    if not isinstance(data, dict) or len(data) != len(node.value):
        return None
    out = []
    for key_node, _value_node in node.value:
        key = key_node.value
        if (
            not isinstance(key_node, _pyyaml.ScalarNode) or key not in data
        ):  # non-string / resolved key (true, 1, null): ruamel decides
            return None
        out.append((key, plain(data[key]), key_node.start_mark.line))
    return out


def plain(value):
    """Convert ruamel's round-trip objects to plain JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if value is None:
        return None
    return str(value)


def value_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "string"


def to_json(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


_OUT_OF_QUOTE = re.compile(r"[\"'#]")
_IN_DQUOTE = re.compile(r'[\\"]')


def scan_comment(line: str, quote: str | None = None) -> tuple[str, str | None, str | None]:
    """(content, comment with its '#', quote still open at the end of the
    line). A comment starts at a '#' outside quotes and after whitespace;
    `quote` carries a quoted scalar over from the previous line. Jumps
    between the only characters that matter instead of stepping through
    every character (same results as the character loop)."""
    i = 0
    while True:
        if quote == '"':
            m = _IN_DQUOTE.search(line, i)
            if m is None:
                return line.rstrip(), None, quote
            j = m.start()
            if line[j] == "\\":
                i = j + 2
                continue
            quote, i = None, j + 1
            continue
        if quote:
            j = line.find(quote, i)
            if j < 0:
                return line.rstrip(), None, quote
            quote, i = None, j + 1
            continue
        m = _OUT_OF_QUOTE.search(line, i)
        if m is None:
            return line.rstrip(), None, None
        j = m.start()
        if line[j] == "#":
            if j == 0 or line[j - 1] in " \t":
                return line[:j].rstrip(), line[j:].strip(), None
        elif j == 0 or line[j - 1] in " \t[{,:-":
            quote = line[j]
        i = j + 1


def split_comment(line: str) -> tuple[str, str | None]:
    """Split one YAML source line into (content, comment text after '#')."""
    content, comment, _ = scan_comment(line)
    return content, (comment[1:].strip() if comment is not None else None)


DATE_LIKE = re.compile(r"(?<![\w.-])\d{4}-\d{1,2}-\d{1,2}(?![\w.-])")


def _is_date(text: str) -> bool:
    try:
        year, month, day = (int(part) for part in text.split("-"))
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def parse_frontmatter(text: str) -> Frontmatter:
    """Split and parse a page. A page without frontmatter has no fields."""
    if not HANDLER.detect(text):
        if text.startswith("---"):
            raise FrontmatterError(1, "frontmatter opened with '---' but never closed", "yaml-unclosed")
        return Frontmatter(fields=[], body=text, body_line=1)
    try:
        fm_text, body = HANDLER.split(text)
    except ValueError:
        raise FrontmatterError(1, "frontmatter opened with '---' but never closed", "yaml-unclosed") from None
    head = text[: len(text) - len(body)]
    body_line = head.count("\n") + 1
    # Page line where fm_text's first line sits (the opening '---' line's
    # remainder when the splitter keeps the newline).
    yaml_first_line = text[: text.index(fm_text)].count("\n") + 1 if fm_text else 2
    fast = _fast_load(fm_text)
    if fast is not None:
        return _build(fast, fm_text, body, body_line, yaml_first_line)
    try:
        data = HANDLER.load(fm_text)
    except MarkedYAMLError as error:
        raise _marked_error(error, fm_text, yaml_first_line) from None
    except YAMLError as error:
        raise FrontmatterError(yaml_first_line, f"invalid YAML: {error}", "yaml-syntax") from None
    except (ValueError, OverflowError) as error:
        # YAML reads the value as a date it cannot build ('2026-02-30').
        line, written = next(
            (
                (yaml_first_line + number, m.group(0))
                for number, row in enumerate(fm_text.split("\n"))
                if (m := DATE_LIKE.search(row)) and not _is_date(m.group(0))
            ),
            (yaml_first_line, "a value"),
        )
        raise FrontmatterError(line, f"invalid YAML: {written} is not a date ({error})", "yaml-syntax") from None
    if data is None:
        return Frontmatter(fields=[], body=body, body_line=body_line)
    if not isinstance(data, dict):
        raise FrontmatterError(yaml_first_line, "frontmatter is not a mapping of keys to values", "yaml-not-mapping")

    return _build(
        [(k, plain(data[k]), data.lc.key(k)[0]) for k in data.keys()], fm_text, body, body_line, yaml_first_line
    )


def _marked_error(error: MarkedYAMLError, fm_text: str, yaml_first_line: int) -> FrontmatterError:
    """A YAML error at the line where the broken construct starts (the
    opening quote or bracket, the key whose value breaks), its message
    naming the line where parsing stopped: an unclosed quote is only noticed
    lines later, where the next quote or the end of the frontmatter is."""
    stop = error.problem_mark or error.context_mark
    stop_line = yaml_first_line + (stop.line if stop else 0)
    problem = (error.problem or str(error)).strip()
    if "duplicate key" in str(error):  # the second key is the line to fix
        return FrontmatterError(stop_line, f"invalid YAML: {problem}", "yaml-duplicate-key")
    start = _construct_start(error, fm_text)
    if start is None or yaml_first_line + start[0] >= stop_line:
        return FrontmatterError(stop_line, f"invalid YAML: {problem}", "yaml-syntax")
    line, what = start
    message = f"invalid YAML: {what} starts on this line; parsing stopped at line {stop_line}: {problem}"
    return FrontmatterError(yaml_first_line + line, message, "yaml-syntax")


# What ruamel's contexts ("while scanning a quoted scalar") name, in a curator's words.
_CONSTRUCTS = {
    "quoted scalar": "a quoted value",
    "flow sequence": "a [ list",
    "flow mapping": "a { mapping",
    "simple key": "a key",
    "block collection": "a list of '- ' items",
}


def _construct_start(error: MarkedYAMLError, fm_text: str) -> tuple[int, str] | None:
    """(0-based line in fm_text, what starts there) of the construct the
    parser was reading when it failed, from the error's context mark. A
    block mapping's mark is where the mapping starts (the first key), so
    there the construct is the value of the last key read before the error,
    found by replaying ruamel's events up to the failure."""
    mark, context = error.context_mark, (error.context or "").strip()
    if mark is None or not context:
        return None
    construct = context.removeprefix("while scanning ").removeprefix("while parsing ").removeprefix("a ")
    if construct != "block mapping":
        return mark.line, _CONSTRUCTS.get(construct, construct if construct.startswith("an ") else f"a {construct}")
    key = _last_key_of_mapping(fm_text, (mark.line, mark.column))
    return (key[0], f"the value of '{key[1]}'") if key else (mark.line, "a mapping")


def _last_key_of_mapping(fm_text: str, start: tuple[int, int]) -> tuple[int, str] | None:
    """(line, key) of the last key the mapping starting at `start` had read
    when parsing failed."""
    open_collections: list[list] = []  # [is mapping, (line, column), nodes read]
    last_key = None
    try:
        for event in _yaml().parse(fm_text):
            if isinstance(event, (ScalarEvent, AliasEvent, CollectionStartEvent)) and open_collections:
                parent = open_collections[-1]
                if parent[0] and parent[1] == start and parent[2] % 2 == 0:
                    last_key = (event.start_mark.line, str(getattr(event, "value", "") or "?"))
            if isinstance(event, CollectionStartEvent):
                where = (event.start_mark.line, event.start_mark.column)
                open_collections.append([isinstance(event, MappingStartEvent), where, 0])
                continue
            if isinstance(event, CollectionEndEvent) and open_collections:
                open_collections.pop()
            if isinstance(event, (ScalarEvent, AliasEvent, CollectionEndEvent)) and open_collections:
                open_collections[-1][2] += 1
    except YAMLError:
        pass
    return last_key


def _build(items, fm_text, body, body_line, yaml_first_line) -> Frontmatter:
    """Fields from [(key, plain value, 0-based line in fm_text)]."""
    lines = fm_text.split("\n")
    keys = [k for k, _, _ in items]
    starts = [s for _, _, s in items]
    fields = []
    for position, key in enumerate(keys, start=1):
        start = starts[position - 1]
        end = starts[position] if position < len(keys) else len(lines)
        span = lines[start:end]
        contents, comments, comment_line, quote = [], [], None, None
        for offset, source_line in enumerate(span):
            content, comment, quote = scan_comment(source_line, quote)
            contents.append(content)
            if comment is not None:
                comments.append(comment)
                if comment_line is None:
                    comment_line = yaml_first_line + start + offset
        first = contents[0]
        colon = first.find(":", first.find(str(key)) + len(str(key)) if str(key) in first else 0)
        contents[0] = first[colon + 1 :] if colon >= 0 else first
        raw = "\n".join(c for c in contents).strip()
        fields.append(
            FieldEntry(
                key=str(key),
                value=items[position - 1][1],
                raw=raw,
                comment=" ".join(c[1:].strip() for c in comments) if comments else None,
                comment_source=" ".join(comments) if comments else None,
                line=yaml_first_line + start,
                comment_line=comment_line,
                position=position,
            )
        )
    return Frontmatter(fields=fields, body=body, body_line=body_line)

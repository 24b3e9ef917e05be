"""The seeded, stratified sample of footnote definitions behind the citation
gold set (tests/gold/footnotes.jsonl).

Rule, so anyone can redraw the same sample from the same snapshot:
1. Every `.md` file of the wiki that data/sources.yml does not skip, in
   sorted path order; every line that opens a footnote definition
   (`[^label]:` at the start of a line, outside code fences).
2. Strata are the page's folder (`molecules/proteins`, `studies`, ...).
   Each stratum gets round(SAMPLE_SIZE * its share of all definitions)
   definitions, at least MIN_PER_FOLDER (or all it has).
3. Within a stratum, definitions are drawn with random.Random(SEED).sample
   from the stratum's definitions in path, line order.

The sample names (path, line, label, sha1 of the definition line); it never
copies the record itself. Run: python tests/gold/sample_footnotes.py WIKI
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

SEED = 20261122
SAMPLE_SIZE = 320
MIN_PER_FOLDER = 3
DEFINITION = re.compile(r"^\[\^([^\]\s]+)\]:")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
SOURCES = Path(__file__).resolve().parents[2] / "data" / "sources.yml"


def skip_patterns() -> list[str]:
    return re.findall(r'pattern: "([^"]+)"', SOURCES.read_text(encoding="utf-8"))


def skipped(path: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if fnmatch.fnmatchcase(path, pattern):
            return True
        if pattern.startswith("**/") and fnmatch.fnmatchcase(path, pattern[3:]):
            return True
    return False


def line_digest(line: str) -> str:
    return hashlib.sha1(line.rstrip("\n").encode("utf-8")).hexdigest()[:12]


def definitions(wiki: Path) -> list[dict]:
    patterns = skip_patterns()
    found = []
    for file in sorted(wiki.rglob("*.md")):
        path = file.relative_to(wiki).as_posix()
        if skipped(path, patterns):
            continue
        fenced = False
        for number, line in enumerate(file.read_text(encoding="utf-8").split("\n"), start=1):
            if FENCE.match(line):
                fenced = not fenced
                continue
            match = None if fenced else DEFINITION.match(line)
            if match:
                found.append({"path": path, "line": number, "label": match.group(1), "line_sha1": line_digest(line)})
    return found


def stratified(every: list[dict], folder_of, size: int, seed: int, minimum: int) -> list[dict]:
    """Each folder's share of `size` items (at least `minimum`, or all it
    has), drawn with random.Random(seed) folder by folder in sorted order;
    returned in path, line order."""
    by_folder: dict[str, list[dict]] = defaultdict(list)
    for item in every:
        by_folder[folder_of(item)].append(item)
    rng = random.Random(seed)
    chosen = []
    for folder in sorted(by_folder):
        items = by_folder[folder]
        quota = min(len(items), max(minimum, round(size * len(items) / len(every))))
        chosen += rng.sample(items, quota)
    return sorted(chosen, key=lambda item: (item["path"], item["line"]))


def sample(wiki: Path) -> list[dict]:
    def folder(item):
        return item["path"].rsplit("/", 1)[0] if "/" in item["path"] else "."

    return stratified(definitions(wiki), folder, SAMPLE_SIZE, SEED, MIN_PER_FOLDER)


if __name__ == "__main__":
    for item in sample(Path(sys.argv[1])):
        print(json.dumps(item, ensure_ascii=False))

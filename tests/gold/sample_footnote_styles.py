"""The seeded, stratified sample behind tests/gold/footnotes_styles.jsonl: footnote
definitions written in the styles the first citation sample (footnotes.jsonl)
holds too few of to measure.

Rule, so anyone can redraw the same sample from the same snapshot. It reads the
definitions as text with its own patterns and never runs the ETL:
1. The definitions are the ones sample_footnotes.definitions() finds (every page
   data/sources.yml does not skip, outside code fences), each with its indented
   continuation lines. The definitions sample_footnotes.sample() draws (the
   first gold set) are left out.
2. Each definition's text after `]:` is classed by how it is written (see
   styles()); its draw class is the first of STYLE_CLASSES it falls in:
   - empty: no text after `]:` (nor indented continuation);
   - n-words: states no `n=` but counts people in words ("in 84 patients",
     "2,033 men", "48 patients with ...");
   - prose: not cut into ` · ` segments (sentences, or parts joined by `;`/`—`);
   - several-works: two or more different DOIs or PMIDs;
   - design-n-semicolon: a design and an n written as `;`-separated parts of
     one segment ("observational; n=3,947; ...");
   - design-in-sentence: no ` · ` segment that is a design (a design word
     in its first four words, at most 60 characters outside parentheses),
     but a design word inside a longer sentence or part;
   - no-doi: no DOI at all.
   Definitions in none of these classes are not drawn.
3. Within each class, its STYLE_CLASSES size of definitions (or all it has)
   are drawn with sample_footnotes.stratified(): strata are the page's
   top-level folder (molecules, interventions, ...), each getting
   round(size * its share), at least MIN_PER_FOLDER, with
   random.Random(SEED + the class's index in STYLE_CLASSES).
4. The sample is listed class by class in STYLE_CLASSES order, each class in
   path, line order.

A sample names (path, line, label, sha1 of the definition line, style); it never
copies the record. Run: python tests/gold/sample_footnote_styles.py WIKI
(or WIKI --counts for the style counts of the whole wiki against the first sample).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from sample_footnotes import definitions, sample, stratified  # noqa: I001 (run as a script)

SEED = 20261213
MIN_PER_FOLDER = 0
# Draw class -> how many to draw. The two styles issue 23 names (prose
# records, n written in words) get the most.
STYLE_CLASSES = {
    "empty": 6,
    "n-words": 16,
    "prose": 16,
    "several-works": 10,
    "design-n-semicolon": 10,
    "design-in-sentence": 12,
    "no-doi": 10,
}
SEGMENT = " · "
DESIGN_WORD = re.compile(
    r"\b(?:RCTs?|randomi[sz]ed|trials?|meta-analys[ie]s|meta-analytic|meta-regression|systematic[ -]review|"
    r"umbrella review|pooled analysis|cohort|case[- ]control|cross[- ]sectional|observational|longitudinal|"
    r"prospective|retrospective|interventional|experimental|GWAS|EWAS|PheWAS|Mendelian[- ]randomi[sz]ation|MR|"
    r"in[- ]vivo|in[- ]vitro|ex[- ]vivo|in[- ]silico|computational|review|perspective|commentary|editorial|"
    r"case[- ]report|case[- ]series|phase [1-4I]+|open-label|pilot|design\s*:)",
    re.IGNORECASE,
)
N_EQUALS = re.compile(r"\bn\s*[=≈~:≥>]", re.IGNORECASE)
PEOPLE = (
    r"(?:patients|men|women|adults|participants|subjects|individuals|people|persons|volunteers|children|"
    r"centenarians|twins|cases|controls|donors|veterans|infants|nurses|residents|athletes|smokers|survivors|"
    r"offspring|respondents|decedents|newborns|boys|girls|families|siblings|employees|recipients|carriers|"
    r"mothers|monkeys|dogs)"
)
# A count, then up to three qualifying words, then who was counted; a count
# inside a name (C57BL/6 mice), a decimal or an age ("after age 25") is not one.
N_WORDS = re.compile(
    r"(?<![\w/.\-−–])(?<!age )(?<!aged )(?<!per )(\d{1,3}(?:,\d{3})+|\d+)(?![.,]\d)(?:\s*million)?\s+"
    r"(?:(?!(?:in|of|vs|per|to|from|at|after|and|or|with)\b)[A-Za-z][\w'\-]*\s+){0,3}?" + PEOPLE + r"\b",
    re.IGNORECASE,
)
DOI = re.compile(r"10\.\d{4,9}/[^\s·]+")
PMID = re.compile(r"PMID[:\s]*(\d{5,9})", re.IGNORECASE)


def records(wiki: Path) -> list[dict]:
    """Every definition with the text of its record (line plus indented continuation)."""
    pages: dict[str, list[str]] = {}
    found = definitions(wiki)
    for item in found:
        lines = pages.setdefault(item["path"], (wiki / item["path"]).read_text(encoding="utf-8").split("\n"))
        text = [lines[item["line"] - 1].split("]:", 1)[1]]
        for line in lines[item["line"] :]:
            if not (line.startswith(("  ", "\t")) and line.strip()):
                break
            text.append(line)
        item["text"] = "\n".join(text).strip()
        item["continued"] = len(text) > 1
    return found


def _without_parentheses(text: str) -> str:
    while True:
        shorter = re.sub(r"\([^()]*\)", "", text)
        if shorter == text:
            return text.strip()
        text = shorter


def _parts(segment: str) -> list[str]:
    """A segment's `;`-separated parts, not splitting inside brackets."""
    parts, depth, current = [], 0, ""
    for char in segment:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        if char == ";" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip().rstrip(".") for part in parts if part.strip()]


def _is_design(part: str) -> bool:
    """A short part that is a design ("in-vivo (mouse)", "prospective cohort")."""
    bare = _without_parentheses(part)
    match = DESIGN_WORD.search(bare)
    return bool(match) and len(bare) <= 60 and len(bare[: match.start()].split()) <= 3


def _is_n(part: str) -> bool:
    return bool(re.match(r"n\s*[=≈~]", part, re.IGNORECASE) or N_WORDS.match(part))


def styles(text: str) -> dict:
    """How a record is written, from its text alone."""
    if not text:
        return {"layout": "empty"}
    segments = [segment.strip() for segment in text.split(SEGMENT)]
    design_segment = len(segments) > 1 and any(_is_design(segment) for segment in segments)
    split = [_parts(segment) for segment in segments]
    works = {match.group(0).rstrip(".,;)").lower() for match in DOI.finditer(text)}
    return {
        "layout": "segmented" if len(segments) > 1 else "prose",
        "n": "n-equals" if N_EQUALS.search(text) else "n-words" if N_WORDS.search(text) else "none",
        "design": "design-segment" if design_segment else "design-in-sentence" if DESIGN_WORD.search(text) else "none",
        "doi": bool(works),
        "several_works": len(works) > 1 or len(set(PMID.findall(text))) > 1,
        "design_n_semicolon": any(
            len(parts) > 1 and any(map(_is_design, parts)) and any(map(_is_n, parts)) for parts in split
        ),
    }


def style_class(text: str) -> str | None:
    """The first of STYLE_CLASSES a record falls in, None if none."""
    found = styles(text)
    member = {
        "empty": found["layout"] == "empty",
        "n-words": found.get("n") == "n-words",
        "prose": found["layout"] == "prose",
        "several-works": found.get("several_works", False),
        "design-n-semicolon": found.get("design_n_semicolon", False),
        "design-in-sentence": found.get("design") == "design-in-sentence",
        "no-doi": found["layout"] != "empty" and not found["doi"],
    }
    return next((name for name in STYLE_CLASSES if member[name]), None)


def style_sample(wiki: Path) -> list[dict]:
    first = {(item["path"], item["line"]) for item in sample(wiki)}
    pool: dict[str, list[dict]] = {name: [] for name in STYLE_CLASSES}
    for item in records(wiki):
        name = style_class(item["text"])
        if name and (item["path"], item["line"]) not in first:
            pool[name].append({key: item[key] for key in ("path", "line", "label", "line_sha1")} | {"style": name})
    drawn = []
    for index, (name, size) in enumerate(STYLE_CLASSES.items()):
        drawn += stratified(pool[name], top_folder, size, SEED + index, MIN_PER_FOLDER)
    return drawn


def top_folder(item: dict) -> str:
    return item["path"].split("/", 1)[0] if "/" in item["path"] else "."


def counts(wiki: Path) -> str:
    """A Markdown table: how many records of each style, in the wiki and in the first sample."""
    first = {(item["path"], item["line"]) for item in sample(wiki)}
    every = records(wiki)
    rows: dict[tuple[str, str], list[int]] = {}
    for item in every:
        found = styles(item["text"])
        keys = [(feature, str(value)) for feature, value in found.items()]
        keys += [("continuation lines", str(item["continued"])), ("draw class", str(style_class(item["text"])))]
        for key in keys:
            tally = rows.setdefault(key, [0, 0])
            tally[0] += 1
            tally[1] += (item["path"], item["line"]) in first
    lines = [
        f"| style | value | wiki ({len(every)}) | share | first sample ({len(first)}) | share |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (feature, value), (wiki_count, sample_count) in sorted(rows.items()):
        lines.append(
            f"| {feature} | {value} | {wiki_count} | {wiki_count / len(every):.1%} | "
            f"{sample_count} | {sample_count / len(first):.1%} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if "--counts" in sys.argv:
        print(counts(Path(sys.argv[1])))
    else:
        for item in style_sample(Path(sys.argv[1])):
            print(json.dumps(item, ensure_ascii=False))

"""The seeded, stratified samples behind the trial and outcome gold sets
(tests/gold/trials.jsonl, tests/gold/outcomes.jsonl); TRIALS.md is the
labelling guide.

Rule, so anyone can redraw the same samples from the same snapshot. It reads
the pages as text with its own patterns and never runs the ETL:
1. Every `.md` file of the wiki that data/sources.yml does not skip, in
   sorted path order, outside frontmatter and code fences.
2. A trial candidate is
   - footnote: a footnote definition (with its indented continuation lines)
     that names an NCT id or says RCT, randomised or trial;
   - table-row: a row of a pipe table whose header has a cell saying trial,
     study or NCT, when the row names an NCT id, a phase, RCT, randomised or
     trial;
   - study-page: a page under studies/ whose frontmatter states
     `study-design: rct` or an `nct-id` (its line is 1);
   - prose: any other line that names an NCT id.
   An outcome candidate is a line of a trial's context that states a
   statistic (a confidence interval, a p-value, or an HR, OR, RR, SMD, MD
   or WMD with a number): a footnote, table row or prose line that is a
   trial candidate by the words above (a prose line may say RCT,
   randomised or trial instead of naming an NCT id), or any body line of a
   study page that is a trial candidate.
3. Strata are the page's top-level folder (molecules, interventions,
   studies, ...). Each stratum gets round(size * its share) candidates, at
   least MIN_PER_FOLDER (or all it has); within it, candidates are drawn
   with random.Random(SEED).sample in path, line order.

A sample names (path, line, kind, sha1 of the line); it never copies the
text. Run: python tests/gold/sample_trials.py WIKI [trials|outcomes]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from sample_footnotes import DEFINITION, FENCE, line_digest, skip_patterns, skipped, stratified  # noqa: I001 (run as a script)

SEED = 20261205
TRIAL_SAMPLE_SIZE = 190  # at least 150 references to a trial once the others are labelled not-a-trial
OUTCOME_SAMPLE_SIZE = 200  # lines; each states one or more outcomes (at least 250 trial outcomes in all)
MIN_PER_FOLDER = 2
NCT = re.compile(r"\bNCT\d{8}\b")
TRIAL_WORDS = re.compile(r"\bRCTs?\b|\brandomi[sz]ed\b|\btrials?\b|\bNCT\d{8}\b", re.IGNORECASE)
TRIAL_ROW_WORDS = re.compile(r"\bRCTs?\b|\brandomi[sz]ed\b|\btrials?\b|\bNCT\d{8}\b|\bphase\b", re.IGNORECASE)
TRIAL_HEADER = re.compile(r"\btrials?\b|\bstudy\b|\bNCT\b", re.IGNORECASE)
STATISTIC = re.compile(
    r"\b95\s*%\s*CI\b|\bCI\b\s*[:=]?\s*[-−–]?\d|\b[Pp]\s*[=<>≤≥]\s*[0.]|"
    r"\b(?:a?HR|a?OR|RR|SMD|WMD|MD)\b\s*[=:]?\s*[-−–]?\d"
)
SEPARATOR_ROW = re.compile(r"^\s*\|?\s*:?-{2,}")


def _lines(wiki: Path):
    """(path, folder, [(line number, text, where)]) of every page, where is
    frontmatter, fence, footnote, table or prose."""
    patterns = skip_patterns()
    for file in sorted(wiki.rglob("*.md")):
        path = file.relative_to(wiki).as_posix()
        if skipped(path, patterns):
            continue
        lines = file.read_text(encoding="utf-8").split("\n")
        marked, fenced, in_frontmatter, in_footnote = [], False, lines[:1] == ["---"], False
        for number, line in enumerate(lines, start=1):
            if in_frontmatter:
                marked.append((number, line, "frontmatter"))
                if number > 1 and line.strip() == "---":
                    in_frontmatter = False
                continue
            if FENCE.match(line):
                fenced = not fenced
                marked.append((number, line, "fence"))
                continue
            if fenced:
                marked.append((number, line, "fence"))
                continue
            if DEFINITION.match(line):
                in_footnote = True
                marked.append((number, line, "footnote"))
            elif in_footnote and line.startswith(("  ", "\t")) and line.strip():
                marked.append((number, line, "footnote-continued"))
            else:
                in_footnote = False
                marked.append((number, line, "table" if line.lstrip().startswith("|") else "prose"))
        yield path, path.split("/", 1)[0] if "/" in path else ".", marked


def _footnote_text(marked, index) -> str:
    text = [marked[index][1]]
    for _, line, where in marked[index + 1 :]:
        if where != "footnote-continued":
            break
        text.append(line)
    return "\n".join(text)


def _table_headers(marked) -> dict[int, str]:
    """Each table row's line number -> its table's header row."""
    headers, header = {}, None
    for number, line, where in marked:
        if where != "table":
            header = None
            continue
        if header is None:
            header = line
            continue
        if not SEPARATOR_ROW.match(line):
            headers[number] = header
    return headers


def _trial_context(item_kind: str, text: str, header: str | None, kind: str) -> bool:
    """Whether a footnote, table row or prose line is about a trial."""
    if item_kind == "footnote":
        return bool(TRIAL_WORDS.search(text))
    if item_kind == "table-row":
        return bool(TRIAL_HEADER.search(header) and TRIAL_ROW_WORDS.search(text))
    return bool((NCT if kind == "trials" else TRIAL_WORDS).search(text))


def candidates(wiki: Path, kind: str) -> list[dict]:
    found = []
    for path, folder, marked in _lines(wiki):
        headers = _table_headers(marked)
        frontmatter = "\n".join(line for _, line, where in marked if where == "frontmatter")
        trial_study = path.startswith("studies/") and bool(
            re.search(r"^study-design:\s*rct\b|^nct-id:\s*\S", frontmatter, re.M)
        )
        if kind == "trials" and trial_study:
            found.append({"path": path, "line": 1, "kind": "study-page", "folder": folder, "sha": marked[0][1]})
        for position, (number, line, where) in enumerate(marked):
            if where == "footnote":
                text, item_kind = _footnote_text(marked, position), "footnote"
            elif where == "table" and number in headers:
                text, item_kind = line, "table-row"
            elif where == "prose":
                text, item_kind = line, "prose"
            else:
                continue
            trial_context = _trial_context(item_kind, text, headers.get(number), kind)
            if kind == "outcomes":
                trial_context = trial_context or trial_study
                if not STATISTIC.search(text):
                    continue
            if not trial_context:
                continue
            found.append({"path": path, "line": number, "kind": item_kind, "folder": folder, "sha": line})
    for item in found:
        item["line_sha1"] = line_digest(item.pop("sha"))
    return found


def sample(wiki: Path, kind: str) -> list[dict]:
    size = TRIAL_SAMPLE_SIZE if kind == "trials" else OUTCOME_SAMPLE_SIZE
    return stratified(candidates(wiki, kind), lambda item: item.pop("folder"), size, SEED, MIN_PER_FOLDER)


if __name__ == "__main__":
    for item in sample(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "trials"):
        print(json.dumps(item, ensure_ascii=False))

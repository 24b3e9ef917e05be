"""Rows stage for trials, prose: an NCT id anywhere in a page's text, and the
paragraphs and sentences that state a result of a trial they cite or name.
A mixin of _PageTrials (etl/rows/trial_mentions.py), whose add() makes
each a TrialMention of kind 'prose'."""

from __future__ import annotations

import re

from ..wiki.markdown import SENTENCE_END, sentence_claim
from ..wiki.syntax import FOOTNOTE_REF, GAP_TAG, REGISTRY_ID
from ..wiki.trial_names import name_before_id, trial_named_in
from ..wiki.trial_outcomes import Outcome, read_outcomes
from ..wiki.trials import (
    ACRONYM_BEFORE_ID,
    N_IN_TEXT,
    NOT_RANDOMISED,
    RANDOMISED,
    Facts,
    find_phase,
    find_registry_status,
    sample_size_facts,
    unmarked,
)
from .result import TrialMention
from .study_trials import code_lines, non_prose_lines


class ProseMentions:
    """Trial mentions in a page's prose (needs the page's body, mentions,
    tags by line and add(), as _PageTrials has them)."""

    def prose_ids(self) -> None:
        """NCT ids in prose, and any NCT id a footnote or table row above did
        not take as its trial's: every registered trial the wiki names is a row."""
        body = self.body
        spans = {d.line: d.end_line for d in body.footnote_defs} | {t.line: t.end_line for t in body.tables}
        claimed = {
            (line, m.registry_id)
            for m in self.mentions
            if m.registry_id
            for line in range(m.source_line, spans.get(m.source_line, m.source_line) + 1)
        }
        skip = code_lines(body)
        body_lines = self.parsed.frontmatter.body.split("\n")
        for offset, text in enumerate(body_lines):
            line = self.parsed.frontmatter.body_line + offset
            if line in skip:
                continue
            for match in REGISTRY_ID.finditer(text):
                if (line, match.group(0)) in claimed:
                    continue
                claimed.add((line, match.group(0)))
                sentence = sentence_claim(text, match.start(), match.end())
                # Its results, when the sentence is about this trial alone (not a table's cells).
                alone = not text.lstrip().startswith("|") and len(REGISTRY_ID.findall(sentence)) == 1
                self.add(
                    "prose",
                    line,
                    sentence,
                    _prose_facts(sentence, match.group(0)),
                    _results(sentence) if alone else [],
                    registry_id=match.group(0),
                    gap_tags=sorted(set(self.tags_by_line.get(line, []))),
                )

    def prose_results(self) -> None:
        """Paragraphs and sentences stating a result of the one trial they
        cite ('X lowered HbA1c by 0.46 pp (95% CI ...) [^trial]') or name
        ('The DEMO trial showed ... HR 0.69 (95% CI ...)'). A sentence citing
        several footnotes, or a footnote that is not a trial record, is not
        read: its numbers may be another study's."""
        trial_labels = {m.label: m for m in self.mentions if m.kind == "footnote"}
        skip = non_prose_lines(self.body)
        body_lines = self.parsed.frontmatter.body.split("\n")
        for offset, text in enumerate(body_lines):
            line = self.parsed.frontmatter.body_line + offset
            if line in skip or not text.strip():
                continue
            if "[^" in text:
                self._cited_results(line, text, trial_labels)
            elif not REGISTRY_ID.search(text):  # a sentence naming an NCT id is read by prose_ids
                self._named_results(line, text)

    def _cited_results(self, line: int, text: str, trial_labels: dict[str, TrialMention]) -> None:
        # A paragraph or item citing one footnote is read whole ('**FIELD**
        # [^field2005]: ... p=0.16'); one citing several, sentence by sentence.
        sentences: dict[str, set[str]] = {}
        refs = list(FOOTNOTE_REF.finditer(text))
        if len({m.group(1) for m in refs}) == 1:
            sentences[text] = {refs[0].group(1)}
        for match in refs if len(sentences) == 0 else ():
            sentences.setdefault(sentence_claim(text, match.start(), match.end()), set()).add(match.group(1))
        for sentence, labels in sentences.items():
            cited = trial_labels.get(next(iter(labels))) if len(labels) == 1 else None
            if cited is not None and (outcomes := _results(sentence)):
                self.add(
                    "prose",
                    line,
                    sentence,
                    Facts(),
                    outcomes,
                    registry_id=cited.registry_id,
                    work=cited.work,
                    study_page=cited.study_page,
                    gap_tags=sorted(set(self.tags_by_line.get(line, []))),
                    keys=[f"footnote:{self.page}#{cited.label}"]
                    + [k for k in cited.keys if k.startswith("report-of:")],
                )

    def _named_results(self, line: int, text: str) -> None:
        """A sentence citing nothing that names a trial ('the DEMO trial',
        'in DEMO-2 (RCT)') and states its result: a mention of that trial,
        one with the page's other mentions of that acronym, and with the one
        trial elsewhere of that name (etl/corpus/trials.py)."""
        for sentence in SENTENCE_END.split(text):
            facts = Facts()
            facts.set("acronym", trial_named_in(sentence))
            if facts.values.get("acronym") and (outcomes := _results(sentence)):
                if RANDOMISED.search(sentence) and not NOT_RANDOMISED.search(sentence):
                    facts.set("randomised", True)
                if N_IN_TEXT.search(sentence):
                    facts.merge(sample_size_facts(sentence))
                self.add(
                    "prose",
                    line,
                    sentence.strip(),
                    facts,
                    outcomes,
                    gap_tags=sorted(set(self.tags_by_line.get(line, []))),
                    keys=[f"named:{facts.values['acronym'].upper()}"],
                )


# A paragraph's bold lead names its trial or topic, not a measure:
# '**FIELD Trial (Keech 2005)**:', '**Bone profile:** The PEARL trial ...'.
BOLD_LEAD = re.compile(r"^\s*\*\*[^*]{1,120}\*\*\s*[:—–-]?\s*")


def _results(text: str) -> list[Outcome]:
    """The outcomes a paragraph or sentence states, sentence by sentence,
    without its footnote references and bold lead."""
    return [
        outcome
        for part in SENTENCE_END.split(_plain_sentence(text))
        for outcome in read_outcomes(BOLD_LEAD.sub("", part))[0]
    ]


def _plain_sentence(sentence: str) -> str:
    """A sentence without its footnote references, gap tags and list marker."""
    text = FOOTNOTE_REF.sub("", GAP_TAG.sub("", sentence))
    return re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "", text).strip()


def _prose_facts(sentence: str, registry_id: str) -> Facts:
    """What the sentence naming an NCT id says of the trial: its acronym,
    registry status, phase, n and whether it was randomised."""
    facts = Facts()
    plain = unmarked(sentence)  # '**SAVVE** trial (NCT...)'
    acronym = ACRONYM_BEFORE_ID.search(plain[: plain.find(registry_id) + 11])
    if acronym and not re.fullmatch(r"NCT\d+|RCT|II|III|IV", acronym.group("acronym")):
        facts.set("acronym", acronym.group("acronym"))
    facts.set("acronym", name_before_id(sentence, registry_id))
    if status := find_registry_status(sentence):
        facts.set("registry_status", status[0])
        facts.set("registry_status_text", status[1])
    facts.set("phase", find_phase(sentence))
    if sentence.lstrip().startswith("|"):
        return facts  # a row of a table that lists no trials: its cells are about other things
    if N_IN_TEXT.search(sentence):
        facts.merge(sample_size_facts(sentence))
    if NOT_RANDOMISED.search(sentence):
        facts.set("randomised", False)
    elif RANDOMISED.search(sentence):
        facts.set("randomised", True)
    return facts

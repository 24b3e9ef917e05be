"""Gap events: what a comparison of two snapshots did to the wiki's gap
tags, defined once. `etl history` stores them per commit (the gap_events
table, and the counts in commits and page_history), a release build stores
them against the previous release, and `etl diff`'s summary and the
release changelog count them; the site reads the table.

A gap's claim is part of its stable key, so editing the claim shows in the
gaps diff as one row removed and one added. Here such a pair is one gap
changed, not one closed and one opened, when both are on the same page
with the same tag and their claims share most of their words (SAME_GAP,
below). Every added and removed gaps row is exactly one event:

- opened: a tag added (on a new page too);
- closed: a tag removed from a page that is still there;
- changed: the same tag on the same page with its claim reworded;
- moved: a tag carried unchanged to the new name of a renamed page (a
  claim also reworded on the way is `changed`, with its previous page);
- page-removed: a tag that went with its page (not closed: the page was
  retired or merged, the gap not answered).

Pure: works on TableDiffs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..wiki.syntax import FOOTNOTE_REF, GAP_TAG, WIKILINK
from .diff import TableDiff, renames

# Two claims are one gap reworded when at least this share of the shorter
# claim's words are in the longer one (claim_similarity). On the wiki's 108
# commits (docs/history.md) the pairs read as rewordings score 0.71 to 1,
# the claims rewritten around a new finding 0.64 at most.
SAME_GAP = 0.7
# Words that carry no claim of their own; 'no' and 'not' are kept.
FUNCTION_WORDS = frozenset(
    "a an and are as at be been but by for from has have in into is it its of on or "
    "than that the their these this those to was were which with".split()
)
_WORD = re.compile(r"\w+")


def claim_words(claim: str) -> frozenset[str]:
    """The words of a claim as a reader takes it in: gap tags and footnote
    references left out, a link read as its alias or else its page's name
    (so '[[../a/rapamycin]]', '[[rapamycin]]' and '[[rapamycin|rapamycin]]'
    are one word), markup and case ignored, function words and numbers
    dropped (an 'as of' date moved on is the commonest rewording)."""
    text = FOOTNOTE_REF.sub(" ", GAP_TAG.sub(" ", claim))
    text = WIKILINK.sub(lambda m: " " + (m.group(3) or m.group(1).rstrip("/").rsplit("/", 1)[-1]) + " ", text)
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in FUNCTION_WORDS and not w.isdigit())


def claim_similarity(old: str, new: str) -> float:
    """The share of the shorter claim's words found in the longer one (the
    overlap coefficient): 1 for a claim extended or trimmed, a link
    rewritten or markup changed; low when the words that differ are what
    the claims are about."""
    a, b = claim_words(old), claim_words(new)
    if not a or not b:
        return 1.0 if a == b else 0.0
    return len(a & b) / min(len(a), len(b))


@dataclass(frozen=True)
class GapEvent:
    event: str  # opened, closed, changed, moved or page-removed (data/tables.yml, gap_events)
    page: str  # the page the tag is on (for closed and page-removed: was on)
    tag: str
    claim: str  # the claim now (for closed and page-removed: the claim removed)
    previous_page: str | None = None  # changed and moved: the page before, if it was renamed
    previous_claim: str | None = None  # changed: the claim before
    similarity: float | None = None  # changed and moved: claim_similarity of the pair
    source_path: str | None = None  # where the claim is (for closed and page-removed: was)
    source_line: int | None = None

    def row(self) -> dict:
        """The event as the columns of the gap_events table it shares."""
        return {
            "event": self.event,
            "page": self.page,
            "tag": self.tag,
            "claim": self.claim,
            "previous_page": self.previous_page,
            "previous_claim": self.previous_claim,
            "similarity": None if self.similarity is None else round(self.similarity, 3),
            "source_path": self.source_path,
            "source_line": self.source_line,
        }


def _line(row: dict) -> int | None:
    return int(row["source_line"]) if row.get("source_line") else None


def _event(event: str, row: dict, **more) -> GapEvent:
    return GapEvent(
        event,
        row["page"],
        row["tag"],
        row["claim"],
        source_path=row.get("source_path") or None,
        source_line=_line(row),
        **more,
    )


def _pairs(removed: list[dict], added: list[dict], page_now) -> list[tuple[int, int, float]]:
    """(removed index, added index, similarity) of every removed and added
    gap on the same page (by its name now) with the same tag and claims at
    least SAME_GAP alike, best first; each row in one pair at most."""
    candidates = []
    for i, was in enumerate(removed):
        for j, row in enumerate(added):
            if (page_now(was["page"]), was["tag"]) != (row["page"], row["tag"]):
                continue
            similarity = 1.0 if was["claim"] == row["claim"] else claim_similarity(was["claim"], row["claim"])
            if similarity >= SAME_GAP:
                distance = abs((_line(was) or 0) - (_line(row) or 0))
                candidates.append((-similarity, distance, i, j))
    pairs, used_removed, used_added = [], set(), set()
    for negative, _, i, j in sorted(candidates):
        if i not in used_removed and j not in used_added:
            used_removed.add(i)
            used_added.add(j)
            pairs.append((i, j, -negative))
    return pairs


def gap_events(diffs: list[TableDiff]) -> list[GapEvent]:
    """Every gaps row added or removed in `diffs` as one GapEvent: the
    pairs first (changed, moved) in the order of the rows added, then the
    tags opened, closed and gone with their page in row order. `diffs` may
    hold several TableDiffs of one table (`etl history` compares page by
    page); the pages diffs name the pages renamed and removed."""
    removed = [row for d in diffs if d.table == "gaps" for _, row in d.removed]
    added = [row for d in diffs if d.table == "gaps" for _, row in d.added]
    pages = TableDiff("pages")
    for d in diffs:
        if d.table == "pages":
            pages.added += d.added
            pages.removed += d.removed
    new_name = dict(renames(pages))
    gone = {row["page"] for _, row in pages.removed} - set(new_name)
    pairs = sorted(_pairs(removed, added, lambda page: new_name.get(page, page)), key=lambda p: p[1])
    events = []
    for i, j, similarity in pairs:
        was, row = removed[i], added[j]
        previous_page = was["page"] if was["page"] != row["page"] else None
        if was["claim"] == row["claim"] and previous_page:
            events.append(_event("moved", row, previous_page=previous_page, similarity=similarity))
        else:
            events.append(
                _event("changed", row, previous_page=previous_page, previous_claim=was["claim"], similarity=similarity)
            )
    paired_removed, paired_added = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
    events += [_event("opened", row) for j, row in enumerate(added) if j not in paired_added]
    for i, was in enumerate(removed):
        if i not in paired_removed:
            events.append(_event("page-removed" if was["page"] in gone else "closed", was))
    return events


def gap_event_row(seq: int, commit_hash: str | None, day: str | None, event: GapEvent) -> dict:
    """A row of the gap_events table: the event, numbered, with the commit
    that made it, its day and the Monday of its week (none for a release
    compared with the previous release)."""
    week = None
    if day:
        monday = date.fromisoformat(day)
        week = (monday - timedelta(days=monday.weekday())).isoformat()
    return {"seq": seq, "commit_hash": commit_hash, "day": day, "week": week, **event.row()}

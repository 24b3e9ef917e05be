"""What a diff means in the wiki's terms: pages added, removed and renamed,
gap tags opened and closed, evidence grades changed, verification passes,
footnotes, works, trials and identifiers. Pure: works on TableDiffs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..corpus.trials import TRIAL_FACT_COLUMNS
from .diff import TableDiff, renames
from .gap_events import GapEvent, gap_events

SHOWN = 40  # items listed per heading; the rest are counted


@dataclass
class Summary:
    rows: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # table -> (added, removed, changed)
    pages_added: list[str] = field(default_factory=list)
    pages_removed: list[str] = field(default_factory=list)
    pages_renamed: list[tuple[str, str]] = field(default_factory=list)
    gap_events: list[GapEvent] = field(default_factory=list)  # etl/compare/gap_events.py
    grades_changed: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # (page, dimension, old, new); '' for none
    verified: list[tuple[str, str]] = field(default_factory=list)  # (page, verified_date)
    verification_moved: list[tuple[str, str, str]] = field(default_factory=list)  # (page, old date, new date)
    footnotes_added: list[tuple[str, str]] = field(default_factory=list)  # (page, label)
    footnotes_removed: list[tuple[str, str]] = field(default_factory=list)
    works_added: list[str] = field(default_factory=list)
    works_removed: list[str] = field(default_factory=list)
    trials_added: list[str] = field(default_factory=list)
    trial_facts_changed: list[tuple[str, str, str, str]] = field(default_factory=list)  # (trial, column, old, new)
    identifiers_added: list[tuple[str, str, str]] = field(default_factory=list)  # (page, field, value)
    identifiers_fixed: list[tuple[str, str, str, str]] = field(default_factory=list)  # (page, field, old, new)

    def gaps(self, event: str) -> list[tuple[str, str, str]]:
        """(page, tag, claim) of the gap events of one kind."""
        return [(e.page, e.tag, e.claim) for e in self.gap_events if e.event == event]

    @property
    def gaps_opened(self) -> list[tuple[str, str, str]]:
        return self.gaps("opened")

    @property
    def gaps_closed(self) -> list[tuple[str, str, str]]:
        return self.gaps("closed")

    @property
    def gaps_reworded(self) -> list[tuple[str, str, str, str]]:
        """(page, tag, old claim, new claim)."""
        return [(e.page, e.tag, e.previous_claim, e.claim) for e in self.gap_events if e.event == "changed"]

    @property
    def gap_counts(self) -> dict[str, tuple[int, int]]:
        """Per tag: (opened, closed)."""
        opened, closed = Counter(t for _, t, _ in self.gaps_opened), Counter(t for _, t, _ in self.gaps_closed)
        return {tag: (opened[tag], closed[tag]) for tag in sorted(set(opened) | set(closed))}


def _moved_off_renamed(added: list, removed: list, renames: list[tuple[str, str]], fact) -> tuple[list, list]:
    """Drop the rows a rename only carried from the old page to the new."""
    new_name = dict(renames)
    carried = {fact(row, new_name.get(row["page"], row["page"])) for _, row in removed if row["page"] in new_name}
    arrived = {fact(row, row["page"]) for _, row in added}
    return [r for r in added if fact(r[1], r[1]["page"]) not in carried], [
        r for r in removed if fact(r[1], new_name.get(r[1]["page"], r[1]["page"])) not in arrived
    ]


def summarise(diffs: list[TableDiff]) -> Summary:
    by_table = {d.table: d for d in diffs}
    empty = TableDiff("")
    summary = Summary(rows={d.table: (len(d.added), len(d.removed), len(d.changed)) for d in diffs})
    _pages(summary, by_table.get("pages", empty))
    summary.gap_events = gap_events(diffs)
    _grades(summary, by_table.get("status_assessments", empty))
    footnotes = by_table.get("footnotes", empty)
    added, removed = _moved_off_renamed(
        footnotes.added, footnotes.removed, summary.pages_renamed, lambda row, page: (page, row["label"], row["record"])
    )
    summary.footnotes_added = [(row["page"], row["label"]) for _, row in added]
    summary.footnotes_removed = [(row["page"], row["label"]) for _, row in removed]
    works = by_table.get("works", empty)
    summary.works_added = [row["work"] for _, row in works.added]
    summary.works_removed = [row["work"] for _, row in works.removed]
    trials = by_table.get("trials", empty)
    summary.trials_added = [row["trial"] for _, row in trials.added]
    for _, _, new, columns in trials.changed:
        for column, (before, after) in sorted(columns.items()):
            if column in TRIAL_FACT_COLUMNS:
                summary.trial_facts_changed.append((new["trial"], column, before or "", after or ""))
    _identifiers(summary, by_table.get("identifiers", empty))
    return summary


def _pages(summary: Summary, pages: TableDiff) -> None:
    """Pages added, removed and renamed; verification passes."""
    summary.pages_renamed = renames(pages)
    renamed_from = {old for old, _ in summary.pages_renamed}
    renamed_to = {new for _, new in summary.pages_renamed}
    summary.pages_added = sorted(row["page"] for _, row in pages.added if row["page"] not in renamed_to)
    summary.pages_removed = sorted(row["page"] for _, row in pages.removed if row["page"] not in renamed_from)
    for _, old, new, columns in pages.changed:
        if "verified" in columns and new.get("verified") == "1":
            summary.verified.append((new["page"], new.get("verified_date") or ""))
        elif "verified_date" in columns and new.get("verified") == "1" and old.get("verified_date"):
            summary.verification_moved.append((new["page"], old["verified_date"], new.get("verified_date") or ""))
    for _, row in pages.added:
        if row.get("verified") == "1" and row["page"] not in renamed_to:
            summary.verified.append((row["page"], row.get("verified_date") or ""))


def _grades(summary: Summary, grades: TableDiff) -> None:
    added, removed = _moved_off_renamed(
        grades.added,
        grades.removed,
        summary.pages_renamed,
        lambda row, page: (page, row["dimension_text"], row["status_text"]),
    )
    for _, old, new, columns in grades.changed:
        if "status" in columns or "status_text" in columns:
            summary.grades_changed.append(
                (new["page"], new["dimension_text"], old.get("status_text") or "", new.get("status_text") or "")
            )
    summary.grades_changed += [
        (row["page"], row["dimension_text"], "", row.get("status_text") or "") for _, row in added
    ]
    summary.grades_changed += [
        (row["page"], row["dimension_text"], row.get("status_text") or "", "") for _, row in removed
    ]


def _identifiers(summary: Summary, identifiers: TableDiff) -> None:
    """Identifiers added, and those whose value was corrected (one removed
    and one added in the same field of the same page)."""
    added, removed = _moved_off_renamed(
        identifiers.added,
        identifiers.removed,
        summary.pages_renamed,
        lambda row, page: (page, row["field"], row["value"]),
    )
    removed_by_field: dict[tuple, list[str]] = {}
    for _, row in removed:
        removed_by_field.setdefault((row["page"], row["field"]), []).append(row["value"])
    for _, row in added:
        earlier = removed_by_field.get((row["page"], row["field"]))
        if earlier:
            summary.identifiers_fixed.append((row["page"], row["field"], earlier.pop(0), row["value"]))
        else:
            summary.identifiers_added.append((row["page"], row["field"], row["value"]))


def _listed(items: list[str]) -> list[str]:
    shown = [f"- {item}" for item in items[:SHOWN]]
    if len(items) > SHOWN:
        shown.append(f"- and {len(items) - SHOWN:,} more")
    return shown


def _short(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _gap_section(summary: Summary) -> list[str]:
    """Gap tags opened and closed per tag and per page, then each closed or reworded."""
    if not (summary.gaps_opened or summary.gaps_closed or summary.gaps_reworded):
        return []
    out = ["", "## Gap tags", "", "| tag | opened | closed |", "|---|---:|---:|"]
    out += [f"| `{tag}` | {o:,} | {c:,} |" for tag, (o, c) in summary.gap_counts.items()]
    per_page = Counter(p for p, _, _ in summary.gaps_opened)
    closed_per_page = Counter(p for p, _, _ in summary.gaps_closed)
    out += ["", "| page | opened | closed |", "|---|---:|---:|"]
    pages = sorted(set(per_page) | set(closed_per_page), key=lambda p: (-(per_page[p] + closed_per_page[p]), p))
    out += [f"| `{p}` | {per_page[p]:,} | {closed_per_page[p]:,} |" for p in pages[:SHOWN]]
    if len(pages) > SHOWN:
        out.append(f"| and {len(pages) - SHOWN:,} more pages | | |")
    out += [""] + _listed(
        [f"closed `#{tag}` on `{page}`: {_short(claim)}" for page, tag, claim in summary.gaps_closed]
        + [
            f"reworded `#{tag}` on `{page}`: {_short(old, 70)} → {_short(new, 70)}"
            for page, tag, old, new in summary.gaps_reworded
        ]
    )
    return out


def summary_markdown(summary: Summary, title: str) -> str:
    """The summary as Markdown, counts first, then the notable changes."""
    gap_opened, gap_closed = len(summary.gaps_opened), len(summary.gaps_closed)
    out = [
        f"# {title}",
        "",
        f"- Pages: {len(summary.pages_added):,} added, {len(summary.pages_removed):,} removed, "
        f"{len(summary.pages_renamed):,} renamed",
        f"- Gap tags: {gap_opened:,} opened, {gap_closed:,} closed, {len(summary.gaps_reworded):,} reworded "
        f"({len(summary.gaps('moved')):,} carried to a renamed page, "
        f"{len(summary.gaps('page-removed')):,} gone with a removed page)",
        f"- Evidence grades changed: {len(summary.grades_changed):,}",
        f"- Pages verified: {len(summary.verified):,}; verification dates moved: {len(summary.verification_moved):,}",
        f"- Footnotes: {len(summary.footnotes_added):,} added, {len(summary.footnotes_removed):,} removed; "
        f"works: {len(summary.works_added):,} added, {len(summary.works_removed):,} removed",
        f"- Trials: {len(summary.trials_added):,} added, {len(summary.trial_facts_changed):,} trial facts changed",
        f"- Identifiers: {len(summary.identifiers_added):,} added, {len(summary.identifiers_fixed):,} fixed",
    ]
    if summary.pages_added or summary.pages_removed or summary.pages_renamed:
        out += ["", "## Pages", ""]
        out += _listed(
            [f"added `{p}`" for p in summary.pages_added]
            + [f"removed `{p}`" for p in summary.pages_removed]
            + [f"renamed `{a}` → `{b}`" for a, b in summary.pages_renamed]
        )
    out += _gap_section(summary)
    if summary.grades_changed:
        out += ["", "## Evidence grades", ""]
        out += _listed(
            [
                f"`{page}` · {dimension}: {old or '(none)'} → {new or '(none)'}"
                for page, dimension, old, new in summary.grades_changed
            ]
        )
    if summary.verified or summary.verification_moved:
        out += ["", "## Verification", ""]
        out += _listed(
            [f"`{page}` verified ({date or 'no date'})" for page, date in summary.verified]
            + [f"`{page}` verified again: {old} → {new}" for page, old, new in summary.verification_moved]
        )
    if summary.footnotes_added or summary.footnotes_removed or summary.works_added or summary.works_removed:
        out += ["", "## Footnotes and works", ""]
        out += _listed(
            [f"footnote added `{page}` [^{label}]" for page, label in summary.footnotes_added]
            + [f"footnote removed `{page}` [^{label}]" for page, label in summary.footnotes_removed]
        )
        out += _listed(
            [f"work added `{w}`" for w in summary.works_added] + [f"work removed `{w}`" for w in summary.works_removed]
        )
    if summary.trials_added or summary.trial_facts_changed:
        out += ["", "## Trials", ""]
        out += _listed(
            [f"trial added `{t}`" for t in summary.trials_added]
            + [
                f"`{t}` · {column}: {old or '(none)'} → {new or '(none)'}"
                for t, column, old, new in summary.trial_facts_changed
            ]
        )
    if summary.identifiers_added or summary.identifiers_fixed:
        out += ["", "## Identifiers", ""]
        out += _listed(
            [f"`{page}` · {name}: {value}" for page, name, value in summary.identifiers_added]
            + [f"`{page}` · {name}: {old} → {new}" for page, name, old, new in summary.identifiers_fixed]
        )
    out += ["", "## Rows per table", "", "| table | added | removed | changed |", "|---|---:|---:|---:|"]
    out += [f"| {table} | {a:,} | {r:,} | {c:,} |" for table, (a, r, c) in summary.rows.items()]
    return "\n".join(out) + "\n"

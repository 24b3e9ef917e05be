"""What one page hands on: its rows (as CSV text), its typed mentions of
works and trials, its gap tags, its diagnostics, and what it asked of the
corpus index. The corpus stage joins the mentions; the page cache keeps
whole results; `etl history` compares them between commits."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class WorkMention:
    """One place a work is named: a footnote record, a study page's
    frontmatter or a record of the project's bibliography."""

    work: str  # the work key (doi:..., pmid:..., isbn:... or page:...)
    origin: str  # footnote | study-page | bibliography
    page: str | None  # the citing page; None for a study page or a bibliography record
    doi: str | None
    pmid: str | None
    pmc: str | None
    isbn: str | None
    study_page: str | None
    title: str | None
    authors: list[str]
    venue: str | None  # the journal as written (or as the venue list names it)
    venue_id: str | None
    year: int | None
    design: str | None
    retracted: bool
    source_path: str
    source_line: int
    author_surnames: list[str] = field(default_factory=list)
    author_note: str | None = None
    # A footnote record writes a venue (`venue` names it only when it is a
    # declared journal or surely one); one that writes none takes its work's.
    venue_written: bool = False

    @property
    def provenance(self) -> dict:
        return {"source_path": self.source_path, "source_line": self.source_line}


@dataclass(frozen=True, slots=True)
class TrialMention:
    """One place a page names a trial: a footnote record, a trial-table
    row, a study page, an NCT id in prose or an explicit ```trial block."""

    kind: str  # study-page | footnote | table-row | prose | explicit
    page: str
    label: str | None  # the footnote label, for footnote mentions
    text: str
    registry_id: str | None
    work: str | None
    study_page: str | None
    facts: dict  # column -> value, as read from this mention
    arms: list[dict]
    outcomes: list[dict]
    gap_tags: list[str]
    unmapped: list[str] | None  # table columns no trial fact was read from
    explicit_fields: list[str]  # facts an explicit block states (they win over extracted ones)
    source_path: str
    source_line: int
    # Keys besides the NCT id, work and study page that make mentions one
    # trial: 'footnote:<page>#<label>' (a table row and the footnote it
    # cites), 'acronym:<page>#<ACRONYM>' (one acronym on one page).
    keys: tuple[str, ...] = ()
    design: str | None = None  # a footnote record's design, as the study_designs vocabulary names it

    @property
    def provenance(self) -> dict:
        return {"source_path": self.source_path, "source_line": self.source_line}


@dataclass(slots=True)
class PageResult:
    """Everything processing one page gave."""

    page_type: str | None
    tables: dict  # table name -> TableText: the page's rows, written as the CSV writes them
    work_mentions: list[WorkMention]
    trial_mentions: list[TrialMention]
    gap_tags: list[str]  # the distinct tags of the page's gaps
    diagnostics: list  # Diagnostic
    invalid_fields: int  # frontmatter values that do not fit their declared type
    journal: list = field(default_factory=list)  # what the page asked of the corpus index, with the answers
    page: str | None = None
    names: tuple[str, ...] = ()  # the page's title, then its aliases: what the corpus may call it

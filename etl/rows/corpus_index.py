"""CorpusIndex: what processing one page may ask about the others (which
pages exist, which study page is which work), journalled so that a cached
page is reused only while every answer stays the same; and the keys of
cited works that depend on those answers."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from functools import cached_property

from ..wiki.citations import completeness


@dataclass
class CorpusIndex:
    """What every page needs to know about the others: which pages exist
    and the work key of each study page."""

    page_ids: list[str]
    study_works: dict[str, str] = field(default_factory=dict)
    # While a page is processed, every question it asks of the index and the
    # answer (see etl/pipeline/cache.py: a cached page is reused only when every
    # answer is still the same).
    journal: list | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self._by_id = {p.lower(): p for p in self.page_ids}
        self._by_slug: dict[str, str] = {}
        # Shortest path wins for a slug shared by several pages, then alphabetical.
        for page in sorted(self.page_ids, key=lambda p: (p.count("/"), p)):
            self._by_slug.setdefault(page.rsplit("/", 1)[-1].lower(), page)
        # A target with a slash names the page whose path ends with it, whole
        # components only; several: alphabetically first. Indexed once, as a
        # cached build asks again every question of every page.
        self._by_suffix: dict[str, str] = {}
        self._answered: dict[tuple, str | None] = {}
        for lower, page in sorted(self._by_id.items(), key=lambda item: item[1]):
            parts = lower.split("/")
            for start in range(1, len(parts) - 1):
                self._by_suffix.setdefault("/".join(parts[start:]), page)

    @cached_property
    def digest(self) -> str:
        """Everything an answer depends on: equal digests answer every
        question alike (read once study_works is set)."""
        state = repr((sorted(self.page_ids), sorted(self.study_works.items())))
        return hashlib.sha256(state.encode()).hexdigest()

    def resolve(self, target: str, from_page: str | None = None) -> str | None:
        """Page ID a wikilink or relative link target names, or None."""
        answer = self._resolve(target, from_page)
        if self.journal is not None:
            self.journal.append(("resolve", target, from_page, answer))
        return answer

    def study_work(self, page: str | None) -> str | None:
        """Work key of a study page (from its frontmatter DOI or PMID)."""
        answer = self.study_works.get(page) if page else None
        if self.journal is not None:
            self.journal.append(("study_work", page, None, answer))
        return answer

    def answers(self, question: tuple) -> bool:
        """Whether a journalled question still gets the same answer."""
        kind, first, second, answer = question
        if kind != "resolve":
            return (self.study_works.get(first) if first else None) == answer
        # The pages of a wiki ask the same few thousand questions many times over.
        try:
            return self._answered[first, second] == answer
        except KeyError:
            self._answered[first, second] = resolved = self._resolve(first, second)
            return resolved == answer

    def _resolve(self, target: str, from_page: str | None = None) -> str | None:
        name = target.strip().replace("\\", "/")
        if name.lower().endswith(".md"):
            name = name[:-3]
        name = name.strip("/").lower()
        if not name:
            return None
        if from_page and (name.startswith("./") or name.startswith("../")):
            name = posixpath.normpath(posixpath.join(posixpath.dirname(from_page.lower()), name))
        if name in self._by_id:
            return self._by_id[name]
        if "/" in name:
            return self._by_suffix.get(name)
        return self._by_slug.get(name)


def work_key(
    doi=None, pmid=None, isbn=None, study_page=None, study_link=None, index: CorpusIndex | None = None
) -> str | None:
    """Key of a cited work: DOI, else PMID, else ISBN, else its study page
    (whose own key wins when the study page has a DOI or PMID)."""
    if doi:
        return "doi:" + doi.lower()
    if pmid:
        return "pmid:" + str(pmid)
    if isbn:
        return "isbn:" + isbn
    if study_page and index and (study_key := index.study_work(study_page)):
        return study_key
    if study_page:
        return "page:" + study_page
    if study_link:
        return "page:" + study_link
    return None


def cited_study_page(citation, page: str, index: CorpusIndex) -> str | None:
    """The study page a citation record links to: its [[studies/...]] link,
    else the first [[link]] that resolves to a page under studies/."""
    for target in ([citation.study_link] if citation.study_link else []) + citation.wikilinks:
        resolved = index.resolve(target, page)
        if resolved and (resolved.startswith("studies/") or "/studies/" in resolved):
            return resolved
    return None


def citation_status(citation, page: str, index: CorpusIndex) -> tuple[str | None, str, list[str]]:
    """(study page, parse status, what is missing) of a footnote's record:
    a [[studies/...]] link counts even when its page is not in the snapshot."""
    study_page = cited_study_page(citation, page, index)
    return (study_page, *completeness(citation, bool(study_page or citation.study_link)))

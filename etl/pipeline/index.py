"""The corpus index, read before any page is processed: which pages the
snapshot holds and which work each study page is (from its frontmatter
only, kept in the page cache while the page's text is unchanged)."""

from __future__ import annotations

from ..rows.corpus_index import CorpusIndex, work_key
from ..schema import Schema
from ..wiki.discover import Discovery
from ..wiki.frontmatter import FrontmatterError, parse_frontmatter
from ..wiki.parse import normalise_identifier, page_id
from .cache import PageCache

STUDY_WORKS_MEMO = "study-works"  # in the page cache: each study page's work key, by path and content


def study_work_keys(discovery: Discovery, schema: Schema, cache: PageCache | None = None) -> dict[str, str]:
    """Work key of every study page, read from frontmatter only, so that a
    footnote citing [[studies/x]] and one citing x's DOI name one work.
    With a page cache, a study page's key is read again only when its text
    changed."""
    known = cache.load_memo(STUDY_WORKS_MEMO) if cache is not None else {}
    keys, found = {}, {}
    for source in discovery.pages:
        if not (source.path.startswith("studies/") or "/studies/" in source.path):
            continue
        memo = (source.path, source.sha256)
        found[memo] = known[memo] if memo in known else _study_work_key(source, schema)
        if found[memo] is not None:
            keys[page_id(source.path)] = found[memo]
    if cache is not None and found != known:
        cache.store_memo(STUDY_WORKS_MEMO, found)
    return keys


def _study_work_key(source, schema: Schema) -> str | None:
    """The work key a study page's frontmatter gives; None when it is not a study page."""
    try:
        fm = parse_frontmatter(source.absolute.read_bytes().decode("utf-8", errors="replace"))
    except FrontmatterError:
        return None
    if fm.get("type") != "study":
        return None
    doi, pmid = fm.get("doi"), fm.get("pmid")
    doi = normalise_identifier(doi, schema.identifier_scheme("doi")) if isinstance(doi, str) and doi.strip() else None
    pmid = str(pmid) if isinstance(pmid, int) and not isinstance(pmid, bool) else None
    return work_key(doi, pmid, None, page_id(source.path))


def corpus_index(discovery: Discovery, schema: Schema, cache: PageCache | None = None) -> CorpusIndex:
    """The index every page may ask about the others: the snapshot's page
    IDs and the work key of each study page."""
    index = CorpusIndex([page_id(p.path) for p in discovery.pages])
    index.study_works = study_work_keys(discovery, schema, cache)
    return index

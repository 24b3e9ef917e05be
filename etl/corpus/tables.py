"""Corpus-level tables: works, authors, venues and trials joined from every
page's mentions, the project's bibliography, the vocabularies, and the
snapshot's own tables. Made after the pages, from what the pages gave."""

from __future__ import annotations

from pathlib import Path

from ..diagnostics import Diagnostic, diagnose
from ..rows.corpus_index import CorpusIndex, work_key
from ..rows.result import PageResult, WorkMention
from ..schema import Schema
from ..wiki.discover import Discovery, source_file_rows
from ..wiki.frontmatter import plain
from .inherited import InheritedFacts
from .intervention_names import InterventionNames
from .trial_terms import load_trial_terms
from .trials import TrialIndex
from .works import WorkIndex


class Corpus:
    """What the pages say about works and trials, gathered page by page;
    tables() joins it into the corpus-level tables. The pages' footnote rows
    wait here too: after tables(), `footnotes` gives them with what their
    records leave out taken from the works they cite."""

    # Page tables a build writes only once the corpus has completed them.
    COMPLETES = ("footnotes",)

    def __init__(self, schema: Schema, data_dir: Path):
        self.schema, self.data_dir = schema, data_dir
        terms = load_trial_terms(data_dir)
        self.intervention_names = InterventionNames(canonical=terms.intervention)
        self.works = WorkIndex(schema.venues)
        self.trials = TrialIndex(terms, self.intervention_names)
        self.footnotes = InheritedFacts(self.works)
        self.observed_tags: set[str] = set()

    def add_page(self, result: PageResult) -> None:
        self.observed_tags.update(result.gap_tags)
        self.footnotes.add_page(result)
        if result.page:
            self.intervention_names.add_page(result.page, result.names)
        for mention in result.work_mentions:
            self.works.add(mention)
        for mention in result.trial_mentions:
            self.trials.add(mention)

    def problems(self, index: CorpusIndex) -> list[Diagnostic]:
        """What joining finds (bibliography, work conflicts, trials), without
        making the rows: `etl check`'s share of tables()."""
        _, _, record_mentions, diagnostics = bibliography_rows(self.schema, index, self.data_dir)
        for mention in record_mentions:
            self.works.add(mention)
        self.trials.rows(set(self.works.works))
        return diagnostics + self.works.conflicts + self.works.unmatched_venues() + self.trials.diagnostics

    def tables(self, index: CorpusIndex, discovery: Discovery) -> tuple[dict[str, list[dict]], list[Diagnostic]]:
        """The corpus-level tables, in the order a build writes them, and the
        problems found while joining (work conflicts, trials, bibliography)."""
        schema, works, trials = self.schema, self.works, self.trials
        records, record_pages, record_mentions, diagnostics = bibliography_rows(schema, index, self.data_dir)
        for mention in record_mentions:
            works.add(mention)
        diagnostics += works.conflicts + works.unmatched_venues()
        designs = {d["design"] for d in schema.vocabularies["study_designs"]}
        work_rows, author_rows, work_author_rows = works.rows(designs)
        tables = {
            "venues": works.venue_rows(work_rows),
            "works": work_rows,
            "authors": author_rows,
            "work_authors": work_author_rows,
        }
        tables.update(trials.rows({row["work"] for row in work_rows}))
        diagnostics += trials.diagnostics
        tables.update(
            {
                "bibliography": records,
                "bibliography_pages": record_pages,
                "snapshots": [discovery.snapshot],
                "source_files": source_file_rows(discovery, self.data_dir),
            }
        )
        tables.update(vocabulary_rows(schema, self.observed_tags))
        return tables, diagnostics


def bibliography_rows(
    schema: Schema, index: CorpusIndex, data_dir: Path
) -> tuple[list[dict], list[dict], list[WorkMention], list[Diagnostic]]:
    records, links, mentions, diagnostics = [], [], [], []
    for entry, line in records_with_lines(data_dir / "bibliography.yml"):
        prov = {"source_path": "data/bibliography.yml", "source_line": line}
        key = work_key(None, None, entry["isbn_print"])
        about = []
        for page in entry["about_pages"]:
            if index.resolve(page) == page:
                about.append(page)
            else:
                diagnostics.append(
                    diagnose(
                        "data/bibliography.yml",
                        line,
                        "bibliography-page",
                        f"{entry['record']}: page {page} is not in this snapshot",
                    )
                )
        records.append(
            {
                "record": entry["record"],
                "work": key,
                **{
                    name: entry.get(name)
                    for name in schema.tables["bibliography"].column_names
                    if name not in ("record", "work", "about_pages")
                },
                "about_pages": about,
                **prov,
            }
        )
        links += [{"record": entry["record"], "page": page, **prov} for page in about]
        mentions.append(
            WorkMention(
                work=key,
                origin="bibliography",
                page=None,
                doi=None,
                pmid=None,
                pmc=None,
                isbn=entry["isbn_print"],
                study_page=None,
                title=entry["title"],
                authors=[],
                venue=entry["publisher"],
                venue_id=None,
                year=int(str(entry["publication_date"])[:4]),
                design="review",
                retracted=False,
                **prov,
            )
        )
    return records, links, mentions, diagnostics


def records_with_lines(path: Path):
    """Bibliography records with the 1-based line each starts on."""
    from ruamel.yaml import YAML

    with open(path, encoding="utf-8") as handle:
        data = YAML(typ="rt", pure=True).load(handle)
    for position, record in enumerate(data["records"]):
        yield plain(record), data["records"].lc.item(position)[0] + 1


def vocabulary_rows(schema: Schema, observed_tags: set[str]) -> dict[str, list[dict]]:
    v = schema.vocabularies
    declared = {t["tag"] for t in v["gap_tags"]}
    gap_tags = [
        {"tag": t["tag"], "definition": t["definition"], "origin": t["origin"], "declared": True} for t in v["gap_tags"]
    ]
    gap_tags += [
        {"tag": t, "definition": None, "origin": "undeclared", "declared": False}
        for t in sorted(observed_tags - declared)
    ]
    fields = []
    for page_type in schema.page_types.values():
        for f in page_type.fields.values():
            fields.append(
                {
                    "type": page_type.name,
                    "name": f.name,
                    "field_type": f.type,
                    "required": f.required,
                    "scheme": f.scheme,
                    "allowed_values": [str(x) for x in f.values] if f.values is not None else None,
                    "description": f.description,
                }
            )
    return {
        "page_types": [
            {"type": t.name, "content": t.content, "table_name": t.table, "description": t.description}
            for t in schema.page_types.values()
        ],
        "page_type_fields": fields,
        "gap_tags": gap_tags,
        "study_designs": [
            {"design": d["design"], "label": d["label"], "synonyms": d["synonyms"]} for d in v["study_designs"]
        ],
        "status_values": [
            {"status": s["status"], "origin": s["origin"], "definition": s["definition"], "strength": s["strength"]}
            for s in v["status_values"]
        ],
        "status_dimensions": [{"dimension": d["dimension"], "label": d["label"]} for d in v["status_dimensions"]],
        "identifier_schemes": [
            {"scheme": s["scheme"], "label": s["label"], "pattern": s["pattern"], "url_template": s["url"]}
            for s in v["identifier_schemes"]
        ],
        "species": [{"species": s["species"], "terms": s["terms"]} for s in v["species"]],
        "population_groups": [
            {"population_group": g["population_group"], "terms": g["terms"]} for g in v["population_groups"]
        ],
    }

"""Whole rows for the fixture protein page."""

import pytest

from etl.rows.corpus_index import CorpusIndex
from etl.rows.page_rows import page_rows
from etl.wiki.parse import parse_page

from .conftest import FIXTURE_WIKI

PAGE = "molecules/proteins/demo-kinase.md"
PROV = {"source_path": PAGE}


@pytest.fixture(scope="module")
def rows(schema):
    parsed = parse_page(PAGE, (FIXTURE_WIKI / PAGE).read_bytes(), schema)
    assert parsed.diagnostics == []
    index = CorpusIndex(
        ["molecules/proteins/demo-kinase", "studies/demo-study", "pathways/demo-pathway"],
        {"studies/demo-study": "doi:10.5555/demo.beta"},
    )
    table_rows, mentions = page_rows(parsed, index, schema)
    return table_rows, mentions


def test_page_row(rows):
    page = dict(rows[0]["pages"][0])
    body = page.pop("body")
    assert body.startswith("> ⚠️ Auto-extracted") and body.endswith("model: aged mice")
    assert len(page.pop("content_hash")) == 64
    assert page == {
        "page": "molecules/proteins/demo-kinase",
        "slug": "demo-kinase",
        "folder": "molecules",
        "type": "protein",
        "title": "Demo kinase (DMK1)",
        "aliases": ["DMK1", "demo kinase"],
        "verified": False,
        "verified_date": None,
        "verified_by": None,
        "verified_scope": None,
        "literature_checked_through": None,
        "is_stub": False,
        "banner": "> ⚠️ Auto-extracted on 2026-01-01 — not yet verified.",
        "word_count": 165,
        "footnote_count": 2,
        "gap_count": 4,
        "source_line": 1,
        **PROV,
    }


def test_identifier_rows_normalise_hgnc_and_keep_the_declared_null(rows):
    ids = {(r["field"], r["position"]): r for r in rows[0]["identifiers"]}
    assert ids[("hgnc", 1)] == {
        "page": "molecules/proteins/demo-kinase",
        "field": "hgnc",
        "position": 1,
        "scheme": "hgnc",
        "value": "HGNC:4242",
        "raw": "4242",
        "declared_null": False,
        "valid": True,
        "url": "https://www.genenames.org/data/gene-symbol-report/#!/hgnc_id/HGNC:4242",
        "source_line": 6,
        **PROV,
    }
    assert ids[("genage-id", 1)] == {
        "page": "molecules/proteins/demo-kinase",
        "field": "genage-id",
        "position": 1,
        "scheme": "genage",
        "value": None,
        "raw": None,
        "declared_null": True,
        "valid": True,
        "url": None,
        "source_line": 8,
        **PROV,
    }
    assert ids[("body", 1)]["value"] == "NCT01234567" and ids[("body", 1)]["source_line"] == 46
    assert ids[("footnote:alpha2020", 1)]["value"] == "10.5555/demo.alpha"


def test_gap_rows(rows):
    gaps = rows[0]["gaps"]
    assert gaps[0] == {
        "page": "molecules/proteins/demo-kinase",
        "seq": 1,
        "tag": "gap/not-queried",
        "claim": "gtex-aging-correlation: null  # #gap/not-queried; fill in after a GTEx lookup",
        "qualifier": None,
        "location": "frontmatter",
        "field": "gtex-aging-correlation",
        "section": None,
        "section_seq": None,
        "footnotes": [],
        "source_line": 12,
        **PROV,
    }
    assert gaps[2] == {
        "page": "molecules/proteins/demo-kinase",
        "seq": 3,
        "tag": "gap/needs-replication",
        "claim": "One small trial hinted at benefit [^alpha2020] #gap/needs-replication (single site)",
        "qualifier": "single site",
        "location": "body",
        "field": None,
        "section": "Activity",
        "section_seq": 2,
        "footnotes": ["alpha2020"],
        "source_line": 31,
        **PROV,
    }
    assert [(g["tag"], g["claim"], g["source_line"]) for g in gaps[1::2]] == [
        ("gap/no-mechanism", "Nobody knows why. #gap/no-mechanism", 29),
        ("gap/unsourced", "A claim with no source at all #gap/unsourced", 32),
    ]


def test_footnote_rows_resolve_a_study_link_to_the_study_doi(rows):
    beta = rows[0]["footnotes"][1]
    assert {
        k: beta[k]
        for k in ("label", "work", "study_page", "design", "n", "model", "parse_status", "ref_count", "source_line")
    } == {
        "label": "beta2021",
        "work": "doi:10.5555/demo.beta",
        "study_page": "studies/demo-study",
        "design": "in-vivo",
        "n": 12,
        "model": "aged mice",
        "parse_status": "parsed",
        "ref_count": 1,
        "source_line": 49,
    }


def test_status_and_other_tables(rows):
    assert [(r["dimension"], r["status"], r["qualifier"], r["source_line"]) for r in rows[0]["status_assessments"]] == [
        ("pathway-conserved", "yes", "same fold", 36),
        ("phenotype-conserved", "partial", None, 37),
        ("replicated-in-humans", "in-progress", "a second trial runs", 38),
    ]
    assert rows[0]["page_tables"] == [
        {
            "page": "molecules/proteins/demo-kinase",
            "table_seq": 2,
            "header": ["Assay", "Readout"],
            "rows": [["Kinase-Glo", "luminescence"]],
            "row_count": 1,
            "column_count": 2,
            "end_line": 44,
            "section": "Assays",
            "section_seq": 3,
            "source_line": 42,
            **PROV,
        }
    ]


def test_links_and_relations(rows):
    assert [
        (link["kind"], link["target"], link["alias"], link["target_page"], link["target_exists"], link["source_line"])
        for link in rows[0]["links"]
    ] == [
        ("wikilink", "demo-pathway", "the demo pathway", "pathways/demo-pathway", True, 25),
        ("markdown", "../../studies/demo-study.md", "the reference study", "studies/demo-study", True, 46),
        ("markdown", "https://example.org/kinase", "an outside page", None, None, 46),
        ("wikilink", "studies/demo-study", None, "studies/demo-study", True, 49),
    ]
    assert [(r["field"], r["target"], r["target_exists"]) for r in rows[0]["relations"]] == [
        ("pathways", "demo-pathway", True),
        ("hallmarks", "missing-hallmark", False),
        ("causes", "demo-pathway", True),
    ]


def test_typed_protein_row(rows):
    protein = rows[0]["proteins"][0]
    assert {
        k: protein[k]
        for k in ("hgnc", "genage_id", "mr_causal_evidence", "pathways", "hallmarks", "verified", "druggability_tier")
    } == {
        "hgnc": "HGNC:4242",
        "genage_id": None,
        "mr_causal_evidence": "yes",
        "pathways": ["pathways/demo-pathway"],  # [[demo-pathway]] names that page
        "hallmarks": ["missing-hallmark"],  # names no page: kept as written
        "verified": False,
        "druggability_tier": None,
    }


def test_a_target_with_a_slash_resolves_by_whole_trailing_components():
    pages = ["b/Kinases/ABC", "a/kinases/abc", "x/kinases/abcd", "deep/a/kinases/abc", "other/xkinases/abc", "solo"]
    index = CorpusIndex(pages)
    # the same answers as scanning every page for one ending in "/" + target
    for target in [
        "kinases/abc",
        "KINASES/ABC.md",
        "a/kinases/abc",
        "kinases/abcd",
        "inases/abc",
        "abc",
        "nope/abc",
        "xkinases/abc",
        "/kinases/abc/",
    ]:
        name = target.strip("/").lower().removesuffix(".md")
        scanned = sorted(p for p in pages if p.lower().endswith("/" + name))
        expected = next((p for p in pages if p.lower() == name), None) or (
            scanned[0] if "/" in name and scanned else None
        )
        if "/" not in name and expected is None:
            continue  # a bare slug goes through the slug index, tested above
        assert index.resolve(target) == expected, target

"""A real Datasette process on loopback, serving the real build."""

import csv
import io
import sqlite3

import httpx


def test_facet_counts_match_the_database(datasette_url, real_build):
    out, _ = real_build
    expected = dict(
        sqlite3.connect(out / "agingkb.db").execute("select type, count(*) from pages group by type").fetchall()
    )
    data = httpx.get(f"{datasette_url}/agingkb/pages.json", params={"_facet": "type", "_size": "0"}, timeout=30).json()
    facet = {r["value"]: r["count"] for r in data["facet_results"]["type"]["results"]}
    assert facet == {k: v for k, v in expected.items() if k is not None}
    assert facet["protein"] == 278


def test_default_facets_come_from_the_declaration(datasette_url):
    data = httpx.get(f"{datasette_url}/agingkb/gaps.json", params={"_size": "0"}, timeout=30).json()
    assert {"tag", "location"} <= set(data["facet_results"])
    tag_counts = {r["value"]: r["count"] for r in data["facet_results"]["tag"]["results"]}
    assert tag_counts["gap/needs-replication"] > 1000


def test_full_text_search_finds_the_anakinra_trial(datasette_url):
    rows = httpx.get(
        f"{datasette_url}/agingkb/footnotes.json", params={"_search": "NEJMoa065213", "_shape": "array"}, timeout=30
    ).json()
    assert ("molecules/proteins/il-1ra", "larsen2007") in {(r["page"], r["label"]) for r in rows}


def test_csv_download(datasette_url):
    response = httpx.get(
        f"{datasette_url}/agingkb/status_assessments.csv",
        params={"page": "molecules/proteins/il-1ra", "_size": "max"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in ("text/csv", "text/plain")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 12 and {r["dimension"] for r in rows} == {
        "pathway-conserved",
        "phenotype-conserved",
        "replicated-in-humans",
    }


def test_json_download_and_column_metadata(datasette_url):
    rows = httpx.get(
        f"{datasette_url}/agingkb/identifiers.json",
        params={"page": "molecules/proteins/il-1ra", "field": "hgnc", "_shape": "array"},
        timeout=30,
    ).json()
    assert [(r["scheme"], r["value"]) for r in rows] == [("hgnc", "HGNC:6000")]
    html = httpx.get(f"{datasette_url}/agingkb/identifiers", timeout=30).text
    assert "A declared null is kept as data" in html


def test_stored_query_rcts_needing_replication(datasette_url):
    rows = httpx.get(
        f"{datasette_url}/agingkb/rcts_needing_replication.json", params={"_shape": "array"}, timeout=60
    ).json()
    il1ra = {r["label"] for r in rows if r["page"] == "molecules/proteins/il-1ra"}
    assert {"larsen2007", "vantassell2014"} <= il1ra


def test_licence_and_source_shown(datasette_url):
    html = httpx.get(f"{datasette_url}/", timeout=30).text
    assert "CC BY 4.0" in html and "jadams5/aging_wiki" in html

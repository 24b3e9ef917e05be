"""The dataset described for machines: the home page's schema.org Dataset
(agingkb_site/describe.py), read with a JSON-LD processor (pyld); the
build's croissant.json (etl/output/croissant.py), validated and loaded by
mlcroissant; /sitemap.xml and robots.txt (agingkb_site/sitemap.py), from a
real Datasette on loopback serving the fixture wiki's build."""

import datetime as dt
import hashlib
import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import httpx
import pytest
import yaml
from pyld import jsonld

from agingkb_site.describe import DescriptionError, dataset
from agingkb_site.sitemap import NAMESPACE, sitemap_documents
from etl.output.croissant import CroissantError, croissant

from .conftest import run_async, served

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_ORG = "https://schema.org/"
# What Google's Dataset documentation requires (name, description) and the
# recommended properties the issue asks for.
REQUIRED = ("name", "description")
RECOMMENDED = (
    "license",
    "creator",
    "publisher",
    "version",
    "dateModified",
    "keywords",
    "url",
    "distribution",
    "variableMeasured",
    "isBasedOn",
)


def offline_schema_org(url, options=None):
    """pyld's document loader, without the network: schema.org's context
    maps every term under its @vocab, which is all this Dataset uses."""
    assert url.rstrip("/") == SCHEMA_ORG.rstrip("/"), url
    return {"contextUrl": None, "documentUrl": url, "document": {"@context": {"@vocab": SCHEMA_ORG}}}


def home_jsonld(url: str) -> dict:
    html = httpx.get(url + "/", timeout=30).text
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(scripts) == 1, "one JSON-LD description on the home page"
    return json.loads(scripts[0])


def values(node: dict, prop: str) -> list:
    return node.get(SCHEMA_ORG + prop, [])


def literal(node: dict, prop: str):
    found = values(node, prop)
    assert found, prop
    return found[0].get("@value", found[0].get("@id"))


def listed_downloads(url: str) -> set[str]:
    html = httpx.get(url + "/-/downloads/", timeout=30).text
    return set(re.findall(r'<a href="/-/downloads/([^"]+)" download>', html))


def test_the_home_page_describes_the_dataset_in_schema_org(fixture_url, fixture_build, schema):
    out, _ = fixture_build
    document = home_jsonld(fixture_url)
    [node] = jsonld.expand(document, {"documentLoader": offline_schema_org})
    assert node["@type"] == [SCHEMA_ORG + "Dataset"]
    for prop in REQUIRED + RECOMMENDED:
        found = values(node, prop)
        assert found and all(v.get("@value", v) not in ("", None, {}) for v in found), prop
    database = sqlite3.connect(out / "agingkb.db")
    version, repository = database.execute("select dataset_version, upstream_repository from snapshots").fetchone()
    assert literal(node, "version") == version
    author = yaml.safe_load((ROOT / "data" / "sources.yml").read_text())["upstream"]["author"]
    [creator] = values(node, "creator")
    assert literal(creator, "name") == author
    package = json.loads((out / "package" / "datapackage.json").read_text())
    assert literal(node, "license") == package["licenses"][0]["path"]
    assert literal(node, "dateModified") == package["created"]
    assert {v["@value"] for v in values(node, "keywords")} == set(package["keywords"])
    assert literal(node, "url") == fixture_url + "/"
    [based_on] = values(node, "isBasedOn")
    assert literal(based_on, "url").startswith(repository)
    measured = [v["@value"] for v in values(node, "variableMeasured")]
    assert sorted(measured) == sorted(f"{t}.{c.name}" for t, table in schema.tables.items() for c in table.columns)


def test_the_distribution_is_every_served_file_with_its_checksum(fixture_url, fixture_build):
    out, _ = fixture_build
    [node] = jsonld.expand(home_jsonld(fixture_url), {"documentLoader": offline_schema_org})
    distribution = {literal(entry, "contentUrl"): entry for entry in values(node, "distribution")}
    listed = listed_downloads(fixture_url)
    assert len(listed) > 3
    assert set(distribution) == {f"{fixture_url}/-/downloads/{name}" for name in listed}
    for url, entry in distribution.items():
        assert values(entry, "encodingFormat") and values(entry, "contentSize"), url
        body = httpx.get(url, timeout=30).content
        assert literal(entry, "sha256") == hashlib.sha256(body).hexdigest(), url
        assert literal(entry, "contentSize") == f"{len(body)} B", url


def test_a_configured_base_url_is_the_one_described(fixture_build, tmp_path, monkeypatch):
    out, _ = fixture_build
    monkeypatch.setenv("AGINGKB_BASE_URL", "https://data.example.org/")  # metadata.yml reads it (data/site.yml)
    with served(out / "agingkb.db", tmp_path / "datasette.log") as url:
        document = home_jsonld(url)
        robots = httpx.get(url + "/robots.txt").text
        sitemap = httpx.get(url + "/sitemap.xml").text
    assert document["url"] == "https://data.example.org/"
    assert all(d["contentUrl"].startswith("https://data.example.org/-/downloads/") for d in document["distribution"])
    assert "Sitemap: https://data.example.org/sitemap.xml" in robots.splitlines()
    assert "<loc>https://data.example.org/</loc>" in sitemap


def _package_and_snapshot(fixture_build):
    out, _ = fixture_build
    package = json.loads((out / "package" / "datapackage.json").read_text())
    row = sqlite3.connect(out / "agingkb.db")
    row.row_factory = sqlite3.Row
    return package, dict(row.execute("select * from snapshots").fetchone())


@pytest.mark.parametrize(
    "spoil, field",
    [
        (lambda p, s: p.update(contributors=[c for c in p["contributors"] if c["role"] != "author"]), "author"),
        (lambda p, s: p.update(keywords=[]), "keywords"),
        (lambda p, s: p.update(title=""), "name"),
        (lambda p, s: p.update(resources=[]), "variableMeasured"),
        (lambda p, s: s.update(upstream_repository=None), "isBasedOn"),
        (lambda p, s: p.update(version="0.0.0+other"), "is not the database's"),
    ],
)
def test_a_field_that_cannot_be_filled_is_an_error_not_an_empty_value(fixture_build, spoil, field):
    package, snapshot = _package_and_snapshot(fixture_build)
    assert dataset(package, snapshot)["name"]  # whole, it describes
    spoil(package, snapshot)
    with pytest.raises(DescriptionError, match=re.escape(field)):
        dataset(package, snapshot)


def test_a_server_whose_package_lacks_a_field_does_not_start(fixture_build, tmp_path):
    from datasette.app import Datasette

    out, _ = fixture_build
    shutil.copytree(out / "package", tmp_path / "package")
    shutil.copyfile(out / "agingkb.db", tmp_path / "agingkb.db")
    descriptor = tmp_path / "package" / "datapackage.json"
    package = json.loads(descriptor.read_text())
    package["contributors"] = [c for c in package["contributors"] if c["role"] != "publisher"]
    descriptor.write_text(json.dumps(package))
    instance = Datasette([str(tmp_path / "agingkb.db")], immutables=[])
    with pytest.raises(DescriptionError, match="publisher"):
        run_async(instance.invoke_startup())


def test_a_database_served_without_its_package_has_no_description(fixture_build, tmp_path):
    from datasette.app import Datasette

    out, _ = fixture_build
    shutil.copyfile(out / "agingkb.db", tmp_path / "agingkb.db")
    instance = Datasette([str(tmp_path / "agingkb.db")], immutables=[])

    async def fetch():
        await instance.invoke_startup()
        return (await instance.client.get("/")), (await instance.client.get("/croissant.json"))

    home, described = run_async(fetch())
    assert home.status_code == 200 and "Dataset version" in home.text
    assert "application/ld+json" not in home.text and described.status_code == 404


# Croissant ---------------------------------------------------------------


def test_mlcroissant_validate_accepts_the_builds_croissant(fixture_build):
    out, _ = fixture_build
    path = out / "package" / "croissant.json"
    validate = Path(sys.executable).parent / "mlcroissant"
    completed = subprocess.run(
        [str(validate), "validate", "--jsonld", str(path)], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "error" not in completed.stderr.lower().replace("found the following 0 error", ""), completed.stderr


def test_croissant_describes_every_declared_table_and_csv(fixture_build, schema):
    out, _ = fixture_build
    package_dir = out / "package"
    described = json.loads((package_dir / "croissant.json").read_text())
    files = {f["contentUrl"]: f["sha256"] for f in described["distribution"]}
    assert files == {
        f"{t}.csv": hashlib.sha256((package_dir / f"{t}.csv").read_bytes()).hexdigest() for t in schema.tables
    }
    record_sets = {r["name"]: [f["name"] for f in r["field"]] for r in described["recordSet"]}
    assert record_sets == {t: [c.name for c in table.columns] for t, table in schema.tables.items()}
    with zipfile.ZipFile(out / "datapackage.zip") as archive:  # it travels with the CSVs it names
        assert json.loads(archive.read("croissant.json")) == described


def as_sqlite(value, column_type: str):
    """A value mlcroissant gives, as the SQLite table holds it."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if column_type == "boolean":
        return int(bool(value))
    if column_type == "date":
        return value.date().isoformat() if isinstance(value, dt.datetime) else str(value)
    return value


def read_as_a_number(loaded, stored) -> bool:
    """mlcroissant reads CSV with pandas' type guessing, whatever the
    field's dataType: a text cell '2' comes back as '2.0'."""
    try:
        return isinstance(loaded, str) and isinstance(stored, str) and float(loaded) == float(stored)
    except ValueError:
        return False


# Booleans and a date (pages), numbers and booleans (trials), numbers (trial_outcomes), a declared flag (gap_tags).
@pytest.mark.parametrize("table", ["pages", "trials", "trial_outcomes", "gap_tags"])
def test_mlcroissant_loads_records_equal_to_the_sqlite_table(fixture_build, schema, table):
    import mlcroissant as mlc

    out, _ = fixture_build
    columns = schema.tables[table].columns
    key = [i for i, c in enumerate(columns) if c.name in schema.tables[table].primary_key]
    loaded = mlc.Dataset(jsonld=str(out / "package" / "croissant.json"))
    records = {}
    for record in loaded.records(table):
        row = tuple(as_sqlite(record[f"{table}/{c.name}"], c.type) for c in columns)
        records[tuple(row[i] for i in key)] = row
    database = sqlite3.connect(out / "agingkb.db")
    rows = database.execute(f"select {', '.join(f'[{c.name}]' for c in columns)} from [{table}]").fetchall()
    assert rows and len(records) == len(rows), table
    typed = {c.name for c in columns if c.type in ("boolean", "date", "number")}
    assert any(row[i] is not None for row in rows for i, c in enumerate(columns) if c.name in typed), table
    for row in rows:
        record = records[tuple(row[i] for i in key)]
        for column, got, stored in zip(columns, record, row):
            if got != stored:
                assert column.type in ("string", "text") and read_as_a_number(got, stored), (column.name, got, stored)


def test_booleans_load_whether_the_csv_writes_true_false_or_1_0(fixture_build, schema, tmp_path):
    """The package's CSV writes booleans as 1/0; written true/false
    instead, the same croissant.json loads the same values."""
    import csv

    import mlcroissant as mlc

    out, _ = fixture_build
    shutil.copytree(out / "package", tmp_path / "package")
    flags_of = {}
    for table in ("pages", "gap_tags"):
        flags = [c.name for c in schema.tables[table].columns if c.type == "boolean"]
        path = tmp_path / "package" / f"{table}.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert any(row[flag] in ("1", "0") for row in rows for flag in flags), table
        for row in rows:
            row.update({flag: {"1": "true", "0": "false"}.get(row[flag], row[flag]) for flag in flags})
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        flags_of[table] = flags
    # as a build writing true/false would: mlcroissant checks every file against its SHA-256
    described_path = tmp_path / "package" / "croissant.json"
    described = json.loads(described_path.read_text())
    for entry in described["distribution"]:
        entry["sha256"] = hashlib.sha256((tmp_path / "package" / entry["contentUrl"]).read_bytes()).hexdigest()
    described_path.write_text(json.dumps(described))
    database = sqlite3.connect(out / "agingkb.db")
    for table, flags in flags_of.items():
        stored = sorted(repr(row) for row in database.execute(f"select {', '.join(flags)} from {table}"))
        for directory in (out / "package", tmp_path / "package"):
            records = mlc.Dataset(jsonld=str(directory / "croissant.json")).records(table)
            loaded = sorted(
                repr(tuple(as_sqlite(record[f"{table}/{flag}"], "boolean") for flag in flags)) for record in records
            )
            assert loaded == stored, (table, directory)


def test_a_croissant_field_that_cannot_be_filled_is_an_error(fixture_build, schema):
    package, _ = _package_and_snapshot(fixture_build)
    digests = {name: "0" * 64 for name in schema.tables}
    assert croissant(schema, package, digests)["recordSet"]
    with pytest.raises(CroissantError, match="SHA-256 of pages.csv"):
        croissant(schema, package, {**digests, "pages": None})
    with pytest.raises(CroissantError, match="license"):
        croissant(schema, {**package, "licenses": []}, digests)


def test_a_build_whose_declarations_leave_a_field_empty_fails(tmp_path):
    from etl.options import BuildOptions
    from etl.pipeline.build import build
    from etl.pipeline.outputs import BuildError

    from .conftest import FIXTURE_WIKI

    shutil.copytree(ROOT / "data", tmp_path / "data")
    site = yaml.safe_load((tmp_path / "data" / "site.yml").read_text())
    site["package"]["keywords"] = []
    (tmp_path / "data" / "site.yml").write_text(yaml.safe_dump(site))
    with pytest.raises(BuildError, match="croissant.json: nothing to fill keywords"):
        build(
            FIXTURE_WIKI,
            tmp_path / "out",
            upstream_commit=None,
            options=BuildOptions(jobs=1, data_dir=tmp_path / "data"),
        )
    assert not (tmp_path / "out" / "agingkb.db").exists()


def test_the_site_serves_croissant_with_absolute_urls(fixture_url, fixture_build):
    out, _ = fixture_build
    response = httpx.get(fixture_url + "/croissant.json", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/ld+json")
    served_description = response.json()
    built = json.loads((out / "package" / "croissant.json").read_text())
    assert served_description["recordSet"] == built["recordSet"]
    for entry in served_description["distribution"]:
        assert entry["contentUrl"] == f"{fixture_url}/-/downloads/{entry['name']}"
        file = httpx.get(entry["contentUrl"], timeout=30)
        assert file.status_code == 200 and hashlib.sha256(file.content).hexdigest() == entry["sha256"]


# Sitemap -----------------------------------------------------------------


def check_sitemap(url: str, database: sqlite3.Connection) -> list[str]:
    """The sitemap of the site at url: valid under the protocol, the home
    page, every table it lists and every entity row once, absolute, and a
    sample of them answering 200; robots.txt names it."""
    response = httpx.get(url + "/sitemap.xml", timeout=60)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{{{NAMESPACE}}}urlset"
    assert all(child.tag == f"{{{NAMESPACE}}}url" for child in root)
    locs = [child.find(f"{{{NAMESPACE}}}loc").text for child in root]
    assert all(loc.startswith(url + "/") for loc in locs)
    assert len(set(locs)) == len(locs) <= 50_000
    home = httpx.get(url + "/", timeout=30).text
    tables = set(re.findall(r'data-table="([^"]+)"', home))
    entities = ("pages", "trials", "works", "gap_tags")
    rows = sum(database.execute(f"select count(*) from {t}").fetchone()[0] for t in entities)
    assert rows > 0 and tables
    assert len(locs) == 1 + len(tables) + rows
    assert locs[0] == url + "/"
    robots = httpx.get(url + "/robots.txt", timeout=30).text
    assert f"Sitemap: {url}/sitemap.xml" in robots.splitlines()
    assert "Disallow: /agingkb?sql=" in robots.splitlines()  # the block-robots rules stay
    for loc in random.Random(25).sample(locs, min(30, len(locs))):
        assert httpx.get(loc, timeout=60).status_code == 200, loc
    assert httpx.get(url + "/sitemap-1.xml", timeout=30).status_code == 404  # one file holds them all
    return locs


def test_the_sitemap_lists_home_tables_and_entity_rows(fixture_url, fixture_build):
    out, _ = fixture_build
    locs = check_sitemap(fixture_url, sqlite3.connect(out / "agingkb.db"))
    assert any("~2F" in loc for loc in locs)  # page keys hold slashes, tilde-encoded as Datasette's row URLs


def test_the_real_wikis_sitemap(datasette_url, real_db):
    check_sitemap(datasette_url, real_db)


def test_past_the_limit_the_sitemap_is_an_index_of_parts():
    paths = [f"/agingkb/pages/p{n}&x" for n in range(7)]
    documents = sitemap_documents(paths, lambda n: f"/sitemap-{n}.xml", limit=3)
    index = ET.fromstring(documents[0].replace("\x00base\x00", "https://h"))
    assert index.tag == f"{{{NAMESPACE}}}sitemapindex"
    parts = [node.find(f"{{{NAMESPACE}}}loc").text for node in index]
    assert parts == [f"https://h/sitemap-{n}.xml" for n in (1, 2, 3)]
    listed = []
    for n in (1, 2, 3):
        part = ET.fromstring(documents[n].replace("\x00base\x00", "https://h"))
        locs = [node.find(f"{{{NAMESPACE}}}loc").text for node in part]
        assert 0 < len(locs) <= 3
        listed += locs
    assert listed == ["https://h" + path for path in paths]  # the & escaped in the XML, read back whole
    assert sitemap_documents(paths, lambda n: "", limit=7).keys() == {0}

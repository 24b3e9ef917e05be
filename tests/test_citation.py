"""How the dataset is cited: CITATION.cff at the repository root and in a
release, validated by cffconvert (in its own venv, `make cffconvert`: it
pins jsonschema 3, the site jsonschema 4); .zenodo.json checked against
Zenodo's deposit metadata rules; a configured DOI carried into both and onto
the home page; the home page's year and version read from the build."""

import json
import re
import shutil
import subprocess

import httpx
import jsonschema
import pytest
from ruamel.yaml import YAML

from agingkb_site.serve import datasette_executable, free_port, serve_args, wait_until_serving
from etl.options import BuildOptions
from etl.pipeline.build import build
from etl.release.citation import CitationError, citation_cff, citation_facts, zenodo_json
from etl.release.dist import make_release
from etl.schema import DATA_DIR, load_yaml

from .conftest import FIXTURE_WIKI, ROOT

CFFCONVERT = ROOT / ".venv-cff" / "bin" / "cffconvert"
UPSTREAM = "a100dc32d825b9b9536da5df20631b86f8e64254"
DOI = "10.5281/zenodo.1234567"  # a DOI of the right shape for the tests; the project configures none

# Zenodo's deposit metadata (developers.zenodo.org, "Deposit metadata" of the
# legacy REST API), transcribed as a JSON Schema: no schema of it ships in a
# package. Required fields, their types, the vocabularies the fields we
# write use, and no field Zenodo does not know.
RELATIONS = (
    "isCitedBy cites isSupplementTo isSupplementedBy isContinuedBy continues isDescribedBy describes "
    "hasMetadata isMetadataFor isNewVersionOf isPreviousVersionOf isPartOf hasPart isReferencedBy references "
    "isDocumentedBy documents isCompiledBy compiles isVariantFormOf isOriginalFormOf isIdenticalTo "
    "isAlternateIdentifier isReviewedBy reviews isDerivedFrom isSourceOf requires isRequiredBy "
    "isObsoletedBy obsoletes isVersionOf hasVersion"
).split()
ZENODO = {
    "type": "object",
    "required": ["upload_type", "publication_date", "title", "creators", "description", "access_right", "license"],
    "additionalProperties": False,
    "properties": {
        "upload_type": {
            "enum": [
                "publication",
                "poster",
                "presentation",
                "dataset",
                "image",
                "video",
                "software",
                "lesson",
                "physicalobject",
                "other",
            ]
        },
        "publication_date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "title": {"type": "string", "minLength": 1},
        "creators": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "affiliation": {"type": "string"},
                    "orcid": {"type": "string"},
                    "gnd": {"type": "string"},
                },
            },
        },
        "description": {"type": "string", "minLength": 1},
        "access_right": {"enum": ["open", "embargoed", "restricted", "closed"]},
        "license": {"type": "string", "pattern": "^[a-z0-9.-]+$"},
        "doi": {"type": "string"},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string"},
        "version": {"type": "string"},
        "language": {"type": "string"},
        "related_identifiers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["identifier", "relation"],
                "additionalProperties": False,
                "properties": {
                    "identifier": {"type": "string", "minLength": 1},
                    "relation": {"enum": RELATIONS},
                    "scheme": {"type": "string"},
                    "resource_type": {"type": "string"},
                },
            },
        },
    },
}


def cffconvert(path):
    if not CFFCONVERT.exists():
        pytest.fail(f"cffconvert is missing at {CFFCONVERT}: run `make cffconvert`")
    return subprocess.run([str(CFFCONVERT), "--validate", "-i", str(path)], capture_output=True, text=True)


def with_doi(tmp_path, doi):
    """A copy of data/ whose citation declares `doi`."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    site = data / "site.yml"
    text = site.read_text()
    assert '    doi: ""\n' in text
    site.write_text(text.replace('    doi: ""\n', f'    doi: "{doi}"\n', 1))
    return data


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("citation")
    build(FIXTURE_WIKI, root / "build", upstream_commit=UPSTREAM, options=BuildOptions(jobs=1))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FLY_API_TOKEN", raising=False)
        return make_release(root / "build", root / "dist", app="agingkb-test")


def test_the_repository_citation_is_valid_and_says_what_the_declaration_says():
    completed = cffconvert(ROOT / "CITATION.cff")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    root = YAML(typ="safe").load((ROOT / "CITATION.cff").read_text())
    facts = citation_facts()
    dataset = root["preferred-citation"]
    assert dataset["type"] == "data" and dataset["title"] == facts["title"] == root["title"]
    assert dataset["authors"] == facts["authors"] and dataset["license"] == facts["license"]
    assert dataset["url"] == facts["repository"] and dataset.get("doi", "") == facts["doi"]
    # The code's licence and holders as LICENSE states them.
    assert root["license"] == "MIT" and "Copyright (c) 2026 agingkb contributors" in (ROOT / "LICENSE").read_text()
    assert root["authors"] == [{"name": "agingkb contributors"}]
    # The authors named for the dataset are the wiki's author.
    upstream = load_yaml(DATA_DIR / "sources.yml")["upstream"]
    assert [f"{a['given-names']} {a['family-names']}" for a in facts["authors"]] == [upstream["author"]]


def test_a_release_carries_a_valid_citation_and_zenodo_metadata(release):
    directory = release.directory
    completed = cffconvert(directory / "CITATION.cff")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    citation = YAML(typ="safe").load((directory / "CITATION.cff").read_text())
    assert citation["version"] == release.version and "doi" not in citation  # none is configured
    zenodo = json.loads((directory / ".zenodo.json").read_text())
    jsonschema.validate(zenodo, ZENODO)
    assert zenodo["upload_type"] == "dataset" and zenodo["license"] == "cc-by-4.0"
    assert zenodo["version"] == release.version == directory.name
    assert zenodo["publication_date"] == str(citation["date-released"])
    assert zenodo["creators"] == [{"name": "Adams, Joey"}] and zenodo["keywords"] == citation["keywords"]
    derived = [r["identifier"] for r in zenodo["related_identifiers"] if r["relation"] == "isDerivedFrom"]
    assert derived == [
        "https://github.com/jadams5/aging_wiki",
        f"https://github.com/jadams5/aging_wiki/tree/{UPSTREAM}",
    ]
    assert f"declared commit {UPSTREAM}, not verified" in zenodo["notes"]  # and how the commit is known
    listed = (directory / "SHA256SUMS").read_text()
    assert re.search(r"^[0-9a-f]{64}  \.zenodo\.json$", listed, re.M)


def test_a_configured_doi_goes_into_both(release, tmp_path):
    summary = json.loads((release.directory.parent.parent / "build" / "summary.json").read_text())
    data = with_doi(tmp_path, DOI)
    (tmp_path / "CITATION.cff").write_text(citation_cff(release.version, summary, data))
    completed = cffconvert(tmp_path / "CITATION.cff")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    citation = YAML(typ="safe").load((tmp_path / "CITATION.cff").read_text())
    assert (
        citation["doi"] == DOI
        and {"type": "doi", "value": DOI, "description": "The dataset's DOI"} in citation["identifiers"]
    )
    zenodo = json.loads(zenodo_json(release.version, summary, data))
    jsonschema.validate(zenodo, ZENODO)
    assert {"identifier": DOI, "relation": "isVersionOf", "scheme": "doi"} in zenodo["related_identifiers"]


@pytest.mark.parametrize("doi", ["https://doi.org/10.5281/zenodo.1", "zenodo.1", "10.5281"])
def test_a_doi_that_is_not_one_is_refused(tmp_path, doi):
    with pytest.raises(CitationError, match="is not a DOI"):
        citation_facts(with_doi(tmp_path, doi))


def served_with_metadata(db, metadata, log):
    """Datasette serving db with another metadata file, on 127.0.0.1."""
    port = free_port()
    args = serve_args(db, "127.0.0.1", port)
    args[args.index(str(ROOT / "metadata.yml"))] = str(metadata)
    with open(log, "wb") as handle:
        process = subprocess.Popen([datasette_executable(), *args], stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    assert wait_until_serving(url), log.read_text()
    return process, url


def how_to_cite(html):
    return html.split("<h2>How to cite</h2>", 1)[1].split("</pre>", 1)[0]


def test_the_home_page_cites_the_year_and_version_and_a_configured_doi(release, tmp_path):
    out = release.directory.parent.parent / "build"
    created = json.loads((out / "package" / "datapackage.json").read_text())["created"]
    metadata = tmp_path / "metadata.yml"
    text = (ROOT / "metadata.yml").read_text()
    assert "    doi: ''\n" in text
    pages = {}
    for name, content in (("plain", text), ("doi", text.replace("    doi: ''\n", f"    doi: {DOI}\n", 1))):
        metadata.write_text(content)
        process, url = served_with_metadata(out / "agingkb.db", metadata, tmp_path / f"{name}.log")
        try:
            pages[name] = how_to_cite(httpx.get(url + "/", timeout=30).text)
        finally:
            process.terminate()
            process.wait(timeout=30)
    plain = pages["plain"]
    assert f"Adams J ({created[:4]})." in plain and f'class="cite-version">{release.version}<' in plain
    assert f"  year = {{{created[:4]}}}," in plain and f"  version = {{{release.version}}}," in plain
    assert "doi" not in plain.lower()
    doi = pages["doi"]
    assert f'<a class="doi" href="https://doi.org/{DOI}">' in doi and f"  doi = {{{DOI}}}," in doi

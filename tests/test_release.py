"""`etl release` (the last step of `make publish`): a verified release
directory, and without Fly credentials the deployable app, which is then
run the way its Dockerfile runs it and must serve the release."""

import json
import re
import shutil
import sqlite3
import subprocess
import tempfile
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest
from ruamel.yaml import YAML

from etl.options import BuildOptions
from etl.pipeline.build import build
from etl.release.dist import ReleaseError, make_release, verify_release
from etl.release.site_wheel import build_site_wheel
from etl.wiki.discover import file_sha256 as sha256

from .conftest import BIN, FIXTURE_WIKI, ROOT, served


@pytest.fixture(scope="module")
def release(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.delenv("FLY_API_TOKEN", raising=False)
    root = tmp_path_factory.mktemp("release")
    build(FIXTURE_WIKI, root / "build", options=BuildOptions(jobs=1))
    return make_release(root / "build", root / "dist", app="agingkb-test"), root


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_release_directory_is_complete_and_verified(release):
    made, root = release
    assert made.directory == root / "dist" / made.version and not made.deployed
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{16}", made.version)
    assert {p.name for p in made.directory.iterdir()} == {
        "agingkb.db",
        "datapackage.zip",
        "ndjson.zip",
        "CITATION.cff",
        ".zenodo.json",
        "RELEASE_NOTES.md",
        "CHANGELOG.md",
        "SHA256SUMS",
        "app",
    }
    assert "The first release" in (made.directory / "CHANGELOG.md").read_text()
    for line in (made.directory / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert sha256(made.directory / name) == digest
    completed = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=made.directory, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with zipfile.ZipFile(made.directory / "datapackage.zip") as archive:
        assert "datapackage.json" in archive.namelist() and "pages.csv" in archive.namelist()
    citation = YAML(typ="safe").load((made.directory / "CITATION.cff").read_text())
    assert (
        citation["cff-version"] == "1.2.0"
        and citation["version"] == made.version
        and citation["license"] == "CC-BY-4.0"
    )
    assert citation["authors"] == [{"family-names": "Adams", "given-names": "Joey"}]
    notes = (made.directory / "RELEASE_NOTES.md").read_text()
    db = sqlite3.connect(made.directory / "agingkb.db")
    pages = db.execute("select count(*) from pages").fetchone()[0]
    assert f"| pages | {pages:,} |" in notes and made.version in notes


def test_a_damaged_release_does_not_verify(release, tmp_path):
    made, _ = release
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(made.directory), str(copy)], check=True)
    with open(copy / "CITATION.cff", "a") as handle:
        handle.write("# changed\n")
    with pytest.raises(ReleaseError, match="checksum"):
        verify_release(copy)


def test_a_release_without_a_build_fails_cleanly(tmp_path):
    with pytest.raises(ReleaseError, match="no finished build"):
        make_release(tmp_path / "nothing", tmp_path / "dist")
    assert not any((tmp_path / "dist").glob("*")) if (tmp_path / "dist").exists() else True


def test_the_release_carries_the_site_as_a_wheel(release):
    """The app installs the site package from a wheel beside its Dockerfile:
    every file of agingkb_site/ as it is, and the entry points pyproject.toml
    declares, so Datasette loads it as in a development install."""
    made, _ = release
    app = made.app_directory
    (wheel,) = app.glob("agingkb_site-*-py3-none-any.whl")
    assert re.search(rf"^RUN pip install -U .* {re.escape(wheel.name)}$", (app / "Dockerfile").read_text(), re.M)
    assert not (app / "plugins").exists() and not (app / "templates").exists()
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        source = ROOT / "agingkb_site"
        for path in source.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                name = path.relative_to(ROOT).as_posix()
                assert name in names and archive.read(name) == path.read_bytes(), name
        (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["datasette"]
        assert archive.read(entry_points).decode() == "[datasette]\n" + "".join(
            f"{name} = {target}\n" for name, target in declared.items()
        )
    # The same source gives the same wheel, byte for byte.
    rebuilt = build_site_wheel(Path(tempfile.mkdtemp(prefix="agingkb-wheel-")))
    assert rebuilt.read_bytes() == wheel.read_bytes()


def test_one_dataset_version_everywhere(release, tmp_path):
    """The build's datapackage.json, the released one, the snapshots table
    (build and release), CITATION.cff, the release directory's name and the
    home page of a server on the released database all hold one string,
    and the released package passes `frictionless validate`."""
    made, root = release
    build_package = json.loads((root / "build" / "package" / "datapackage.json").read_text())
    with zipfile.ZipFile(made.directory / "datapackage.zip") as archive:
        archive.extractall(tmp_path / "released")
    released_package = json.loads((tmp_path / "released" / "datapackage.json").read_text())
    citation = YAML(typ="safe").load((made.directory / "CITATION.cff").read_text())
    found = {
        "build datapackage.json": build_package["version"],
        "released datapackage.json": released_package["version"],
        "build snapshots table": sqlite3.connect(root / "build" / "agingkb.db")
        .execute("select dataset_version from snapshots")
        .fetchone()[0],
        "released snapshots table": sqlite3.connect(made.directory / "agingkb.db")
        .execute("select dataset_version from snapshots")
        .fetchone()[0],
        "CITATION.cff": citation["version"],
        "dist directory": made.directory.name,
    }
    with served(made.directory / "agingkb.db", tmp_path / "datasette.log") as url:
        found["home page"] = re.search(r'class="version">([^<]+)<', httpx.get(url + "/").text).group(1)
    assert len(set(found.values())) == 1, found
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{16}", made.version)
    validated = subprocess.run(
        [str(BIN / "frictionless"), "validate", "--json", str(tmp_path / "released" / "datapackage.json")],
        capture_output=True,
        text=True,
    )
    assert validated.returncode == 0 and json.loads(validated.stdout)["valid"] is True, validated.stdout[-2000:]


def _previous(release, tmp_path, version: str, edit_descriptor) -> Path:
    """A previous release's package: this build's, with another version and
    a schema edited as the test needs."""
    made, root = release
    previous = tmp_path / "previous"
    shutil.copytree(root / "build" / "package", previous)
    descriptor = json.loads((previous / "datapackage.json").read_text())
    descriptor["version"] = version
    edit_descriptor(descriptor)
    (previous / "datapackage.json").write_text(json.dumps(descriptor))
    return previous


def _drop_table(name):
    return lambda d: d.update(resources=[r for r in d["resources"] if r["name"] != name])


def _add_column(table, column):
    def edit(d):
        resource = next(r for r in d["resources"] if r["name"] == table)
        resource["schema"]["fields"].append({"name": column, "type": "string"})

    return edit


def test_the_version_must_follow_the_schema_change(release, tmp_path, monkeypatch):
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    made, root = release
    current = made.version.split("+")[0]
    major, minor, patch = (int(x) for x in current.split("."))
    # A table added since the previous release is a minor change: the previous minor version + 1.
    earlier = f"{major}.{minor - 1}.{patch}+0000000000000000" if minor else f"{major - 1}.9.0+0000000000000000"
    if minor:
        ok = make_release(
            root / "build",
            tmp_path / "dist-ok",
            previous=_previous(release, tmp_path / "a", earlier, _drop_table("commits")),
        )
        changes = (ok.directory / "CHANGELOG.md").read_text()
        assert f"A minor release: the version follows the schema change since {earlier}." in changes
        assert "- minor: table commits added" in changes
    same = _previous(release, tmp_path / "b", f"{current}+0000000000000000", _drop_table("commits"))
    with pytest.raises(
        ReleaseError,
        match=rf"version {current} disagrees .* a minor change \(table commits added\), "
        rf"so the version must be {major}\.{minor + 1}\.0",
    ):
        make_release(root / "build", tmp_path / "dist-b", previous=same)
    # A column the previous release had and this one lacks is a major change.
    removed = _previous(release, tmp_path / "c", f"{current}+0000000000000000", _add_column("pages", "legacy_note"))
    with pytest.raises(
        ReleaseError,
        match=rf"a major change \(column pages.legacy_note removed\), so the version must be {major + 1}\.0\.0",
    ):
        make_release(root / "build", tmp_path / "dist-c", previous=removed)
    assert not (tmp_path / "dist-b").exists() or not any((tmp_path / "dist-b").iterdir())


def test_a_data_release_lists_what_changed_and_carries_the_changes(release, tmp_path, monkeypatch):
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    made, root = release
    wiki = tmp_path / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    page = wiki / "molecules" / "proteins" / "demo-kinase.md"
    page.write_text(page.read_text().replace("- A claim with no source at all #gap/unsourced\n", ""))
    result = build(wiki, tmp_path / "build", previous=made.directory, options=BuildOptions(jobs=1))
    assert result.compared_with == made.version
    db = sqlite3.connect(tmp_path / "build" / "agingkb.db")
    gap = db.execute("select kind, commit_hash, key from changes where table_name = 'gaps'").fetchall()
    db.close()
    assert gap == [
        (
            "removed",
            None,
            "molecules/proteins/demo-kinase · gap/unsourced · A claim with no source at all #gap/unsourced",
        )
    ]
    # The same pages from a different snapshot: the same software version, data only.
    second = make_release(tmp_path / "build", root / "dist", app="agingkb-test")
    changes = (second.directory / "CHANGELOG.md").read_text()
    assert f"changes since {made.version}" in changes and "A patch release" in changes
    assert (
        "- Gap tags: 0 opened, 1 closed" in changes
        and "closed `#gap/unsourced` on `molecules/proteins/demo-kinase`" in changes
    )
    with zipfile.ZipFile(second.directory / "datapackage.zip") as archive:
        assert b"gap/unsourced" in archive.read("changes.csv")


def test_the_site_lists_the_changes_since_the_previous_release(release, tmp_path):
    made, _ = release
    wiki = tmp_path / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    page = wiki / "molecules" / "proteins" / "demo-kinase.md"
    page.write_text(page.read_text().replace("uniprot: Q9ZZZ1", "uniprot: Q9ZZZ2"))
    build(wiki, tmp_path / "build", previous=made.directory, options=BuildOptions(jobs=1))
    with served(tmp_path / "build" / "agingkb.db", tmp_path / "datasette.log") as url:
        html = httpx.get(url + "/-/what-changed", timeout=30).text
    assert "Changes since the previous release" in html
    assert "identifiers · molecules/proteins/demo-kinase · uniprot · Q9ZZZ2</a> · added" in html
    assert "identifiers · molecules/proteins/demo-kinase · uniprot · Q9ZZZ1</a> · removed" in html
    assert "/agingkb/identifiers?page=molecules%2Fproteins%2Fdemo-kinase&amp;field=uniprot&amp;value=Q9ZZZ2" in html

"""The wiki's pre-commit hook (.pre-commit-hooks.yaml), tried as a wiki would
use it: `pre-commit try-repo` installs this project into a fresh virtualenv
(from PyPI: its core dependencies alone) and checks the staged pages of a
scratch git wiki. Needs the package registry, as `make install` does."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import BIN, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "yaml_lines"
SITE_ONLY = {"datasette", "frictionless", "sqlite-utils", "uvicorn", "playwright", "nh3", "csv-diff"}
GIT = ["git", "-c", "user.name=agingkb tests", "-c", "user.email=tests@agingkb.invalid", "-c", "commit.gpgsign=false"]


def git(directory: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=directory, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """This working tree (tracked and new files, not ignored ones) committed
    in a repository of its own: what the hook installs is the code under
    test, whatever is staged here."""
    snapshot = tmp_path_factory.mktemp("project")
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    git(snapshot, "init", "-q")
    git(snapshot, "add", "-A")
    git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot


@pytest.fixture()
def wiki(tmp_path) -> Path:
    """A two-page wiki in git: a good page and one whose YAML is broken."""
    wiki = tmp_path / "wiki"
    wiki.mkdir()
    shutil.copy(FIXTURES / "good.md", wiki / "good.md")
    shutil.copy(FIXTURES / "unclosed-double-quote.md", wiki / "broken.md")
    git(wiki, "init", "-q")
    git(wiki, "add", "-A")
    return wiki


def try_repo(project: Path, wiki: Path, *files: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PRE_COMMIT_HOME=str(wiki.parent / "pre-commit-home"))
    command = [str(BIN / "pre-commit"), "try-repo", str(project), "agingkb-check", "--files", *files]
    return subprocess.run(command, cwd=wiki, capture_output=True, text=True, env=environment, timeout=540)


def test_try_repo_fails_a_broken_page_and_names_its_code_and_line(project, wiki):
    completed = try_repo(project, wiki, "broken.md", "good.md")
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Failed" in completed.stdout
    assert "broken.md:3: error: invalid YAML: a quoted value starts on this line" in completed.stdout
    assert "parsing stopped at line 15" in completed.stdout and "[yaml-syntax]" in completed.stdout
    assert "good.md:" not in completed.stdout


def test_try_repo_passes_a_good_page_beside_a_broken_one(project, wiki):
    """Only the files handed to the hook are reported; the broken page is
    still read (links resolve against the whole wiki)."""
    completed = try_repo(project, wiki, "good.md")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Passed" in completed.stdout
    assert (wiki / ".git" / "agingkb-check-cache").is_dir()  # the next commit reads unchanged pages from it


def test_the_checker_installs_and_runs_without_the_site_dependencies(project, tmp_path):
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = {requirement.split("==")[0].lower() for requirement in declared["dependencies"]}
    assert core.isdisjoint(SITE_ONLY) and SITE_ONLY - {"playwright"} <= {
        requirement.split("==")[0].lower() for requirement in declared["optional-dependencies"]["site"]
    }
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    subprocess.run([*pip, "install", "--quiet", str(project)], check=True, capture_output=True, timeout=540)
    installed = subprocess.run([*pip, "list", "--format=freeze"], capture_output=True, text=True, check=True).stdout
    names = {line.split("==")[0].lower() for line in installed.splitlines()}
    assert "agingkb" in names and names.isdisjoint(SITE_ONLY)

    check = subprocess.run(
        [str(venv / "bin" / "etl"), "check", "--wiki", str(FIXTURES), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout: its data/ is what the install carries
    )
    assert check.returncode == 1 and '"code": "yaml-syntax"' in check.stdout
    build = subprocess.run(
        [str(venv / "bin" / "etl"), "build", "--wiki", str(FIXTURES), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert build.returncode == 2 and "pip install 'agingkb[site]'" in build.stderr
    assert "Traceback" not in build.stderr


def test_the_package_list_names_every_folder_of_code():
    """pyproject.toml lists the packages (so that data/ installs as etl.data):
    a new folder of code must be added there, or installs would lack it."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    declared = set(setuptools["packages"])
    folders = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for package in ("etl", "agingkb_site")
        for path in (ROOT / package).rglob("__init__.py")
    }
    assert declared == folders | {"etl.data"}

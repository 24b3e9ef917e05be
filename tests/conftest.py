import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agingkb_site.serve import running_server

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_WIKI = ROOT / "tests" / "fixtures" / "wiki"
REAL_WIKI = Path(os.environ.get("AGINGKB_TEST_WIKI", ROOT.parent / "shared" / "aging_wiki"))
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def schema():
    from etl.schema import load_schema

    return load_schema()


@pytest.fixture(scope="session")
def fixture_build(tmp_path_factory):
    from etl.pipeline.build import build

    out = tmp_path_factory.mktemp("fixture-build")
    result = build(FIXTURE_WIKI, out, upstream_commit=None, jobs=1)
    return out, result


@pytest.fixture(scope="session")
def real_build(tmp_path_factory):
    """The real wiki, built once per session with the project's own CLI."""
    if not REAL_WIKI.is_dir():
        pytest.fail(f"the wiki snapshot is missing at {REAL_WIKI}; CI provides ../shared/aging_wiki")
    out = tmp_path_factory.mktemp("real-build")
    completed = subprocess.run(
        [
            str(BIN / "etl"),
            "build",
            "--wiki",
            str(REAL_WIKI),
            "--out",
            str(out),
            "--upstream-commit",
            "a100dc32d825b9b9536da5df20631b86f8e64254",
        ],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return out, completed.stdout


@pytest.fixture(scope="session")
def real_db(real_build):
    """The real wiki's database, opened once."""
    out, _ = real_build
    connection = sqlite3.connect(out / "agingkb.db")
    yield connection
    connection.close()


def served(db: Path, log: Path):
    """A real server of db on a free loopback port, run as `etl serve` runs
    it (uvicorn workers, one per core); its log goes to a file. The tests
    are one address making hundreds of SQL requests a minute (the crawl
    follows every "View and edit SQL" link), so the per-client rate is
    raised; tests/test_admission.py tests the declared limits."""
    return running_server(db, log, limits={"client_rate": "100000/minute"})


@pytest.fixture(scope="session")
def datasette_url(real_build, tmp_path_factory):
    """The real wiki's build, served."""
    out, _ = real_build
    with served(out / "agingkb.db", tmp_path_factory.mktemp("datasette") / "datasette.log") as url:
        yield url


ARTIFACTS = ROOT / "test-artifacts"  # screenshots the browser tests save
CHROMIUM = os.environ.get("AGINGKB_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright (browsers cannot be downloaded here)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's chromium (`apt-get install chromium`), as .ci/run does"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def fixture_url(fixture_build, tmp_path_factory):
    """The fixture wiki's build, served."""
    out, _ = fixture_build
    with served(out / "agingkb.db", tmp_path_factory.mktemp("fixture-datasette") / "datasette.log") as url:
        yield url


def git(directory, *args):
    """Run git in `directory` as a fixed author (tests make their own repositories)."""
    return subprocess.run(
        [
            "git",
            "-C",
            str(directory),
            "-c",
            "user.name=Curator",
            "-c",
            "user.email=curator@example.org",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout

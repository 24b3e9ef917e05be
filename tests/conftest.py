import asyncio
import inspect
import os
import shutil
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agingkb_site.serve import running_server
from etl.options import BuildOptions

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_WIKI = ROOT / "tests" / "fixtures" / "wiki"
REAL_WIKI = Path(os.environ.get("AGINGKB_TEST_WIKI", ROOT.parent / "shared" / "aging_wiki"))
# The wiki's history, beside the wiki (tests/test_history.py).
REAL_HISTORY = REAL_WIKI.parent / "aging_wiki_history.bundle"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def schema():
    from etl.schema import load_schema

    return load_schema()


@pytest.fixture(scope="session")
def fixture_build(tmp_path_factory):
    from etl.pipeline.build import build

    out = tmp_path_factory.mktemp("fixture-build")
    result = build(FIXTURE_WIKI, out, upstream_commit=None, options=BuildOptions(jobs=1))
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
            f"Chromium is missing at {CHROMIUM}: "
            "install Debian's chromium (`apt-get install chromium`), as .ci/run does"
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


def run_async(coroutine):
    """asyncio.run(coroutine) in a thread of its own: a browser test run
    earlier in the session leaves Playwright's event loop on this thread."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


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


def query(db, sql, *params):
    """The rows of one SQL statement on a database file, its connection closed."""
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def fixture_repository(scratch: Path) -> Path:
    """The fixture wiki copied into scratch/wiki as a git repository, its
    pages committed as "First pages"."""
    wiki = scratch / "wiki"
    shutil.copytree(FIXTURE_WIKI, wiki)
    git(wiki, "init", "-q", "-b", "main")
    git(wiki, "add", "-A")
    git(wiki, "commit", "-q", "-m", "First pages")
    return wiki


def history_build(wiki: Path, out: Path) -> None:
    """`etl history` of the repository into out, on one worker; it must succeed."""
    completed = subprocess.run(
        [str(BIN / "etl"), "history", "--wiki", str(wiki), "--out", str(out), "--jobs", "1"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout


# --- test tiers -----------------------------------------------------------
# Each test is marked with the tiers of what it reaches (markers registered in
# pyproject.toml): `wiki` reads the real wiki or its history in ../shared,
# `site` starts a server, `browser` drives Chromium; a test that reaches none
# of them is `unit` (`make test-unit`). What a test reaches is read from the
# fixtures it uses, directly or through other fixtures, and from the code of
# the test and of those fixtures: the names it uses (and, through them, the
# tests' helper functions), so a new test gets its tiers without being told.
# A module that reaches a resource in a way this cannot see (data read when
# the module is imported, a server started by other code) marks its tests
# itself.

TIERS = ("wiki", "site", "browser")
TIER_FIXTURES = {  # the fixtures above that hand out each resource
    "real_build": "wiki",
    "real_db": "wiki",
    "datasette_url": "site",
    "fixture_url": "site",
    "browser": "browser",
}
TIER_NAMES = {  # names whose use starts a server or a browser
    "running_server": "site",
    "served": "site",
    "wait_until_serving": "site",
    "sync_playwright": "browser",
}
REAL_DATA = (REAL_WIKI, REAL_HISTORY)


def _is_real_data(value) -> bool:
    return isinstance(value, Path) and any(value == root or root in value.parents for root in REAL_DATA)


def _code_objects(code):
    yield code
    for constant in code.co_consts:
        if inspect.iscode(constant):
            yield from _code_objects(constant)


def _tiers_of_code(function, seen: set) -> set[str]:
    """The tiers a function reaches through the names its code uses, and
    through the functions of tests/ and benchmarks/ it calls."""
    function = inspect.unwrap(getattr(getattr(function, "hypothesis", None), "inner_test", function))
    code = getattr(function, "__code__", None)
    if code is None or code in seen:
        return set()
    seen.add(code)
    tiers, names = set(), getattr(function, "__globals__", {})
    for each in _code_objects(code):
        for name in each.co_names:
            if name in TIER_NAMES:
                tiers.add(TIER_NAMES[name])
            value = names.get(name)
            if _is_real_data(value):
                tiers.add("wiki")
            elif inspect.isfunction(value) and value.__module__.startswith(("tests.", "benchmarks.")):
                tiers |= _tiers_of_code(value, seen)
        # request.getfixturevalue("fixture_url") names a fixture in a string
        tiers |= {TIER_FIXTURES[c] for c in each.co_consts if isinstance(c, str) and c in TIER_FIXTURES}
    return tiers


def tiers_reached(item) -> set[str]:
    """The tiers `item` reaches, from its fixtures and its code."""
    tiers, seen = set(), set()
    for name in item.fixturenames:  # with the fixtures the fixtures use
        if name in TIER_FIXTURES:
            tiers.add(TIER_FIXTURES[name])
        for definition in item._fixtureinfo.name2fixturedefs.get(name, ()):
            if definition.func.__module__.startswith("tests."):  # not pytest's own
                tiers |= _tiers_of_code(definition.func, seen)
    return tiers | _tiers_of_code(item.function, seen)


def pytest_collection_modifyitems(config, items):
    for item in items:
        found = tiers_reached(item)
        marked = {tier for tier in TIERS if item.get_closest_marker(tier)}
        if item.get_closest_marker("unit") and found | marked:
            raise pytest.UsageError(f"{item.nodeid} is marked unit but reaches {sorted(found | marked)}")
        for tier in sorted(found - marked):
            item.add_marker(getattr(pytest.mark, tier))
        if not found | marked:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def entities(tmp_path_factory):
    """A build of the trial fixture wiki (tests/fixtures/trial_entities_wiki):
    its database and the build's result."""
    out = tmp_path_factory.mktemp("trial-entities")
    from etl.pipeline.build import build

    result = build(ROOT / "tests" / "fixtures" / "trial_entities_wiki", out, options=BuildOptions(jobs=1))
    db = sqlite3.connect(out / "agingkb.db")
    db.row_factory = sqlite3.Row
    yield db, result
    db.close()

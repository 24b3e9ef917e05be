"""The repository tracks sources only: nothing a build, an install or a test
run writes is committed."""

import fnmatch
import subprocess

from .conftest import ROOT

BUILD_OUTPUTS = [
    "*.egg-info/*",
    "*/__pycache__/*",
    "__pycache__/*",
    "*.pyc",
    "build/*",
    "dist/*",
    ".venv/*",
    "test-artifacts/*",
    ".pytest_cache/*",
]


def tracked_build_outputs(paths: list[str]) -> list[str]:
    return [path for path in paths if any(fnmatch.fnmatchcase(path, pattern) for pattern in BUILD_OUTPUTS)]


def test_no_build_output_is_tracked():
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert listed, "git ls-files listed nothing: not a checkout?"
    assert tracked_build_outputs(listed) == []


def test_the_check_recognises_build_outputs():
    # The patterns catch what they are meant to catch, nested or not.
    caught = tracked_build_outputs(
        [
            "agingkb.egg-info/PKG-INFO",
            "etl/__pycache__/x.pyc",
            "build/package/pages.csv",
            "dist/0.2.0/agingkb.db",
            ".venv/bin/python",
            "etl/pipeline/build.py",
            "docs/build.md",
        ]
    )
    assert caught == [
        "agingkb.egg-info/PKG-INFO",
        "etl/__pycache__/x.pyc",
        "build/package/pages.csv",
        "dist/0.2.0/agingkb.db",
        ".venv/bin/python",
    ]


def make_prerequisites(target: str) -> list[str]:
    """A Makefile target's prerequisites as make itself reads them (`make -p`)."""
    database = subprocess.run(
        ["make", "-pnq", "-C", str(ROOT), "help"], capture_output=True, text=True, check=False
    ).stdout
    line = next(line for line in database.splitlines() if line.startswith(f"{target}:"))
    return line.split(":", 1)[1].split()


def test_publish_installs_what_its_tests_need_as_make_test_does():
    # `make publish` runs every test: on a clone where `make test` has not
    # run, it must install the browser and axe-core itself.
    assert set(make_prerequisites("test")) <= set(make_prerequisites("publish"))

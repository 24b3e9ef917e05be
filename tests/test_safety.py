"""Atomic and deterministic builds."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from etl.options import BuildOptions
from etl.pipeline.build import build

from .conftest import BIN, FIXTURE_WIKI, REAL_WIKI


def snapshot_of(out: Path) -> dict[str, bytes]:
    """Every byte a reader of out/ sees: the package files, their zip and the database."""
    files = {f"package/{p.name}": p.read_bytes() for p in sorted((out / "package").iterdir())}
    files["datapackage.zip"] = (out / "datapackage.zip").read_bytes()
    files["agingkb.db"] = (out / "agingkb.db").read_bytes()
    return files


def test_same_pages_give_byte_identical_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(FIXTURE_WIKI, tmp_path / "one", options=BuildOptions(jobs=1))
    build(FIXTURE_WIKI, tmp_path / "two", options=BuildOptions(jobs=2))
    one, two = snapshot_of(tmp_path / "one"), snapshot_of(tmp_path / "two")
    assert one.keys() == two.keys()
    assert [name for name in one if one[name] != two[name]] == []
    created = json.loads(one["package/datapackage.json"])["created"]
    assert created == "2023-11-14T22:13:20Z"


def test_real_wiki_rebuild_is_identical_except_created(tmp_path, real_build):
    first, _ = real_build
    second = tmp_path / "again"
    completed = subprocess.run(
        [
            str(BIN / "etl"),
            "build",
            "--wiki",
            str(REAL_WIKI),
            "--out",
            str(second),
            "--jobs",
            "1",
            "--upstream-commit",
            "a100dc32d825b9b9536da5df20631b86f8e64254",
        ],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    a, b = snapshot_of(first), snapshot_of(second)
    differing = [name for name in a if a[name] != b.get(name)]
    # The zip holds both descriptors, which state when the build ran.
    assert differing == ["package/croissant.json", "package/datapackage.json", "datapackage.zip"]
    for name, when in (("datapackage.json", "created"), ("croissant.json", "dateModified")):
        descriptors = [json.loads(x[f"package/{name}"]) for x in (a, b)]
        for descriptor in descriptors:
            descriptor.pop(when)
        assert descriptors[0] == descriptors[1], name


def _wait_for(predicate, process, limit=120.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def _staged(out: Path, name: str) -> bool:
    current = os.path.realpath(out / ".current")
    return any(os.path.realpath(d) != current and (d / name).exists() for d in (out / ".builds").iterdir())


@pytest.mark.parametrize("stage_marker", ["package/pages.csv", "package/datapackage.json", "agingkb.db"])
def test_build_killed_halfway_leaves_previous_build_untouched(tmp_path, stage_marker):
    if not REAL_WIKI.is_dir():
        pytest.fail(f"the wiki snapshot is missing at {REAL_WIKI}")
    out = tmp_path / "out"
    build(FIXTURE_WIKI, out, options=BuildOptions(jobs=1))
    before = snapshot_of(out)
    published = os.path.realpath(out / ".current")

    process = _killed_at(REAL_WIKI, out, stage_marker)
    assert process.returncode == -signal.SIGKILL
    assert snapshot_of(out) == before
    # The parser processes die with the group, but the kernel ends them
    # asynchronously; the lock they inherited is free once they are gone.
    assert _wait_for_group_to_end(process.pid), "the killed build's processes did not end"

    # The next build cleans up what the killed one left and publishes; the
    # build it replaces is kept as the previous one.
    build(FIXTURE_WIKI, out, options=BuildOptions(jobs=1))
    kept = sorted(os.path.realpath(p) for p in (out / ".builds").iterdir())
    assert kept == sorted([os.path.realpath(out / ".current"), published])
    assert os.path.realpath(out / "previous") == published
    assert snapshot_of(out)["agingkb.db"] == before["agingkb.db"]


def _killed_at(wiki: Path, out: Path, stage_marker: str) -> subprocess.Popen:
    """`etl build` run and killed, with its worker processes, once its
    staging directory holds stage_marker."""
    process = subprocess.Popen(
        [str(BIN / "etl"), "build", "--wiki", str(wiki), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        reached = _wait_for(lambda: _staged(out, stage_marker), process)
        assert reached, f"the build never reached {stage_marker}"
        os.killpg(process.pid, signal.SIGKILL)  # the build and its worker processes
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return process


def _wait_for_group_to_end(group: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_a_second_build_into_the_same_directory_is_refused(tmp_path):
    import fcntl

    from etl.pipeline.build import BuildError

    out = tmp_path / "out"
    build(FIXTURE_WIKI, out, options=BuildOptions(jobs=1))
    with open(out / ".build.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(BuildError, match="another build is writing"):
            build(FIXTURE_WIKI, out, options=BuildOptions(jobs=1))
    build(FIXTURE_WIKI, out, options=BuildOptions(jobs=1))  # free again once the holder is gone


def test_a_patch_killed_halfway_leaves_the_previous_build_and_its_record(tmp_path, monkeypatch):
    """A build patching the last one in place (etl/pipeline/patch.py),
    killed while it writes its CSVs, its database or its zip, leaves the
    published build and the record of it whole: the next build patches it."""
    from benchmarks.compare_builds import differences

    if not REAL_WIKI.is_dir():
        pytest.fail(f"the wiki snapshot is missing at {REAL_WIKI}")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    wiki, out = tmp_path / "wiki", tmp_path / "out"
    shutil.copytree(REAL_WIKI, wiki, ignore=shutil.ignore_patterns(".git"))
    build(wiki, out)
    page = wiki / "molecules" / "proteins" / "il-1ra.md"
    for step, stage_marker in enumerate(["package/pages.csv", "agingkb.db", "datapackage.zip"]):
        before = snapshot_of(out)
        page.write_text(page.read_text(encoding="utf-8") + f"\nA sentence for step {step}.\n", encoding="utf-8")
        process = _killed_at(wiki, out, stage_marker)
        assert snapshot_of(out) == before, stage_marker
        assert _wait_for_group_to_end(process.pid)
    result = build(wiki, out)
    assert result.patched, "the build after the killed ones patched the last published one"
    assert differences(out, build_fresh(wiki, tmp_path / "fresh")) == []


def build_fresh(wiki: Path, out: Path) -> Path:
    build(wiki, out)
    return out

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from etl.serve import serve_args

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
    from etl.build import build

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
        [str(BIN / "etl"), "build", "--wiki", str(REAL_WIKI), "--out", str(out), "--upstream-commit", "a100dc32d825b9b9536da5df20631b86f8e64254"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return out, completed.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(db: Path, log: Path):
    """A real `datasette serve` of db on a free loopback port, configured as
    `etl serve` configures it. Its log goes to a file: a pipe nobody reads
    would fill up and stall the server."""
    port = free_port()
    with open(log, "wb") as handle:
        process = subprocess.Popen([str(BIN / "datasette"), *serve_args(db, "127.0.0.1", port)], stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/-/versions.json", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("datasette did not start: " + log.read_text(errors="replace"))
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def datasette_url(real_build, tmp_path_factory):
    """The real wiki's build, served."""
    out, _ = real_build
    with served(out / "agingkb.db", tmp_path_factory.mktemp("datasette") / "datasette.log") as url:
        yield url

"""How a build knows its commit (etl/wiki/provenance.py): a git repository
of a few pages made here, built by the real `etl` clean, edited, as a plain
folder with a declared commit, compared with a repository and a bundle, and
through `etl history`; the snapshots row, the home page served by a real
Datasette, and CITATION.cff say the same thing."""

import json
import shutil
import sqlite3
import subprocess

import httpx
import pytest
from ruamel.yaml import YAML

from etl.release.dist import citation_cff, release_notes
from etl.wiki.provenance import commit_statement

from .conftest import BIN, git, served

PAGES = {
    "pathways/alpha.md": "---\ntype: pathway\n---\n\n# Alpha\n\nAlpha signalling declines with age.\n",
    "pathways/beta.md": "---\ntype: pathway\n---\n\n# Beta\n\nBeta is the second pathway. #stub\n",
    "phenotypes/gamma.md": "---\ntype: phenotype\n---\n\n# Gamma\n\nSee [[alpha]] and [[beta]].\n",
}
# An upstream commit named by the Upstream-commit trailer of the repository's
# commit, as the history bundle's commits name theirs; made up for the test.
UPSTREAM = "0123456789abcdef0123456789abcdef01234567"


def etl(*args):
    return subprocess.run([str(BIN / "etl"), *args], capture_output=True, text=True)


def snapshot(out):
    connection = sqlite3.connect(out / "agingkb.db")
    connection.row_factory = sqlite3.Row
    try:
        return dict(connection.execute("select * from snapshots").fetchone())
    finally:
        connection.close()


def built(wiki, out, *options):
    completed = etl("build", "--wiki", str(wiki), "--out", str(out), "--jobs", "1", *options)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return snapshot(out), completed.stdout


@pytest.fixture
def repository(tmp_path):
    """Three pages and a .gitignore in one commit, whose message carries an Upstream-commit trailer."""
    wiki = tmp_path / "wiki"
    for path, text in PAGES.items():
        (wiki / path).parent.mkdir(parents=True, exist_ok=True)
        (wiki / path).write_text(text, encoding="utf-8")
    (wiki / ".gitignore").write_text("drafts/\n", encoding="utf-8")
    git(wiki, "init", "-q", "-b", "main")
    git(wiki, "add", "-A")
    git(wiki, "commit", "-q", "-m", f"Three pages\n\nUpstream-commit: {UPSTREAM}")
    return wiki


def head(wiki):
    return git(wiki, "rev-parse", "HEAD").strip()


def dirty(wiki):
    """One page edited, one deleted, one new page and one new git-ignored page: 4 files changed."""
    page = wiki / "pathways" / "alpha.md"
    page.write_text(page.read_text() + "\nA line added after the commit.\n", encoding="utf-8")
    (wiki / "pathways" / "beta.md").unlink()
    (wiki / "pathways" / "delta.md").write_text("---\ntype: pathway\n---\n\n# Delta\n", encoding="utf-8")
    (wiki / "drafts").mkdir()
    (wiki / "drafts" / "epsilon.md").write_text("---\ntype: pathway\n---\n\n# Epsilon\n", encoding="utf-8")


def test_a_clean_checkout_names_its_commit(repository, tmp_path):
    snap, report = built(repository, tmp_path / "out")
    commit = head(repository)
    assert snap["commit_source"] == "git" and snap["git_commit"] == commit
    assert snap["upstream_commit"] == UPSTREAM  # from the trailer, nothing declared
    assert snap["worktree_clean"] == 1
    assert (snap["files_modified"], snap["files_added"], snap["files_missing"]) == (0, 0, 0)
    assert snap["commit_statement"] == f"commit {UPSTREAM[:12]}"
    assert report.splitlines()[0].endswith(f": commit {UPSTREAM[:12]}")


def test_a_dirty_checkout_says_how_many_files_differ(repository, tmp_path):
    before = git(repository, "status", "--porcelain", "--ignored")
    dirty(repository)
    status = git(repository, "status", "--porcelain", "--ignored")
    snap, _ = built(repository, tmp_path / "out", "--upstream-commit", UPSTREAM)
    # The build read the checkout through an index of its own: git's view of it is unchanged.
    assert git(repository, "status", "--porcelain", "--ignored") == status != before
    assert snap["commit_source"] == "git" and snap["git_commit"] == head(repository)
    assert snap["worktree_clean"] == 0
    assert (snap["files_modified"], snap["files_added"], snap["files_missing"]) == (1, 2, 1)
    wording = f"commit {UPSTREAM[:12]} with 4 files changed (1 modified, 2 added, 1 missing)"
    assert snap["commit_statement"] == wording
    assert snap["pages"] == 4  # the ignored draft is read too, so it counts as added
    with served(tmp_path / "out" / "agingkb.db", tmp_path / "datasette.log") as url:
        html = httpx.get(url + "/", timeout=30).text
    assert html.count(wording) == 2  # the release line and how to cite
    assert "not verified" not in html
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    citation = YAML(typ="safe").load(citation_cff("0.0.0+test", summary))
    described = citation["identifiers"][0]["description"]
    assert described.endswith(f"(commit {UPSTREAM} with 4 files changed (1 modified, 2 added, 1 missing))")
    assert f"commit {UPSTREAM} with 4 files changed" in release_notes("0.0.0+test", summary, {})


def test_a_declared_commit_the_checkout_is_not_at_stops_the_build(repository, tmp_path):
    other = "89abcdef0123456789abcdef0123456789abcdef"
    completed = etl("build", "--wiki", str(repository), "--out", str(tmp_path / "out"), "--upstream-commit", other)
    assert completed.returncode == 1
    assert f"not of the declared upstream commit {other[:12]}" in completed.stderr
    assert not (tmp_path / "out" / "agingkb.db").exists()


def test_a_plain_folder_is_declared_not_verified(repository, tmp_path):
    folder = tmp_path / "folder"
    shutil.copytree(repository, folder, ignore=shutil.ignore_patterns(".git"))
    snap, report = built(folder, tmp_path / "out", "--upstream-commit", UPSTREAM)
    assert snap["commit_source"] == "declared" and snap["git_commit"] is None
    assert snap["worktree_clean"] is None and snap["files_modified"] is None
    wording = f"declared commit {UPSTREAM[:12]}, not verified"
    assert snap["commit_statement"] == wording and report.splitlines()[0].endswith(wording)
    with served(tmp_path / "out" / "agingkb.db", tmp_path / "datasette.log") as url:
        html = httpx.get(url + "/", timeout=30).text
    assert html.count(wording) == 2
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    citation = YAML(typ="safe").load(citation_cff("0.0.0+test", summary))
    assert citation["identifiers"][0]["description"].endswith(f"(declared commit {UPSTREAM}, not verified)")
    nothing, _ = built(folder, tmp_path / "none")
    assert nothing["commit_source"] is None and nothing["commit_statement"] is None
    assert (
        etl(
            "build", "--wiki", str(folder), "--out", str(tmp_path / "x"), "--verify-against", str(repository)
        ).returncode
        == 1
    )


def test_a_plain_folder_verified_against_a_repository_or_a_bundle(repository, tmp_path):
    folder = tmp_path / "folder"
    shutil.copytree(repository, folder, ignore=shutil.ignore_patterns(".git"))
    bundle = tmp_path / "wiki.bundle"
    git(repository, "bundle", "create", "-q", str(bundle), "--all")
    commit = head(repository)
    for against, declared in ((repository, commit), (bundle, UPSTREAM)):  # the commit, or its trailer
        snap, _ = built(folder, tmp_path / "out", "--upstream-commit", declared, "--verify-against", str(against))
        assert (snap["commit_source"], snap["git_commit"], snap["upstream_commit"]) == ("git", commit, declared)
        assert snap["worktree_clean"] == 1 and snap["commit_statement"] == f"commit {declared[:12]}"
    dirty(folder)
    snap, _ = built(folder, tmp_path / "out", "--upstream-commit", UPSTREAM, "--verify-against", str(bundle))
    assert (snap["files_modified"], snap["files_added"], snap["files_missing"]) == (1, 2, 1)
    unknown = etl(
        "build",
        "--wiki",
        str(folder),
        "--out",
        str(tmp_path / "out"),
        "--upstream-commit",
        "89abcdef0123",
        "--verify-against",
        str(bundle),
    )
    assert unknown.returncode == 1 and "no commit 89abcdef0123" in unknown.stderr


def test_etl_history_builds_are_read_from_git_and_clean(repository, tmp_path):
    (repository / "pathways" / "alpha.md").write_text(PAGES["pathways/alpha.md"] + "\nMore.\n", encoding="utf-8")
    git(repository, "commit", "-q", "-am", "More on alpha")  # no trailer: the commit names itself
    completed = etl("history", "--wiki", str(repository), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert completed.returncode == 0, completed.stderr
    snap = snapshot(tmp_path / "out")
    commit = head(repository)
    assert (snap["commit_source"], snap["git_commit"], snap["worktree_clean"]) == ("git", commit, 1)
    assert snap["commit_statement"] == f"commit {commit[:12]}"


@pytest.mark.parametrize(
    ("counts", "wording"),
    [
        ((0, 0, 0), "commit 0123456789ab"),
        ((0, 1, 0), "commit 0123456789ab with 1 file changed (1 added)"),
        ((2, 0, 3), "commit 0123456789ab with 5 files changed (2 modified, 3 missing)"),
    ],
)
def test_the_wording(counts, wording):
    files = dict(zip(("files_modified", "files_added", "files_missing"), counts, strict=True))
    assert commit_statement({"upstream_commit": UPSTREAM, "commit_source": "git", **files}) == wording
    assert commit_statement({"upstream_commit": UPSTREAM, "commit_source": "declared"}).startswith("declared")

"""Read stage: find the wiki's pages, apply the skip rules and identify
the snapshot. The only stage that looks at the wiki directory's layout.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..schema import DATA_DIR, load_yaml
from ..version import dataset_version
from .provenance import Provenance, commit_statement, provenance


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative, '/'-separated
    absolute: Path
    sha256: str


@dataclass
class Discovery:
    wiki_dir: Path
    pages: list[SourceFile]  # sorted by path
    skipped: list[tuple[str, str]]  # (path, reason)
    snapshot: dict


def load_sources(data_dir: Path = DATA_DIR) -> dict:
    return load_yaml(data_dir / "sources.yml")


def skip_reason(path: str, rules: list[dict]) -> str | None:
    """The reason a skip rule gives for `path`, or None when it is a page."""
    for rule in rules:
        pattern = rule["pattern"]
        candidates = [pattern]
        if pattern.startswith("**/"):
            candidates.append(pattern[3:])
        for candidate in candidates:
            if fnmatch.fnmatchcase(path, candidate):
                return rule["reason"]
            if candidate.endswith("/**") and (
                path.startswith(candidate[:-2]) or fnmatch.fnmatchcase(path, candidate[:-3] + "/*")
            ):
                return rule["reason"]
    return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(
    wiki_dir: Path,
    upstream_commit: str | None = None,
    data_dir: Path = DATA_DIR,
    commit: str | None = None,
    verify_against: Path | None = None,
    compare: bool = True,
) -> Discovery:
    """List every Markdown file under `wiki_dir`, split into pages and
    skipped files, and fingerprint the snapshot. `commit` names the git
    commit the caller wrote the files from when `wiki_dir` is not itself a
    checkout; `verify_against`, a repository or bundle to compare a plain
    directory with the declared `upstream_commit` (etl/wiki/provenance.py).
    `compare=False` leaves the files uncompared and no commit named, for a
    caller that publishes no snapshot (`etl check`)."""
    wiki_dir = Path(wiki_dir).resolve()
    if not wiki_dir.is_dir():
        raise FileNotFoundError(f"wiki directory not found: {wiki_dir}")
    sources = load_sources(data_dir)
    rules = sources["skip"]
    pages, skipped = [], []
    for root, dirs, files in os.walk(wiki_dir):
        dirs.sort()
        rel_root = Path(root).relative_to(wiki_dir).as_posix()
        for name in sorted(files):
            if not name.endswith(".md"):
                continue
            rel = name if rel_root == "." else f"{rel_root}/{name}"
            reason = skip_reason(rel, rules)
            if reason:
                skipped.append((rel, reason))
            else:
                absolute = Path(root) / name
                pages.append(SourceFile(rel, absolute, file_sha256(absolute)))
    pages.sort(key=lambda f: f.path)
    skipped.sort()
    digest = hashlib.sha256()
    for source in pages:
        digest.update(f"{source.path}\0{source.sha256}\n".encode())
    files_digest = digest.hexdigest()
    snapshot_id = "tree-" + files_digest[:16]
    snapshot = {
        "snapshot": snapshot_id,
        "dataset_version": dataset_version(snapshot_id),
        "upstream_repository": sources["upstream"]["repository"],
        **(provenance(wiki_dir, upstream_commit, commit, verify_against) if compare else Provenance()).columns(),
        "files_digest": files_digest,
        "markdown_files": len(pages) + len(skipped),
        "pages": len(pages),
        "skipped_files": len(skipped),
    }
    snapshot["commit_statement"] = commit_statement(snapshot)
    return Discovery(wiki_dir=wiki_dir, pages=pages, skipped=skipped, snapshot=snapshot)


def source_file_rows(discovery: Discovery, data_dir: Path = DATA_DIR) -> list[dict]:
    """The source_files table: every page, then every file of data/ (works,
    venues and the bibliography name data/ files as their source)."""
    snapshot = discovery.snapshot["snapshot"]
    rows = [
        {
            "path": page.path,
            "kind": "page",
            "sha256": page.sha256,
            "bytes": page.absolute.stat().st_size,
            "snapshot": snapshot,
        }
        for page in discovery.pages
    ]
    for path in sorted(Path(data_dir).iterdir()):
        if path.is_file():
            rows.append(
                {
                    "path": f"data/{path.name}",
                    "kind": "data",
                    "sha256": file_sha256(path),
                    "bytes": path.stat().st_size,
                    "snapshot": snapshot,
                }
            )
    return rows

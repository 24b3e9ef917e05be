"""Release stage: turn a good build into dist/<version>/ (the SQLite file,
the data package as a zip, CITATION.cff and .zenodo.json (citation.py),
release notes, SHA256SUMS) with the database written canonically, verify
it, write the deployable app into dist/<version>/app/ (etl/release/app.py),
and deploy it with flyctl when there are Fly credentials.

The release directory is written under a temporary name and renamed into
place only once verified, so a failed release leaves no half-written
directory behind.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..output.archive import NDJSON_ZIP, ZIP_NAME, ndjson_files, zip_files
from ..output.database import canonical_copy
from ..output.validation import validate_package
from ..wiki.discover import file_sha256
from ..wiki.provenance import commit_statement
from .app import SECRET_NAME, deploy_commands, fly_app_name, secret_names, secret_to_stage, secrets_listing, write_app
from .citation import CitationError, citation_cff, citation_facts, zenodo_json

RELEASE_FILES = (
    "agingkb.db",
    "datapackage.zip",
    NDJSON_ZIP,
    "CITATION.cff",
    ".zenodo.json",
    "RELEASE_NOTES.md",
    "CHANGELOG.md",
)


class ReleaseError(Exception):
    """The release could not be made or did not verify; nothing was published."""


@dataclass
class Release:
    version: str
    directory: Path
    app_directory: Path | None
    deployed: bool
    app: str = ""  # the Fly app it was, or would be, deployed to


def release_version(package_dir: Path, summary: dict) -> str:
    """The dataset version the build computed (etl/version.py), as its
    datapackage.json states it; a build whose summary disagrees is refused."""
    version = json.loads((package_dir / "datapackage.json").read_text(encoding="utf-8")).get("version")
    if not version or version != summary["snapshot"].get("dataset_version"):
        raise ReleaseError(
            f"datapackage.json version {version!r} differs from the build's dataset version "
            f"{summary['snapshot'].get('dataset_version')!r}; rebuild with `etl build`"
        )
    return version


def release_notes(version: str, summary: dict, checksums: dict[str, str]) -> str:
    snapshot = summary["snapshot"]
    commit = commit_statement(snapshot, digits=40)
    lines = [
        f"# agingkb {version}",
        "",
        f"Built from snapshot `{snapshot['snapshot']}` of {snapshot.get('upstream_repository') or 'the wiki'}"
        + (f", {commit}" if commit else "")
        + f": {snapshot['pages']:,} pages from {snapshot['markdown_files']:,} Markdown files "
        f"({snapshot['skipped_files']} skipped by rule).",
        "",
        "Wiki content © Joey Adams, CC BY 4.0. The tables are derived from it and carry the same licence.",
        "",
        "## Rows per table",
        "",
        "| table | rows |",
        "|---|---:|",
    ]
    lines += [f"| {table} | {count:,} |" for table, count in sorted(summary["rows"].items())]
    lines += ["", "## Problems reported by the checks", "", "| severity:code | count |", "|---|---:|"]
    lines += [f"| {code} | {count:,} |" for code, count in sorted(summary["diagnostics_by_code"].items())]
    lines += ["", "## Files", "", "| file | SHA-256 |", "|---|---|"]
    lines += [f"| {name} | `{digest}` |" for name, digest in checksums.items() if name != "RELEASE_NOTES.md"]
    lines += ["", "Check them with `sha256sum -c SHA256SUMS`.", ""]
    return "\n".join(lines)


def changelog(version: str, package_dir: Path, previous: Path | None, summary: dict) -> str:
    """CHANGELOG.md: what changed since the previous release, in the wiki's
    terms, after the schema changes that set the version. A VersionError
    when the version disagrees with them."""
    from ..compare.changelog import summarise, summary_markdown
    from ..compare.diff import diff_packages
    from ..compare.snapshots import descriptor_version, package_directory
    from ..schema import load_schema
    from .versioning import check_version, schema_changes

    if previous is None:
        return f"# agingkb {version}\n\nThe first release: nothing to compare with.\n"
    current_descriptor, _ = descriptor_version(package_dir)
    with package_directory(previous) as old:
        old_descriptor, old_version = descriptor_version(old)
        changes = schema_changes(old_descriptor, current_descriptor)
        level = check_version(old_version, version, changes)
        if summary.get("compared_with") not in (None, old_version):
            raise ReleaseError(
                f"the build's changes table compares with release {summary['compared_with']}, not with {old_version}; "
                f"rebuild with `etl build --previous {previous}`"
            )
        body = summary_markdown(
            summarise(diff_packages(old, package_dir, load_schema())), f"agingkb {version}: changes since {old_version}"
        )
    head, rest = body.split("\n", 1)
    schema_lines = [f"- {lvl}: {what}" for lvl, what in changes] or [
        "- none: the data changed, the tables and columns did not"
    ]
    return (
        "\n".join(
            [
                head,
                "",
                f"A {level} release: the version follows the schema change since {old_version}.",
                "",
                "## Schema",
                "",
                *schema_lines,
            ]
        )
        + "\n"
        + rest
    )


def verify_release(directory: Path) -> None:
    """Every checksum matches, the zipped package validates with
    frictionless, and the database opens and holds every table the package
    declares."""
    sums = (directory / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in sums:
        digest, name = line.split("  ", 1)
        listed[name] = digest
        if file_sha256(directory / name) != digest:
            raise ReleaseError(f"{directory / name}: checksum does not match SHA256SUMS")
    missing = set(RELEASE_FILES) - set(listed)
    if missing:
        raise ReleaseError(f"SHA256SUMS does not list {sorted(missing)}")
    from ..compare.snapshots import package_directory

    with package_directory(directory) as unpacked:  # the release's zip, unpacked for the check
        problems = validate_package(unpacked / "datapackage.json")
        if problems:
            raise ReleaseError("the zipped data package is not valid:\n" + "\n".join(problems[:20]))
        declared = [  # the tables; each one's Parquet file is a file resource beside it
            resource["name"]
            for resource in json.loads((unpacked / "datapackage.json").read_text(encoding="utf-8"))["resources"]
            if resource.get("type") == "table"
        ]
    connection = sqlite3.connect(f"file:{directory / 'agingkb.db'}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in connection.execute("select name from sqlite_master where type = 'table'")}
    finally:
        connection.close()
    if set(declared) - tables:
        raise ReleaseError(f"the database lacks tables the package declares: {sorted(set(declared) - tables)}")


def make_release(
    out_dir: Path, dist_dir: Path, app: str | None = None, deploy: bool | None = None, previous: Path | None = None
) -> Release:
    """Release the current build in out_dir into dist_dir/<version>/, with
    a changelog against `previous` (a release, build or package directory,
    or a dist/ directory's newest release; by default dist_dir's). The Fly
    app is `app`, else FLY_APP, else data/site.yml's."""
    from ..compare.snapshots import SnapshotError
    from .versioning import VersionError, previous_release

    out_dir, dist_dir = Path(out_dir), Path(dist_dir)
    try:
        summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
        package_dir = (out_dir / "package").resolve(strict=True)
        package_zip = (out_dir / ZIP_NAME).resolve(strict=True)
        database = (out_dir / "agingkb.db").resolve(strict=True)
    except (FileNotFoundError, OSError) as error:
        raise ReleaseError(f"no finished build in {out_dir} ({error}); run `etl build` first") from None
    version = release_version(package_dir, summary)
    try:
        compared = (
            previous_release(previous if previous is not None else dist_dir, excluding=version)
            if (previous or dist_dir).exists()
            else None
        )
        changes_md = changelog(version, package_dir, compared, summary)
        citation_facts()  # a citation declaration that cannot be written stops the release here
    except (VersionError, SnapshotError, CitationError) as error:
        raise ReleaseError(str(error)) from None
    target = dist_dir / version
    dist_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=dist_dir))
    try:
        # Written afresh, so its bytes do not depend on how the build got
        # there (a build patched in place keeps free pages and page order).
        try:
            canonical_copy(database, staging / "agingkb.db")
        except ValueError as error:
            raise ReleaseError(str(error)) from None
        shutil.copyfile(package_zip, staging / ZIP_NAME)  # the build's deterministic zip of the validated package
        # The NDJSON downloads are not in the package (frictionless does not
        # check them); zipped apart, so the released site serves them too.
        zip_files(ndjson_files(package_dir), staging / NDJSON_ZIP)
        (staging / "CITATION.cff").write_text(citation_cff(version, summary), encoding="utf-8")
        (staging / ".zenodo.json").write_text(zenodo_json(version, summary), encoding="utf-8")
        (staging / "CHANGELOG.md").write_text(changes_md, encoding="utf-8")
        checksums = {
            name: file_sha256(staging / name)
            for name in RELEASE_FILES
            if name != "RELEASE_NOTES.md"  # it lists the others' checksums
        }
        (staging / "RELEASE_NOTES.md").write_text(release_notes(version, summary, checksums), encoding="utf-8")
        checksums["RELEASE_NOTES.md"] = file_sha256(staging / "RELEASE_NOTES.md")
        (staging / "SHA256SUMS").write_text(
            "".join(f"{digest}  {name}\n" for name, digest in checksums.items()), encoding="utf-8"
        )
        verify_release(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    os.chmod(target, 0o755)

    app = fly_app_name(app)
    app_dir = write_app(target, app, version)
    credentials = bool(os.environ.get("FLY_API_TOKEN")) and shutil.which("flyctl") is not None
    if not (credentials if deploy is None else deploy):
        return Release(version, target, app_dir, False, app)
    for command, stdin in deploy_commands(app, _deploy_secret(app, target)):
        completed = subprocess.run(command, cwd=target, input=stdin, text=True)
        if completed.returncode != 0:
            raise ReleaseError(
                f"{' '.join(command[:3])} failed (exit {completed.returncode}); "
                f"the release in {target} is complete and verified"
            )
    return Release(version, target, app_dir, True, app)


def _deploy_secret(app: str, release_dir: Path) -> str | None:
    """The secret the deploy stages (app.secret_to_stage): the app's
    secrets are asked of Fly only when the environment has none."""
    environment = os.environ.get(SECRET_NAME)
    return secret_to_stage(environment, set() if environment else _app_secrets(app, release_dir))


def _app_secrets(app: str, release_dir: Path) -> set[str]:
    listed = subprocess.run(secrets_listing(app), cwd=release_dir, capture_output=True, text=True)
    if listed.returncode != 0:
        raise ReleaseError(
            f"{' '.join(secrets_listing(app)[:3])} failed (exit {listed.returncode}): {listed.stderr.strip()[-300:]}; "
            f"the release in {release_dir} is complete and verified"
        )
    return secret_names(listed.stdout)

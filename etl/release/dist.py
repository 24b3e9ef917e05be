"""Release stage: turn a good build into dist/<version>/ (the SQLite file,
the data package as a zip, CITATION.cff, release notes, SHA256SUMS), verify
it, then deploy it with `datasette publish fly`, or, without Fly
credentials, write the deployable app into dist/<version>/app/.

The release directory is written under a temporary name and renamed into
place only once verified, so a failed release leaves no half-written
directory behind.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML

from agingkb_site.serve import METADATA, SETTINGS, app_environment, datasette_executable

from ..output.archive import ZIP_NAME
from ..output.validation import validate_package
from ..wiki.discover import file_sha256
from ..wiki.provenance import commit_statement
from .site_wheel import build_site_wheel, wheel_name

# Packages the deployed app installs, pinned like pyproject.toml pins them.
DEPLOY_PACKAGES = [
    "datasette==0.65.5",
    "uvicorn==0.54.0",
    "limits==5.8.0",
    "nh3==0.3.8",
    "markdown-it-py==4.3.0",
    "mdit-py-plugins==0.7.0",
    "datasette-block-robots==1.1.1",
    "mcp==2.3.0",
    "jsonschema==4.26.0",
]
RELEASE_FILES = ("agingkb.db", "datapackage.zip", "CITATION.cff", "RELEASE_NOTES.md", "CHANGELOG.md")


class ReleaseError(Exception):
    """The release could not be made or did not verify; nothing was published."""


@dataclass
class Release:
    version: str
    directory: Path
    app_directory: Path | None
    deployed: bool


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


def release_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.date().isoformat()


def citation_cff(version: str, summary: dict) -> str:
    snapshot = summary["snapshot"]
    # The full commit, and whether anything checked it (etl/wiki/provenance.py).
    commit = commit_statement(snapshot, digits=40)
    data = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": "agingkb: the aging wiki as data",
        "abstract": "The aging wiki, a knowledge base on the biology of aging, published as a validated "
        "Frictionless data package and SQLite database.",
        "version": version,
        "date-released": release_date(),
        "license": "CC-BY-4.0",
        "authors": [{"family-names": "Adams", "given-names": "Joey"}],
        "repository": snapshot.get("upstream_repository") or "",
        "keywords": ["aging", "knowledge base", "clinical trials", "frictionless data package", "datasette"],
        "identifiers": [
            {
                "type": "other",
                "value": snapshot["snapshot"],
                "description": "Snapshot of the wiki the release was built from" + (f" ({commit})" if commit else ""),
            }
        ],
    }
    yaml = YAML()
    yaml.default_flow_style = False
    stream = StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


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


def publish_args(db: Path, app: str, version: str) -> list[str]:
    """`datasette publish fly` arguments: the same metadata and settings as
    `etl serve`, with pinned packages and the site's wheel (its plugins,
    templates and static files; serve_with_workers writes it)."""
    args = [
        "publish",
        "fly",
        str(db),
        "--app",
        app,
        "--metadata",
        str(METADATA),
        "--version-note",
        f"agingkb {version}",
    ]
    for package in [*DEPLOY_PACKAGES, wheel_name()]:
        args += ["--install", package]
    for name, value in SETTINGS.items():
        args += ["--setting", name, str(value)]
    return args


def serve_with_workers(app_dir: Path, version: str) -> None:
    """Make the generated app serve as `etl serve` does: uvicorn workers, one
    per core, each running agingkb_site/asgi.py (from the site's wheel, which
    the Dockerfile installs) on the files `datasette publish` put beside it,
    instead of one Datasette process."""
    build_site_wheel(app_dir)
    # The whole-table downloads (agingkb_site/downloads.py) serve package/ and the
    # zip from beside the database, as in a build.
    shutil.copyfile(app_dir.parent / "datapackage.zip", app_dir / "datapackage.zip")
    with zipfile.ZipFile(app_dir / "datapackage.zip") as archive:
        archive.extractall(app_dir / "package")
    environment = {
        **app_environment("agingkb.db", "metadata.json", proxy_client_header="Fly-Client-IP"),
        "AGINGKB_INSPECT": "inspect-data.json",
        "AGINGKB_VERSION_NOTE": f"agingkb {version}",
    }
    dockerfile = (app_dir / "Dockerfile").read_text(encoding="utf-8")
    if not re.search(r"^CMD datasette serve ", dockerfile, re.M):
        raise ReleaseError("the generated Dockerfile has no `CMD datasette serve` line to replace")
    lines = [
        "ENV " + " ".join(f"{name}={shlex.quote(value)}" for name, value in environment.items()),
        "CMD AGINGKB_SECRET=$DATASETTE_SECRET uvicorn --factory agingkb_site.asgi:create_app"
        " --http agingkb_site.asgi:PromptH11Protocol --loop asyncio --host 0.0.0.0 --port $PORT"
        " --workers $(nproc) --no-access-log",
    ]
    dockerfile = re.sub(r"^CMD datasette serve .*$", lambda _: "\n".join(lines), dockerfile, flags=re.M)
    (app_dir / "Dockerfile").write_text(dockerfile, encoding="utf-8")


def make_release(
    out_dir: Path, dist_dir: Path, app: str = "agingkb", deploy: bool | None = None, previous: Path | None = None
) -> Release:
    """Release the current build in out_dir into dist_dir/<version>/, with
    a changelog against `previous` (a release, build or package directory,
    or a dist/ directory's newest release; by default dist_dir's)."""
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
    except (VersionError, SnapshotError) as error:
        raise ReleaseError(str(error)) from None
    target = dist_dir / version
    dist_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=dist_dir))
    try:
        shutil.copyfile(database, staging / "agingkb.db")
        shutil.copyfile(package_zip, staging / ZIP_NAME)  # the build's deterministic zip of the validated package
        (staging / "CITATION.cff").write_text(citation_cff(version, summary), encoding="utf-8")
        (staging / "CHANGELOG.md").write_text(changes_md, encoding="utf-8")
        checksums = {
            name: file_sha256(staging / name)
            for name in ("agingkb.db", "datapackage.zip", "CITATION.cff", "CHANGELOG.md")
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

    app_dir = target / "app"
    completed = subprocess.run(
        [datasette_executable(), *publish_args(target / "agingkb.db", app, version), "--generate-dir", str(app_dir)],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise ReleaseError(f"datasette publish fly --generate-dir failed:\n{completed.stderr[-2000:]}")
    serve_with_workers(app_dir, version)
    credentials = bool(os.environ.get("FLY_API_TOKEN")) and shutil.which("flyctl") is not None
    deploy = credentials if deploy is None else deploy
    if deploy:
        completed = subprocess.run(["flyctl", "deploy", "--remote-only", "--app", app], cwd=app_dir)
        if completed.returncode != 0:
            raise ReleaseError(
                f"flyctl deploy failed (exit {completed.returncode}); the release in {target} is complete and verified"
            )
        return Release(version, target, app_dir, True)
    return Release(version, target, app_dir, False)

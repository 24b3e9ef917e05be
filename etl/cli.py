"""Command line: `etl build`, `etl check`, `etl diff`, `etl history`, `etl serve`,
`etl release`, `etl metadata`, `etl docs`. Only parses commands: each one
calls its stage and prints what the stage reports."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import click

from .blocked_imports import block_unused_libraries
from .options import DEFAULT_MAX_PAGE_BYTES, BuildOptions
from .pipeline.build import BuildError, build, build_report
from .pipeline.cache import CACHE_DIR
from .pipeline.check import check_cache, check_schema, check_wiki, codes_named, report_lines, selected
from .pipeline.check_places import check_location, hook_cache_dir
from .schema import load_schema

ROOT = Path(__file__).resolve().parent.parent


# Options several commands share, declared once.
_wiki_option = click.option(
    "--wiki",
    "wiki_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Wiki checkout (or any directory of pages in its format).",
)


def _out_option(help_text: str = "Output directory."):
    return click.option(
        "--out",
        "out_dir",
        default="build",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=help_text,
    )


_jobs_option = click.option(
    "--jobs", type=click.IntRange(min=1), default=None, help="Parser processes (default: all cores)."
)
_max_page_bytes_option = click.option(
    "--max-page-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_PAGE_BYTES,
    show_default=True,
    help="Size limit for one page.",
)


@click.group()
@click.version_option(package_name="agingkb")
def cli():
    """Publish the aging wiki as a validated data package and SQLite database."""


@cli.command("build")
@_wiki_option
@_out_option()
@click.option(
    "--upstream-commit",
    help="Upstream wiki commit the input corresponds to. Recorded as declared, not verified, unless the wiki is a "
    "git checkout (whose HEAD it must be) or --verify-against is given.",
)
@click.option(
    "--verify-against",
    type=click.Path(exists=True, path_type=Path),
    help="A git repository or bundle holding the --upstream-commit (or a commit whose Upstream-commit trailer names "
    "it): a wiki that is not a checkout is compared with it, and the snapshot says how many files differ.",
)
@_jobs_option
@_max_page_bytes_option
@click.option(
    "--previous",
    type=click.Path(file_okay=False, path_type=Path),
    help="Fill the changes table with what changed since this release (a release, build or package directory, or a "
    "dist/ directory: its newest release). Nothing is compared when it holds no release yet.",
)
@click.option(
    "--whole",
    is_flag=True,
    help="Make every table from the pages, even when only a few pages changed since the last build and it could be "
    "patched in place.",
)
def build_command(
    wiki_dir: Path,
    out_dir: Path,
    upstream_commit: str | None,
    verify_against: Path | None,
    jobs: int | None,
    max_page_bytes: int,
    previous: Path | None,
    whole: bool,
):
    """Build build/package/ (CSV + datapackage.json) and build/agingkb.db.

    Runs the same checks as `etl check`; problems marked as blocking in
    docs/errors.md stop the build and leave the previous one in place.
    When a few pages changed since the last build into the same directory,
    their rows are patched into it (the same result, in a fraction of the time).
    """
    from .compare.snapshots import SnapshotError
    from .release.versioning import previous_release
    from .wiki.revisions import RevisionError

    options = BuildOptions(jobs=jobs, max_page_bytes=max_page_bytes, patch=not whole)
    try:
        compared = previous_release(previous) if previous is not None and previous.exists() else None
        result = build(
            wiki_dir,
            out_dir,
            options,
            upstream_commit=upstream_commit,
            verify_against=verify_against,
            previous=compared,
        )
    except (BuildError, FileNotFoundError, SnapshotError, RevisionError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    for line in build_report(result, out_dir):
        click.echo(line)


def _codes_option(name: str, help_text: str):
    return click.option(
        name,
        multiple=True,
        metavar="CODES",
        help=help_text + " Codes or groups of docs/errors.md, comma-separated or repeated.",
    )


@cli.command("check")
@_wiki_option
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    show_default=True,
    help="json: a list of {path, line, column, severity, code, message}. github: GitHub Actions annotations, "
    "errors first, a few per code (docs/curators.md). sarif: a SARIF 2.1.0 log.",
)
@_codes_option("--select", "Report only these.")
@_codes_option("--ignore", "Do not report these.")
@click.option(
    "--min-severity",
    type=click.Choice(["warning", "error"]),
    default="warning",
    show_default=True,
    help="error: hide the warnings.",
)
@click.option("--strict", is_flag=True, help="Treat the warnings still reported as errors.")
@_max_page_bytes_option
@_jobs_option
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build") / CACHE_DIR,
    show_default=True,
    help="A build's page cache (DIR/.cache for `etl build --out DIR`): pages unchanged since are not parsed again. "
    "Used when it exists.",
)
def check_command(
    wiki_dir: Path,
    paths: tuple[str, ...],
    output_format: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    min_severity: str,
    strict: bool,
    max_page_bytes: int,
    jobs: int | None,
    cache_dir: Path,
):
    """Report problems in pages as path:line: severity: message [code],
    after the count of each code.

    PATHS (relative to the wiki root) limit the report to those files.
    Exit status: 0 clean, 1 errors (or warnings with --strict) among those
    reported, 2 usage error.
    """
    wanted = None
    if paths:
        wanted = {Path(p).as_posix().removeprefix("./") for p in paths}
        missing = sorted(p for p in wanted if not (wiki_dir / p).is_file())
        if missing:
            raise click.UsageError(f"not a file under {wiki_dir}: {', '.join(missing)}")
    options = BuildOptions(jobs=jobs, max_page_bytes=max_page_bytes)
    schema = check_schema(options, check_cache(options, cache_dir))
    try:
        chosen = codes_named(_names(select), schema.codes) if select else None
        left_out = codes_named(_names(ignore), schema.codes)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--select/--ignore") from None
    found = check_wiki(wiki_dir, wanted, options, cache_dir=cache_dir, schema=schema)
    diagnostics = selected(found, chosen, left_out, min_severity)
    kept = set(diagnostics)
    hidden = [d for d in found if d not in kept]
    if strict:
        diagnostics = [replace(d, severity="error") for d in diagnostics]
    filters = " ".join(
        [f"--select {','.join(select)}"] * bool(select)
        + [f"--ignore {','.join(ignore)}"] * bool(ignore)
        + [f"--min-severity {min_severity}"] * (min_severity != "warning")
    )
    _print_report(output_format, diagnostics, hidden, filters, schema.codes, check_location(wiki_dir))
    sys.exit(1 if any(d.severity == "error" for d in diagnostics) else 0)


def hook_main():
    """`agingkb-check [FILES] [OPTIONS]`, the pre-commit hook
    (.pre-commit-hooks.yaml): `etl check` of FILES with the current directory
    as the wiki (a hook runs at the root of the checkout), keeping a page
    cache in the repository's git directory so that a commit after the first
    parses only the pages it changed. Any option of `etl check` may follow."""
    block_unused_libraries()
    cache = hook_cache_dir()
    defaults = ["--wiki", "."] + (["--cache-dir", str(cache)] if cache else [])
    check_command.main([*defaults, *sys.argv[1:]], prog_name="agingkb-check")


def _names(values: tuple[str, ...]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _print_report(output_format, diagnostics, hidden, filters, codes, location) -> None:
    from .pipeline.check_formats import github_lines, sarif_log
    from .version import software_version

    if output_format == "json":
        click.echo(json.dumps([d.as_dict() for d in diagnostics], indent=2, ensure_ascii=False))
    elif output_format == "sarif":
        click.echo(json.dumps(sarif_log(diagnostics, codes, software_version(), location), indent=2))
    elif output_format == "github":
        for line in github_lines(diagnostics, hidden, filters, location):
            click.echo(line)
    else:
        report = report_lines(diagnostics, hidden, filters)
        for line in report.summary:
            click.echo(line, err=True)
        for line in report.problems:
            click.echo(line)
        sys.stdout.flush()  # the closing totals after the problems, also when both go to one pipe
        for line in report.closing:
            click.echo(line, err=True)


@cli.command("diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
@_out_option(
    "Build directory whose last two builds OLD and NEW default to: OUT/previous (the build before the last, "
    "which `etl build` keeps) and OUT."
)
@click.option(
    "--wiki",
    "checkout",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A wiki checkout: OLD and NEW are then two of its git revisions, built for the comparison.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["summary", "csv", "json"]),
    default="summary",
    show_default=True,
    help="summary: what changed in the wiki's terms (Markdown); csv or json: one row per added or removed row and "
    "per changed column.",
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of standard output."
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=None, help="Parser processes for --wiki builds (default: all cores)."
)
def diff_command(
    old: str | None,
    new: str | None,
    out_dir: Path,
    checkout: Path | None,
    output_format: str,
    output: Path | None,
    jobs: int | None,
):
    """What changed, row by row, between two snapshots.

    OLD and NEW are build directories, release directories (dist/<version>)
    or package directories; with --wiki, two revisions of that checkout.
    NEW defaults to OUT and OLD to OUT/previous, the build that OUT's last
    build replaced (`etl build` keeps it), so `etl diff` alone says what the
    last build changed. Rows are matched by each table's stable key
    (docs/tables.md).
    """
    from .compare.changelog import summarise, summary_markdown
    from .compare.diff import change_rows, change_text, diff_packages
    from .compare.snapshots import SnapshotError, package_directory
    from .pipeline.revision_builds import revision_packages
    from .wiki.revisions import RevisionError

    if checkout is not None and (old is None or new is None):
        raise click.UsageError("--wiki needs two revisions: etl diff --wiki CHECKOUT OLD NEW")
    if old is None:
        from .pipeline.outputs import PREVIOUS_LINK

        old = str(out_dir / PREVIOUS_LINK)
        if not Path(old).exists():
            click.echo(
                f"error: {old}: no previous build kept; it is made when a build into {out_dir} replaces an earlier one",
                err=True,
            )
            sys.exit(2)
    new = new if new is not None else str(out_dir)
    schema = load_schema()
    try:
        if checkout is not None:
            with revision_packages(checkout, old, new, BuildOptions(jobs=jobs)) as (old_package, new_package):
                diffs = diff_packages(old_package, new_package, schema)
        else:
            with package_directory(Path(old)) as old_package, package_directory(Path(new)) as new_package:
                diffs = diff_packages(old_package, new_package, schema)
    except (RevisionError, SnapshotError, BuildError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2 if not isinstance(error, BuildError) else 1)
    if output_format == "summary":
        text = summary_markdown(summarise(diffs), f"Changes from {old} to {new}")
    else:
        text = change_text(change_rows(diffs, schema), output_format)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command("history")
@click.option(
    "--wiki",
    "checkout",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A git checkout of the wiki, with nothing uncommitted.",
)
@_out_option()
@click.option("--since", help="Start from this revision: it is the baseline, and the commits after it are compared.")
@click.option(
    "--hold-blocked",
    is_flag=True,
    help="A page whose text blocks a build is kept at its last version that built (left out until it first builds) "
    "instead of stopping the history; commits.pages_held and problem record it.",
)
@_jobs_option
def history_command(checkout: Path, out_dir: Path, since: str | None, hold_blocked: bool, jobs: int | None):
    """Build every commit of a wiki checkout and what each changed.

    Writes OUT as `etl build` does for the last commit, with four more
    tables: commits, changes (one row per row added or removed and per
    column changed), page_history and gap_events (each gap tag opened,
    closed or reworded). The first commit, or --since, is the baseline. On
    any error the previous output is kept.
    """
    from .pipeline.history import HistoryError, build_history, history_report
    from .wiki.revisions import RevisionError

    try:
        rows, _ = build_history(checkout, out_dir, BuildOptions(jobs=jobs), since=since, hold_blocked=hold_blocked)
    except (HistoryError, RevisionError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code if isinstance(error, HistoryError) else 2)
    except BuildError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    for line in history_report(rows, out_dir):
        click.echo(line)


@cli.command("metadata")
@click.option(
    "--output", default=str(ROOT / "metadata.yml"), show_default=True, type=click.Path(dir_okay=False, path_type=Path)
)
def metadata_command(output: Path):
    """Write Datasette's metadata.yml from the schema declaration."""
    from .release.metadata import render_metadata

    output.write_text(render_metadata(), encoding="utf-8")
    click.echo(f"wrote {output}")


@cli.command("docs")
@click.option(
    "--output-dir", default=str(ROOT / "docs"), show_default=True, type=click.Path(file_okay=False, path_type=Path)
)
def docs_command(output_dir: Path):
    """Write docs/page-types.md, docs/tables.md and docs/errors.md from data/."""
    from .diagnostics import catalogue
    from .release.docs import errors_markdown, page_types_markdown, tables_markdown

    schema = load_schema()
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "page-types.md").write_text(page_types_markdown(schema), encoding="utf-8")
    (output_dir / "tables.md").write_text(tables_markdown(schema), encoding="utf-8")
    (output_dir / "errors.md").write_text(errors_markdown(catalogue()), encoding="utf-8")
    click.echo(f"wrote page-types.md, tables.md and errors.md in {output_dir}")


def main():
    block_unused_libraries()
    try:
        cli()
    except ModuleNotFoundError as error:
        # The core install (the pre-commit hook's) has what `etl check` needs, nothing more.
        if (error.name or "").split(".")[0] in ("etl", "agingkb_site"):
            raise
        click.echo(f"error: {error}; this command needs the site extra: pip install 'agingkb[site]'", err=True)
        sys.exit(2)


@cli.command("serve")
@click.option(
    "--db",
    default="build/agingkb.db",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="SQLite file from `etl build`.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes  [default: one per core]")
def serve_command(db, host, port, workers):
    """Serve the database with Datasette: immutable, with the site's plugins,
    templates, metadata and limits, in one worker process per core."""
    import os
    import tempfile

    from agingkb_site.serve import default_workers, server_command, write_inspect_file

    scratch = Path(tempfile.mkdtemp(prefix="agingkb-serve-"))
    command, environment = server_command(db, host, port, workers or default_workers(), write_inspect_file(db, scratch))
    click.echo(" ".join(command), err=True)
    os.execve(command[0], command, environment)


@cli.command("release")
@_out_option("Build directory to release.")
@click.option(
    "--dist",
    "dist_dir",
    default="dist",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where release directories go.",
)
@click.option(
    "--app", help="Fly app to deploy to  [default: FLY_APP from the environment, else data/site.yml's deploy: fly_app]"
)
@click.option(
    "--deploy/--no-deploy",
    default=None,
    help="Deploy with flyctl (default: when FLY_API_TOKEN is set and flyctl is installed).",
)
@click.option(
    "--previous",
    type=click.Path(file_okay=False, path_type=Path),
    help="The release to compare with for CHANGELOG.md and the version check  [default: the newest in --dist]",
)
def release_command(out_dir, dist_dir, app, deploy, previous):
    """Write dist/<version>/ from the current build (SQLite file, zipped data
    package, CITATION.cff, release notes, CHANGELOG.md, SHA256SUMS), verify
    it, and deploy it, or write the deployable app when there are no Fly
    credentials. The version must follow the schema change since the
    previous release (major: a table or column removed or a type narrowed;
    minor: added; patch: data only), or nothing is released."""
    from .release.app import deploy_commands
    from .release.dist import ReleaseError, make_release
    from .wiki.discover import file_sha256

    try:
        release = make_release(out_dir, dist_dir, app, deploy, previous)
    except ReleaseError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(f"released {release.version} into {release.directory} (verified: checksums, data package, database)")
    click.echo(f"version: {release.version}")
    click.echo(f"agingkb.db SHA-256: {file_sha256(release.directory / 'agingkb.db')}")
    if release.deployed:
        click.echo(f"deploy: deployed to Fly app {release.app}")
    else:
        click.echo(
            f"deploy: skipped (no FLY_API_TOKEN and flyctl, or --no-deploy); the app for Fly app {release.app} is in "
            f"{release.app_directory}: from {release.directory}, stage DATASETTE_SECRET as a Fly secret and run "
            f"`{' '.join(deploy_commands(release.app, None)[-1][0])}` (docs/deploy.md)"
        )

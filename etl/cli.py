"""Command line: `etl build`, `etl check`, `etl metadata`, `etl docs`."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click

from .build import BuildError, build, summary_dict
from .parse import parse_page
from .read import discover
from .schema import load_schema

ROOT = Path(__file__).resolve().parent.parent


def _wiki_option(function):
    return click.option(
        "--wiki",
        "wiki_dir",
        required=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Wiki checkout (or any directory of pages in its format).",
    )(function)


@click.group()
@click.version_option(package_name="agingkb")
def cli():
    """Publish the aging wiki as a validated data package and SQLite database."""


@cli.command("build")
@_wiki_option
@click.option("--out", "out_dir", default="build", show_default=True, type=click.Path(file_okay=False, path_type=Path), help="Output directory.")
@click.option("--upstream-commit", help="Upstream wiki commit the input corresponds to (recorded in the snapshot).")
@click.option("--jobs", type=int, default=None, help="Parser processes (default: all cores).")
def build_command(wiki_dir: Path, out_dir: Path, upstream_commit: str | None, jobs: int | None):
    """Build build/package/ (CSV + datapackage.json) and build/agingkb.db."""
    try:
        result = build(wiki_dir, out_dir, upstream_commit, jobs)
    except (BuildError, FileNotFoundError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    summary = summary_dict(result)
    snap = result.snapshot
    click.echo(f"snapshot {snap['snapshot']} (git {snap['git_commit'] or '-'}, upstream {snap['upstream_commit'] or '-'})")
    click.echo(f"files: {snap['markdown_files']} Markdown, {snap['pages']} pages, {snap['skipped_files']} skipped by rule")
    click.echo("pages per type:")
    for name, count in summary["pages_by_type"].items():
        click.echo(f"  {name:<16} {count:>6}")
    click.echo("rows per table:")
    for name, count in result.rows.items():
        click.echo(f"  {name:<20} {count:>7}")
    click.echo("parse failures:")
    for status, count in summary["footnote_parse_status"].items():
        click.echo(f"  footnotes {status:<10} {count:>6}")
    click.echo(f"  frontmatter values not matching their declared type: {summary['invalid_frontmatter_values']}")
    for code, count in summary["diagnostics_by_code"].items():
        click.echo(f"  {code:<32} {count:>6}")
    click.echo("time per stage (s):")
    for stage, seconds in result.timings.items():
        click.echo(f"  {stage:<18} {seconds:>7.2f}")
    click.echo(f"wrote {out_dir / 'package'}/datapackage.json (valid), {out_dir / 'agingkb.db'}; diagnostics in {out_dir / 'diagnostics.txt'}")


@cli.command("check")
@_wiki_option
@click.argument("paths", nargs=-1)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check_command(wiki_dir: Path, paths: tuple[str, ...], output_format: str, strict: bool):
    """Report problems in pages as path:line: severity: message [code]."""
    schema = load_schema()
    discovery = discover(wiki_dir)
    wanted = {p.replace("\\", "/").lstrip("./") for p in paths}
    diagnostics = []
    for source in discovery.pages:
        if wanted and source.path not in wanted:
            continue
        diagnostics += parse_page(source.path, source.absolute.read_bytes(), schema).diagnostics
    diagnostics.sort(key=lambda d: (d.path, d.line, d.code))
    if output_format == "json":
        click.echo(json.dumps([d.__dict__ for d in diagnostics], indent=2))
    else:
        for d in diagnostics:
            click.echo(d.format())
        counts = Counter(f"{d.severity}:{d.code}" for d in diagnostics)
        click.echo(f"{sum(1 for d in diagnostics if d.severity == 'error')} errors, {sum(1 for d in diagnostics if d.severity == 'warning')} warnings", err=True)
        for code, count in sorted(counts.items()):
            click.echo(f"  {code}: {count}", err=True)
    failing = any(d.severity == "error" or strict for d in diagnostics)
    sys.exit(1 if failing else 0)


@cli.command("metadata")
@click.option("--output", default=str(ROOT / "metadata.yml"), show_default=True, type=click.Path(dir_okay=False, path_type=Path))
def metadata_command(output: Path):
    """Write Datasette's metadata.yml from the schema declaration."""
    from .metadata import render_metadata

    output.write_text(render_metadata(), encoding="utf-8")
    click.echo(f"wrote {output}")


@cli.command("docs")
@click.option("--output-dir", default=str(ROOT / "docs"), show_default=True, type=click.Path(file_okay=False, path_type=Path))
def docs_command(output_dir: Path):
    """Write docs/page-types.md and docs/tables.md from the schema declaration."""
    from .docs import page_types_markdown, tables_markdown

    schema = load_schema()
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "page-types.md").write_text(page_types_markdown(schema), encoding="utf-8")
    (output_dir / "tables.md").write_text(tables_markdown(schema), encoding="utf-8")
    click.echo(f"wrote {output_dir / 'page-types.md'} and {output_dir / 'tables.md'}")


def main():
    cli()

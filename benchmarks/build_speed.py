"""`make bench`: how fast `etl build` and `etl check` are against the floor,
all measured in one run on this machine.

1. A full build of a copy of the wiki into a fresh output directory.
2. The floor (../shared/bench/floor.py): tokenising every page on all cores
   plus loading the build's rows with raw executemany.
3. A one-page edit (a line appended to one page) rebuilt into the same
   output directory, and the same pages built from scratch elsewhere: the
   two outputs must be byte-identical.
4. `etl check` of the whole wiki, and of the one edited page: once as the
   edit's build left it, once edited again since (its page parsed, and
   every page's mentions joined again).
5. The edit's floor: the CPU time of the work no byte-identical rebuild can
   skip for the tables the edit changed (frictionless validating them,
   deflating them into the zip, reloading them with their full-text
   indexes), against a tenth of the full build on every core.

Every build runs in its own process; its peak RSS includes its workers.
Usage: python -m benchmarks.build_speed --wiki DIR [--edit PAGE] [--floor FLOOR.py]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from benchmarks.compare_builds import differences
from etl.output.fingerprints import changed_resources

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FLOOR = ROOT.parent / "shared" / "bench" / "floor.py"
DEFAULT_EDIT = "molecules/proteins/il-1ra.md"

MEASURED_BUILD = """
import json, resource, sys, time
from pathlib import Path
from etl.pipeline.build import build
start = time.perf_counter()
result = build(Path(sys.argv[1]), Path(sys.argv[2]))
wall = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": wall, "stages": result.timings, "peak_rss_mb": peak / 1024}))
"""


def measured_build(wiki: Path, out: Path) -> dict:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    completed = subprocess.run(
        [sys.executable, "-c", MEASURED_BUILD, str(wiki), str(out)], capture_output=True, text=True, env=env, cwd=ROOT
    )
    if completed.returncode != 0:
        raise SystemExit(f"build failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def timed_command(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def floor(floor_script: Path, wiki: Path, database: Path) -> float:
    output = subprocess.run(
        [sys.executable, str(floor_script), str(wiki), str(database)], capture_output=True, text=True, check=True
    ).stdout
    return float(output.split("floor")[1].split()[0])


def edit_floor(out: Path, changed: list[str], scratch_database: Path) -> dict[str, float]:
    """CPU seconds, one after another in this process, of what any rebuild
    whose output must equal a fresh build's redoes for the changed tables:
    frictionless validates each changed resource whole (as the build does,
    with the package), each changed table's Parquet and NDJSON files are
    written again (into a scratch folder), the zip deflates each changed CSV
    (Parquet is stored), and the database reloads each changed table and
    rebuilds its full-text index."""
    from etl.output.archive import ZIP_LEVEL
    from etl.output.database import update_database
    from etl.output.parquet import write_table_ndjson, write_table_parquet
    from etl.output.validation import resource_reports
    from etl.schema import load_schema

    package = (out / "package").resolve()
    schema = load_schema()
    tables = [name for name in changed if name in schema.tables]  # the rest are their Parquet files
    parts = {}
    start = time.process_time()
    resource_reports(str(package / "datapackage.json"), changed)
    parts["validate"] = time.process_time() - start
    start = time.process_time()
    typed = scratch_database.parent / "typed"
    typed.mkdir(exist_ok=True)
    for name in tables:
        shutil.copyfile(package / f"{name}.csv", typed / f"{name}.csv")
        write_table_parquet(typed, schema.tables[name])
        write_table_ndjson(typed, schema.tables[name])
    parts["parquet+ndjson"] = time.process_time() - start
    start = time.process_time()
    for name in tables:
        compressor = zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, -15)
        compressor.compress((package / f"{name}.csv").read_bytes())
        compressor.flush()
    parts["deflate"] = time.process_time() - start
    start = time.process_time()
    update_database((out / "agingkb.db").resolve(), package, scratch_database, schema, set(tables))
    parts["reload with FTS"] = time.process_time() - start
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wiki", type=Path, required=True)
    parser.add_argument("--edit", default=DEFAULT_EDIT, help="page to edit for the one-page rebuild")
    parser.add_argument("--floor", type=Path, default=DEFAULT_FLOOR)
    args = parser.parse_args()
    etl = str(Path(sys.executable).parent / "etl")
    with tempfile.TemporaryDirectory(prefix="agingkb-bench-") as scratch:
        scratch = Path(scratch)
        wiki = scratch / "wiki"
        shutil.copytree(args.wiki, wiki, ignore=shutil.ignore_patterns(".git"))
        full = measured_build(wiki, scratch / "out")
        floor_seconds = floor(args.floor, wiki, scratch / "out" / "agingkb.db")

        before = json.loads((scratch / "out" / ".cache" / "validated.json").read_text())
        with open(wiki / args.edit, "a", encoding="utf-8") as page:
            page.write("\nA line added by the build benchmark.\n")
        edit = measured_build(wiki, scratch / "out")
        changed = sorted(
            changed_resources(before, json.loads((scratch / "out" / ".cache" / "validated.json").read_text()))
        )
        floor_parts = edit_floor(scratch / "out", changed, scratch / "floor.db")
        fresh = measured_build(wiki, scratch / "fresh")
        unequal = differences(scratch / "out", scratch / "fresh")

        cache = ["--cache-dir", str(scratch / "out" / ".cache")]
        check_all = timed_command([etl, "check", "--wiki", str(wiki), "--cache-dir", str(scratch / "no-cache")])
        check_one = timed_command([etl, "check", "--wiki", str(wiki), *cache, args.edit])
        with open(wiki / args.edit, "a", encoding="utf-8") as page:
            page.write("\nA line added after the build.\n")
        check_edited = timed_command([etl, "check", "--wiki", str(wiki), *cache, args.edit])

    rows = [
        ("floor (parse on all cores + raw load)", floor_seconds, None),
        ("full build", full["seconds"], full["seconds"] / floor_seconds),
        *((f"  {stage}", seconds, None) for stage, seconds in full["stages"].items()),
        ("one-page edit, rebuilt in place", edit["seconds"], edit["seconds"] / full["seconds"]),
        ("same pages from scratch", fresh["seconds"], None),
        ("etl check, whole wiki", check_all, None),
        ("etl check, the edited page", check_one, check_one / check_all),
        ("  the same, edited again since the build", check_edited, check_edited / check_all),
    ]
    print(f"{'measure':<42} {'seconds':>8} {'ratio':>8}")
    for name, seconds, ratio in rows:
        print(f"{name:<42} {seconds:8.2f} {'' if ratio is None else f'{ratio:7.2f}x':>8}")
    print(f"peak RSS, full build: {full['peak_rss_mb']:.0f} MB; one-page edit: {edit['peak_rss_mb']:.0f} MB")
    print("ratios: full build / floor; edit / full build; one-page check / whole check")
    print(
        "edit result byte-identical to a build from scratch: "
        + ("yes" if not unequal else "NO\n  " + "\n  ".join(unequal[:20]))
    )
    cores = os.cpu_count() or 1
    budget = 0.10 * full["seconds"] * cores
    print(
        f"edit floor, CPU seconds for the {len(changed)} tables the edit changed ({', '.join(changed)}): "
        + ", ".join(f"{part} {seconds:.2f}" for part, seconds in floor_parts.items())
        + f"; total {sum(floor_parts.values()):.2f} against {budget:.2f} (a tenth of the full build on {cores} cores)"
    )


if __name__ == "__main__":
    main()

"""`make bench`: how fast `etl build` and `etl check` are against the floor,
all measured in one run on this machine.

1. A full build of a copy of the wiki into a fresh output directory.
2. The floor (../shared/bench/floor.py): tokenising every page on all cores
   plus loading the build's rows with raw executemany.
3. Two one-page edits, each rebuilt into the same output directory (the
   build patches the last one in place, etl/pipeline/patch.py) and the same
   pages built from scratch elsewhere: the two outputs must be
   byte-identical, full-text indexes equal by content. A line appended
   changes only the page's rows; a sentence inserted at the top moves every
   line below it, so the corpus stage is joined again.
4. `etl check` of the whole wiki, and of the one edited page: once as the
   edit's build left it, once edited again since (its page parsed, and
   every page's mentions joined again).

Every build runs in its own process. Its memory is given twice: the
largest process of its tree, sampled (benchmarks/process_memory.py), and
the kernel's maximum resident set of the build and its waited-for workers.
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
from pathlib import Path

from benchmarks.compare_builds import differences
from benchmarks.process_memory import run_sampled

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FLOOR = ROOT.parent / "shared" / "bench" / "floor.py"
DEFAULT_EDIT = "molecules/proteins/il-1ra.md"

MEASURED_BUILD = """
import json, resource, sys, time
from pathlib import Path
from etl.blocked_imports import block_unused_libraries
block_unused_libraries()  # as the etl console script runs
from etl.pipeline.build import build
start = time.perf_counter()
result = build(Path(sys.argv[1]), Path(sys.argv[2]))
wall = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": wall, "stages": result.timings, "peak_rss_mb": peak / 1024, "patched": result.patched}))
"""


def measured_build(wiki: Path, out: Path) -> dict:
    """The build's figures, with its largest process's peak RSS sampled
    (largest_process_mb; peak_rss_mb is the kernel's, see process_memory)."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    command = [sys.executable, "-c", MEASURED_BUILD, str(wiki), str(out)]
    status, stdout, stderr, largest = run_sampled(command, env=env, cwd=ROOT)
    if status != 0:
        raise SystemExit(f"build failed:\n{stderr[-3000:]}")
    return {**json.loads(stdout.strip().splitlines()[-1]), "largest_process_mb": largest}


def timed_command(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def floor(floor_script: Path, wiki: Path, database: Path) -> float:
    output = subprocess.run(
        [sys.executable, str(floor_script), str(wiki), str(database)], capture_output=True, text=True, check=True
    ).stdout
    return float(output.split("floor")[1].split()[0])


def appended(text: str) -> str:
    return text + "\nA line added by the build benchmark.\n"


def inserted_at_top(text: str) -> str:
    """A sentence after the page's title: every later line moves down, so
    every mention of a work or trial below it tells the corpus a new line."""
    lines = text.splitlines(keepends=True)
    title = next(i for i, line in enumerate(lines) if line.startswith("# "))
    return "".join(lines[: title + 1] + ["\nA sentence inserted by the build benchmark.\n"] + lines[title + 1 :])


EDITS = (
    ("one-page edit, a line appended", appended),
    ("one-page edit, a sentence inserted at the top", inserted_at_top),
)


def measured_edits(wiki: Path, scratch: Path, page: str) -> list[tuple[str, dict, dict, list[str]]]:
    """Each edit rebuilt in place, then the same pages built from scratch;
    (name, the edit's build, the fresh build's, what differs)."""
    measured = []
    for name, change in EDITS:
        path = wiki / page
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
        edit = measured_build(wiki, scratch / "out")
        fresh = measured_build(wiki, scratch / f"fresh-{len(measured)}")
        measured.append((name, edit, fresh, differences(scratch / "out", scratch / f"fresh-{len(measured)}")))
    return measured


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

        edits = measured_edits(wiki, scratch, args.edit)
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
        *(
            (f"{name}, rebuilt in place", edit["seconds"], edit["seconds"] / full["seconds"])
            for name, edit, _, _ in edits
        ),
        *((f"  {stage}", seconds, None) for stage, seconds in edits[0][1]["stages"].items()),
        ("same pages from scratch (last edit)", edits[-1][2]["seconds"], None),
        ("etl check, whole wiki", check_all, None),
        ("etl check, the edited page", check_one, check_one / check_all),
        ("  the same, edited again since the build", check_edited, check_edited / check_all),
    ]
    print(f"{'measure':<58} {'seconds':>8} {'ratio':>8}")
    for name, seconds, ratio in rows:
        print(f"{name:<58} {seconds:8.2f} {'' if ratio is None else f'{ratio:7.2f}x':>8}")
    print(
        "largest process, sampled (kernel's maximum resident set): "
        + "; ".join(
            f"{name}: {result['largest_process_mb']:.0f} MB ({result['peak_rss_mb']:.0f} MB)"
            for name, result in (("full build", full), *((name, edit) for name, edit, _, _ in edits))
        )
    )
    print("ratios: full build / floor; edit / full build; one-page check / whole check")
    for name, edit, _, unequal in edits:
        how = f"patched in place ({', '.join(edit['patched'])})" if edit["patched"] is not None else "built whole"
        same = "yes" if not unequal else "NO\n  " + "\n  ".join(unequal[:20])
        print(f"{name}: {how}; byte-identical to a build from scratch (full-text indexes by content): {same}")


if __name__ == "__main__":
    main()

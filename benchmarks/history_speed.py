"""`make bench-history`: `etl history` over a wiki's whole git history
against one full build of its last commit, measured in the same run.

The history is built from scratch into an empty output directory (no page
cache), with --hold-blocked; the full build reads the last commit's files
into another empty directory. Prints both times, the ratio, the commits,
the changes per table and the gap tags opened and closed.

Usage: python -m benchmarks.history_speed --bundle BUNDLE_OR_CHECKOUT
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.build_speed import measured_build

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = ROOT.parent / "shared" / "aging_wiki_history.bundle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE, help="a git bundle or checkout of the wiki")
    args = parser.parse_args()
    etl = str(Path(sys.executable).parent / "etl")
    with tempfile.TemporaryDirectory(prefix="agingkb-bench-history-") as scratch:
        scratch = Path(scratch)
        checkout = scratch / "wiki"
        subprocess.run(["git", "clone", "-q", str(args.bundle), str(checkout)], check=True)
        last = scratch / "last"
        subprocess.run(["git", "-C", str(checkout), "worktree", "add", "-q", "--detach", str(last), "HEAD"], check=True)
        full = measured_build(last, scratch / "full")
        start = time.perf_counter()
        completed = subprocess.run(
            [etl, "history", "--wiki", str(checkout), "--out", str(scratch / "history"), "--hold-blocked"],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if completed.returncode != 0:
            raise SystemExit(f"etl history failed:\n{completed.stderr[-3000:]}")
        db = sqlite3.connect(scratch / "history" / "agingkb.db")
        commits = db.execute("select count(*), sum(status = 'baseline'), sum(pages_held > 0) from commits").fetchone()
        per_table = db.execute(
            "select table_name, count(*) from changes group by table_name order by count(*) desc"
        ).fetchall()
        kinds = dict(db.execute("select kind, count(*) from changes group by kind").fetchall())
        gaps = db.execute(
            "select sum(gaps_opened), sum(gaps_closed), sum(gaps_changed), min(day), max(day) from commits "
            "where status = 'built'"
        ).fetchone()
        db.close()
    print(f"{'measure':<44} {'seconds':>8}")
    print(f"{'full build of the last commit':<44} {full['seconds']:8.2f}")
    print(f"{'etl history, every commit, from scratch':<44} {seconds:8.2f}")
    print(f"ratio history / full build: {seconds / full['seconds']:.2f}x (target 10x)")
    print(f"commits: {commits[0]} (1 baseline; {commits[2]} with pages held at their last version that built)")
    print(f"changes: {sum(kinds.values()):,} ({', '.join(f'{k} {v:,}' for k, v in sorted(kinds.items()))})")
    for table, count in per_table:
        print(f"  {table:<24} {count:>8,}")
    print(
        f"gap tags opened {gaps[0]:,}, closed {gaps[1]:,}, reworded {gaps[2]:,}, from {gaps[3]} to {gaps[4]} "
        "(after the baseline; gap_events)"
    )


if __name__ == "__main__":
    main()

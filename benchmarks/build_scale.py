"""`make bench-scale`: a 1× and a 10× wiki (benchmarks/scale_wiki.py) built
in the same run, then one page of each edited (a sentence inserted at the
top) and patched in place; prints each build's time and its largest
process's peak RSS, the time ratio and the memory growth per 1× of wiki.

The largest process is sampled over the build's whole process tree
(benchmarks/process_memory.py).

Usage: python -m benchmarks.build_scale --wiki DIR [--copies 10]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.build_speed import DEFAULT_EDIT, inserted_at_top, measured_build
from benchmarks.scale_wiki import scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wiki", type=Path, required=True)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agingkb-scale-") as scratch:
        scratch = Path(scratch)
        results = {}
        for copies in (1, args.copies):
            wiki, out = scratch / f"wiki-{copies}x", scratch / f"out-{copies}x"
            files = scale(args.wiki, wiki, copies)
            full = measured_build(wiki, out)
            page = wiki / DEFAULT_EDIT
            page.write_text(inserted_at_top(page.read_text(encoding="utf-8")), encoding="utf-8")
            edit = measured_build(wiki, out)
            if edit["patched"] is None:
                raise SystemExit(f"the {copies}x edit was built whole, not patched")
            results[copies] = (files, full, edit)
    print(f"{'wiki':<8} {'files':>7} {'build':<14} {'seconds':>9} {'largest process MB':>19}")
    for copies, (files, full, edit) in sorted(results.items()):
        for name, result in (("full", full), ("edit, patched", edit)):
            largest = result["largest_process_mb"]
            print(f"{copies}x{'':<6} {files:>7} {name:<14} {result['seconds']:>9.1f} {largest:>19.0f}")
    (_, one, one_edit), (_, many, many_edit) = results[1], results[args.copies]
    print(f"time ratio {args.copies}x / 1x, full build: {many['seconds'] / one['seconds']:.2f} (linear: {args.copies})")
    for name, small, large in (("full build", one, many), ("edit, patched", one_edit, many_edit)):
        growth = (large["largest_process_mb"] - small["largest_process_mb"]) / (args.copies - 1)
        print(f"largest process's growth per 1x of wiki, {name}: {growth:.1f} MB")


if __name__ == "__main__":
    main()

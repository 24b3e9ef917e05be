"""`make bench-scale`: a 1× and a 10× wiki (benchmarks/scale_wiki.py) built
in the same run; prints each build's time and peak RSS, the time ratio and
the memory growth per 1× of wiki.

Usage: python -m benchmarks.build_scale --wiki DIR [--copies 10]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.build_speed import measured_build
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
            wiki = scratch / f"wiki-{copies}x"
            files = scale(args.wiki, wiki, copies)
            results[copies] = (files, measured_build(wiki, scratch / f"out-{copies}x"))
    (_, one), (_, many) = results[1], results[args.copies]
    print(f"{'wiki':<8} {'files':>7} {'seconds':>9} {'peak RSS MB':>12}")
    for copies, (files, result) in sorted(results.items()):
        print(f"{copies}x{'':<6} {files:>7} {result['seconds']:>9.1f} {result['peak_rss_mb']:>12.0f}")
    print(f"time ratio {args.copies}x / 1x: {many['seconds'] / one['seconds']:.2f} (linear would be {args.copies})")
    growth = (many["peak_rss_mb"] - one["peak_rss_mb"]) / (args.copies - 1)
    print(f"memory growth per 1x of wiki: {growth:.1f} MB")


if __name__ == "__main__":
    main()

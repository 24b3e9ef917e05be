"""A wiki K times larger, for scaling measurements.

`python -m benchmarks.scale_wiki SRC DST K` copies every Markdown file of
SRC into DST K times. Copy 0 keeps the original names; copy i renames each
page `slug.md` to `slug-xi.md` and rewrites every [[wikilink]] in it to
point into the same copy, so the link graph scales with the pages while
DOIs and NCT ids repeat across copies (as a larger wiki citing the same
literature would).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

WIKILINK = re.compile(r"\[\[([^\[\]|#]+)((?:#[^\[\]|]*)?(?:\|[^\[\]]*)?)\]\]")


def suffixed(target: str, suffix: str) -> str:
    stem = target.strip()
    if stem.endswith(".md"):
        stem = stem[:-3]
    return stem + suffix


def scaled_text(text: str, suffix: str) -> str:
    return WIKILINK.sub(lambda m: f"[[{suffixed(m.group(1), suffix)}{m.group(2)}]]", text)


def scale(source: Path, target: Path, copies: int) -> int:
    if target.exists():
        shutil.rmtree(target)
    written = 0
    for path in sorted(source.rglob("*.md")):
        relative = path.relative_to(source)
        if any(part.startswith(".") for part in relative.parts):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for copy in range(copies):
            suffix = f"-x{copy}" if copy else ""
            destination = target / relative.parent / f"{relative.stem}{suffix}.md"
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(scaled_text(text, suffix) if suffix else text, encoding="utf-8")
            written += 1
    return written


if __name__ == "__main__":
    source, target, copies = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    print(f"wrote {scale(source, target, copies)} files into {target}")

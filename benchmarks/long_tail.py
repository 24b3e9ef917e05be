"""Public traffic for benchmarks/site_speed.py: a long-tail mix of reader
URLs drawn by a Zipf law, and what each server's workers hold in memory.

The population is every row page of pages, trials, works and gap tags,
every table's facet view and its facet values (the ten most frequent of each
declared facet), and full-text searches for words of the pages' titles
(site-wide, pages and footnotes). It is shuffled with a fixed seed, so the
most requested URLs are a mix of kinds, and requests are drawn with weight
1/rank**1.1: a few URLs take many requests and most are seen rarely, as on a
public site (of the shared wiki's 8,527 URLs the top hundred take two thirds
of the requests, and a fifth of the URLs are never drawn in 100,000).
"""

from __future__ import annotations

import random
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote, urlencode

import yaml
from datasette.utils import tilde_encode

from agingkb_site.serve import METADATA

ZIPF_EXPONENT = 1.1
SEED = 26
ROW_TABLES = {"pages": "page", "trials": "trial", "works": "work", "gap_tags": "tag"}
FACET_VALUES = 10
SEARCH_WORDS = 400


def row_path(table: str, key: str) -> str:
    return f"/agingkb/{table}/" + quote(tilde_encode(key), safe="~")


def population(db: Path) -> list[str]:
    """Every URL of the mix, once each, in a fixed random order."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    paths = []
    for table, key in ROW_TABLES.items():
        paths += [row_path(table, str(value)) for (value,) in connection.execute(f"select {key} from {table}")]
    tables = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["agingkb"]["tables"]
    for table, declared in tables.items():
        facets = [facet for facet in declared.get("facets") or [] if isinstance(facet, str)]
        if not facets:
            continue
        paths.append(f"/agingkb/{table}")
        for facet in facets:
            frequent = connection.execute(
                f'select "{facet}" from "{table}" where "{facet}" is not null '
                f"group by 1 order by count(*) desc, 1 limit {FACET_VALUES}"
            )
            paths += [f"/agingkb/{table}?" + urlencode({facet: value}) for (value,) in frequent]
    titles = " ".join(title or "" for (title,) in connection.execute("select title from pages order by page"))
    connection.close()
    words = sorted({word.lower() for word in re.findall(r"[A-Za-z][A-Za-z0-9-]{4,}", titles)})
    for word in random.Random(SEED).sample(words, min(SEARCH_WORDS, len(words))):
        paths += [
            "/-/search?" + urlencode({"q": word}),
            "/agingkb/pages?" + urlencode({"_search": word}),
            "/agingkb/footnotes?" + urlencode({"_search": word}),
        ]
    random.Random(SEED).shuffle(paths)
    return paths


def zipf_requests(paths: list[str], draws: int) -> list[str]:
    """`draws` requests over `paths`, the k-th path with weight 1/k**s."""
    weights = [1 / rank**ZIPF_EXPONENT for rank in range(1, len(paths) + 1)]
    return random.Random(SEED).choices(paths, weights=weights, k=draws)


def share_of_top(paths: list[str], top: int) -> float:
    weights = [1 / rank**ZIPF_EXPONENT for rank in range(1, len(paths) + 1)]
    return sum(weights[:top]) / sum(weights)


def worker_memory(server_pid: int) -> list[tuple[int, int]]:
    """(resident MB now, peak resident MB) of each uvicorn worker of the
    server: the processes it started, less multiprocessing's helper."""
    found = []
    for pid in _children(server_pid):
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"resource_tracker" in command:
            continue
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        found.append(tuple(int(status[name].split()[0]) // 1024 for name in ("VmRSS", "VmHWM")))
    return found


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        listed = (task / "children").read_text().split()
        children += [int(child) for child in listed]
    return children

"""The page cache on a real Datasette in this process (the site's whole ASGI
stack, the fixture's database): a flood of distinct URLs stays within the
byte bound, the bound counts what the kept objects really hold, and a page
drawn while a query hit its time limit is never kept."""

import asyncio
import json
import sys
from pathlib import Path

import httpx
from datasette.app import Datasette
from datasette.utils import parse_metadata

from agingkb_site import page_cache
from agingkb_site.serve import METADATA, SETTINGS

from .conftest import run_async

FLOOD = 5000


def site(db: Path, monkeypatch, bound_mb: float, **settings) -> tuple[Datasette, object]:
    monkeypatch.setenv(page_cache.BOUND_VARIABLE, str(bound_mb))
    datasette = Datasette(
        immutables=[str(db)],
        metadata=parse_metadata(METADATA.read_text(encoding="utf-8")),
        settings={**SETTINGS, **settings},
    )
    return datasette, datasette.app()


def fetch_all(app, paths: list[str], concurrency: int = 8, keep=lambda answer: answer) -> list:
    """Each path's answer, or what `keep` takes of it (a flood's answers
    themselves would weigh more than the cache)."""

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=60) as client:
            answers: list = [None] * len(paths)

            async def worker(offset):
                for index in range(offset, len(paths), concurrency):
                    answers[index] = keep(await client.get(paths[index]))

            await asyncio.gather(*(worker(i) for i in range(concurrency)))
            return answers

    return run_async(run())


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def held_bytes(key: tuple, entry: tuple) -> int:
    """What CPython holds for one kept answer, object by object."""
    start, body, _ = entry
    held = sys.getsizeof(body) + sys.getsizeof(entry) + sys.getsizeof(start) + sys.getsizeof(start["headers"])
    held += sum(sys.getsizeof(value) for value in start.values() if not isinstance(value, list))
    held += sum(sys.getsizeof(pair) + sys.getsizeof(pair[0]) + sys.getsizeof(pair[1]) for pair in start["headers"])
    held += sys.getsizeof(key) + sum(sys.getsizeof(part) for part in key)
    return held + 100  # the OrderedDict's slot and link for the key


def row_json_path(db: Path) -> str:
    import sqlite3

    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    (tag,) = connection.execute("select tag from gap_tags order by tag limit 1").fetchone()
    connection.close()
    return "/agingkb/gap_tags/" + tag.replace("/", "~2F") + ".json"


def test_a_flood_of_distinct_urls_stays_within_the_bound(fixture_build, monkeypatch):
    out, _ = fixture_build
    bound_mb = 1
    datasette, app = site(out / "agingkb.db", monkeypatch, bound_mb)
    cache = datasette._agingkb_page_cache
    path = row_json_path(out / "agingkb.db")
    fetch_all(app, [f"{path}?warm={n}" for n in range(300)])  # templates, connections, the allocator's pools
    before = resident_bytes()
    flood = [f"{path}?flood={n}" for n in range(FLOOD)]
    answers = fetch_all(app, flood, keep=lambda answer: (answer.status_code, answer.headers["etag"]))
    grown = resident_bytes() - before

    assert {status for status, _ in answers} == {200}
    assert len({etag for _, etag in answers}) == FLOOD  # each was a page of its own
    assert cache.bytes <= cache.bound == bound_mb * 1024 * 1024
    assert cache.bytes > cache.bound * 0.9, "the flood filled the cache: the accounting was exercised"
    assert len(cache.entries) < FLOOD / 4, "older pages were evicted"
    assert cache.bytes == sum(entry[2] for entry in cache.entries.values())
    held = sum(held_bytes(key, entry) for key, entry in cache.entries.items())
    assert held <= cache.bytes, f"the kept objects hold {held} bytes, the cache counted {cache.bytes}"
    # 5,000 answers of about 1.5 kB drawn: kept unbounded they alone would be ~10 MB.
    assert grown < 4 * cache.bound, f"the process grew by {grown / 1e6:.1f} MB over a {bound_mb} MB bound"
    # The page drawn last, into a full cache, is kept (the flood's own order of
    # drawing is the event loop's: a drawing whose queries run on the loop does not yield).
    newest = f"{path}?after-the-flood=1"
    drawn = fetch_all(app, [newest])[0]
    hits = cache.hits
    again = fetch_all(app, [newest])[0]
    assert again.headers["etag"] == drawn.headers["etag"] and cache.hits == hits + 1, "the newest page is kept"


def test_a_page_whose_facet_hit_the_time_limit_is_drawn_again_not_kept(real_build, monkeypatch):
    out, _ = real_build
    datasette, app = site(out / "agingkb.db", monkeypatch, 8, facet_time_limit_ms=1)
    cache = datasette._agingkb_page_cache
    facets = ["page", "label", "source_line"]
    path = "/agingkb/footnote_refs.json?" + "&".join(f"_facet={facet}" for facet in facets) + "&_size=1"
    first, second = fetch_all(app, [path, path], concurrency=1)
    assert first.status_code == 200
    assert set(first.json()["facet_results"]) < set(facets), "a facet must time out for this test"
    assert "etag" not in first.headers and "etag" not in second.headers
    assert cache.entries == {} and cache.misses == 2 and cache.hits == 0
    whole = fetch_all(app, ["/agingkb/footnote_refs.json?_size=1&_nofacet=1"] * 2, concurrency=1)
    assert "etag" in whole[0].headers and cache.hits == 1, "a page whose queries all finished is kept"


def test_a_kept_answer_is_byte_identical_to_its_drawing(fixture_build, monkeypatch):
    out, _ = fixture_build
    datasette, app = site(out / "agingkb.db", monkeypatch, 8)
    paths = ["/agingkb/pages?_facet=type", "/agingkb/pages.json?_search=inflammation", "/agingkb/gap_board"]
    drawn = fetch_all(app, paths, concurrency=1)
    replayed = fetch_all(app, paths, concurrency=1)
    assert datasette._agingkb_page_cache.hits == len(paths)
    for first, again in zip(drawn, replayed, strict=True):
        assert first.status_code == again.status_code == 200
        assert first.content == again.content
        assert first.headers.multi_items() == again.headers.multi_items()
    assert json.loads(replayed[1].content)["rows"] is not None

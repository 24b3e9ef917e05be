"""The public data is readable from pages on other sites (agingkb_site/cors.py),
and /-/downloads/ lists every file the site serves (agingkb_site/downloads.py).

Headers and preflight are checked with httpx against a real server of the
fixture wiki's build; the browser test serves a page from a second origin
(another port on loopback) whose script reads the site with fetch in
Chromium, as a page elsewhere would. The index is checked on the real build.
"""

import hashlib
import http.server
import json
import re
import threading
from functools import partial

import httpx
import pytest

from agingkb_site.downloads import declared_files
from agingkb_site.serve import free_port

OTHER_ORIGIN = {"Origin": "http://localhost:9"}
READABLE = (
    "/agingkb/footnotes.json",
    "/agingkb/footnotes.csv",
    "/agingkb/footnotes?_format=json",
    "/agingkb/footnotes?_format=csv",
    "/agingkb.json?sql=select+1",
    "/-/downloads/footnotes.csv",
    "/-/downloads/datapackage.json",
)
NOT_SHARED = ("/", "/agingkb", "/agingkb/footnotes", "/-/downloads/", "/-/search?q=aging")


@pytest.mark.parametrize("path", READABLE)
def test_the_public_data_is_shared_with_any_origin_without_credentials(fixture_url, path):
    response = httpx.get(fixture_url + path, headers=OTHER_ORIGIN, timeout=30)
    assert response.status_code == 200, path
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {name.strip().lower() for name in response.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "content-length", "content-range", "accept-ranges"} <= exposed
    assert "access-control-allow-credentials" not in response.headers
    # The site's own headers are kept.
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", NOT_SHARED)
def test_html_pages_are_not_shared(fixture_url, path):
    response = httpx.get(fixture_url + path, headers=OTHER_ORIGIN, timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), path
    assert not [name for name in response.headers if name.lower().startswith("access-control-")], path


@pytest.mark.parametrize("path", ["/-/downloads/footnotes.csv", "/agingkb/footnotes.json", "/-/mcp"])
def test_a_preflight_is_answered(fixture_url, path):
    asked = {**OTHER_ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"}
    response = httpx.options(fixture_url + path, headers=asked, timeout=30)
    assert response.status_code == 204 and response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert methods == ({"POST", "OPTIONS"} if path == "/-/mcp" else {"GET", "HEAD", "OPTIONS"})
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"range", "content-type"} <= allowed
    assert int(response.headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"


def test_a_range_answer_is_shared(fixture_url, fixture_build):
    out, _ = fixture_build
    expected = (out / "package" / "footnotes.csv").read_bytes()[10:20]
    response = httpx.get(
        f"{fixture_url}/-/downloads/footnotes.csv", headers={**OTHER_ORIGIN, "Range": "bytes=10-19"}, timeout=30
    )
    assert response.status_code == 206 and response.content == expected
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.fixture
def other_origin(tmp_path):
    """An empty page served from another origin: the same host, another port."""
    (tmp_path / "index.html").write_text("<!doctype html><title>elsewhere</title><p>elsewhere</p>")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


# Run in the page of the other origin: each read's outcome, or the error the
# browser raised (a CORS refusal is a TypeError, "Failed to fetch").
READS = """
async (site) => {
  const read = async (path, init) => {
    try {
      const response = await fetch(site + path, init);
      return {status: response.status, body: await response.text(),
              etag: response.headers.get('ETag'), range: response.headers.get('Content-Range')};
    } catch (error) { return {error: String(error)}; }
  };
  return {
    json: await read('/agingkb/footnotes.json?_shape=array&_size=2'),
    csv: await read('/agingkb/footnotes.csv?_size=2'),
    range: await read('/-/downloads/footnotes.csv', {headers: {Range: 'bytes=0-99'}}),
    credentialed: await read('/agingkb/footnotes.json?_size=1', {credentials: 'include'}),
    // application/json makes the browser send a preflight first.
    mcp: await read('/-/mcp', {method: 'POST', body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/list'}),
                               headers: {'Content-Type': 'application/json',
                                         'Accept': 'application/json, text/event-stream'}}),
  };
}
"""


def test_a_page_on_another_origin_reads_the_data_in_chromium(browser, fixture_url, fixture_build, other_origin):
    out, _ = fixture_build
    package_csv = (out / "package" / "footnotes.csv").read_bytes()
    page = browser.new_page()
    assert page.goto(other_origin).status == 200
    assert page.evaluate("location.origin") != fixture_url  # another origin indeed
    results = page.evaluate(READS, fixture_url)
    page.close()
    assert results["json"]["status"] == 200
    rows = json.loads(results["json"]["body"])
    assert len(rows) == 2
    assert results["csv"]["status"] == 200 and results["csv"]["body"].splitlines()[0] == ",".join(rows[0])
    assert results["range"]["status"] == 206
    assert results["range"]["body"].encode() == package_csv[:100]
    assert results["range"]["range"] == f"bytes 0-99/{len(package_csv)}"
    assert results["range"]["etag"] == f'"{hashlib.sha256(package_csv).hexdigest()}"'
    assert results["mcp"]["status"] == 200, results["mcp"]
    assert "list_tables" in {tool["name"] for tool in json.loads(results["mcp"]["body"])["result"]["tools"]}
    # Allow-Origin * without Allow-Credentials: the browser refuses a read with credentials.
    assert "error" in results["credentialed"] and "Failed to fetch" in results["credentialed"]["error"]


def _index_rows(html: str) -> dict[str, dict]:
    rows = {}
    for row in re.findall(r"<tr>\s*<td><a href=\"/-/downloads/[^\"]+\" download>.*?</tr>", html, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        name = re.search(r">([^<]+)</a>", cells[0]).group(1)
        rows[name] = {
            "format": cells[1],
            "bytes": int(re.search(r'value="(\d+)"', cells[2]).group(1)),
            "rows": int(re.search(r'value="(\d+)"', cells[3]).group(1)) if cells[3] else None,
            "sha256": re.search(r"<code[^>]*>([0-9a-f]{64})</code>", cells[4]).group(1),
        }
    return rows


def test_the_downloads_index_lists_every_file_of_the_real_build(datasette_url, real_build, real_db, schema):
    """Every file served, but those of the history tables a plain build
    leaves empty (the site hides those tables)."""
    out, _ = real_build
    response = httpx.get(datasette_url + "/-/downloads/", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    listed = _index_rows(response.text)
    served = declared_files(out / "agingkb.db", None)
    empty_history = {
        name
        for name, table in schema.tables.items()
        if table.kind == "history" and real_db.execute(f"select count(*) from [{name}]").fetchone()[0] == 0
    }
    assert empty_history
    files = {name: path for name, path in served.items() if path.stem not in empty_history}
    assert set(listed) == set(files) and len(files) > 3
    assert len(served) - len(files) == 3 * len(empty_history)  # each one's CSV, Parquet and NDJSON
    assert {"trials.csv", "trials.parquet", "trials.ndjson"} <= set(listed)
    for name, path in files.items():
        data = path.read_bytes()
        assert listed[name]["bytes"] == len(data), name
        assert listed[name]["sha256"] == hashlib.sha256(data).hexdigest(), name
        formats = {".csv": "CSV", ".parquet": "Parquet", ".ndjson": "NDJSON", ".json": "JSON", ".zip": "ZIP"}
        assert listed[name]["format"] == {**formats, ".db": "SQLite"}[path.suffix]
        if path.suffix in (".csv", ".parquet", ".ndjson"):
            table = path.stem
            assert listed[name]["rows"] == real_db.execute(f'select count(*) from "{table}"').fetchone()[0], name
        else:
            assert listed[name]["rows"] is None, name
    home = httpx.get(datasette_url + "/", timeout=30).text
    assert re.search(r'<li class="downloads">.*?href="/-/downloads/".*?</li>', home, re.S)

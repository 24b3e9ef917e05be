"""Whole-table downloads served as static files (agingkb_site/downloads.py) by a
real Datasette on loopback, from the fixture wiki's build."""

import hashlib
import json
import re
import shutil
import socket
import sqlite3
import zipfile
from urllib.parse import urlsplit

import httpx
import pytest

from agingkb_site.downloads import byte_range
from etl.output.archive import zip_package

from .conftest import served

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def _package(fixture_build):
    out, _ = fixture_build
    return out / "package"


def _assert_security_headers(response):
    missing = [name for name in SECURITY_HEADERS if name not in response.headers]
    assert not missing, (response.url, missing)
    assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"


def test_a_table_download_is_the_package_csv_byte_for_byte(fixture_url, fixture_build):
    expected = (_package(fixture_build) / "footnotes.csv").read_bytes()
    response = httpx.get(f"{fixture_url}/-/downloads/footnotes.csv", timeout=30)
    assert response.status_code == 200
    assert response.content == expected
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{hashlib.sha256(expected).hexdigest()}"'
    assert re.fullmatch(r"public, max-age=\d+", response.headers["cache-control"])
    _assert_security_headers(response)


def test_every_declared_file_is_served_whole(fixture_url, fixture_build):
    out, _ = fixture_build
    descriptor = json.loads((_package(fixture_build) / "datapackage.json").read_text())
    files = {r["path"]: _package(fixture_build) / r["path"] for r in descriptor["resources"]}
    files |= {path.name: path for path in _package(fixture_build).glob("*.ndjson")}
    assert {"pages.csv", "pages.parquet", "pages.ndjson"} <= set(files)
    files |= {
        "datapackage.json": _package(fixture_build) / "datapackage.json",
        "datapackage.zip": out / "datapackage.zip",
        "agingkb.db": out / "agingkb.db",
    }
    for name, path in files.items():
        response = httpx.get(f"{fixture_url}/-/downloads/{name}", timeout=30)
        assert response.status_code == 200, name
        assert hashlib.sha256(response.content).digest() == hashlib.sha256(path.read_bytes()).digest(), name


@pytest.mark.parametrize(
    "name, content_type",
    [("trials.parquet", "application/vnd.apache.parquet"), ("trials.ndjson", "application/x-ndjson; charset=utf-8")],
)
def test_parquet_and_ndjson_are_served_with_etag_and_ranges(fixture_url, fixture_build, name, content_type):
    whole = (_package(fixture_build) / name).read_bytes()
    url = f"{fixture_url}/-/downloads/{name}"
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200 and response.content == whole
    assert response.headers["content-type"] == content_type
    assert response.headers["etag"] == f'"{hashlib.sha256(whole).hexdigest()}"'
    assert httpx.get(url, headers={"If-None-Match": response.headers["etag"]}, timeout=30).status_code == 304
    # A Parquet reader asks for the footer first: the last bytes of the file.
    tail = httpx.get(url, headers={"Range": "bytes=-8"}, timeout=30)
    assert tail.status_code == 206 and tail.content == whole[-8:]
    assert tail.headers["content-range"] == f"bytes {len(whole) - 8}-{len(whole) - 1}/{len(whole)}"
    if name.endswith(".parquet"):
        assert tail.content.endswith(b"PAR1")


def test_a_matching_etag_gets_304_without_a_body(fixture_url):
    url = f"{fixture_url}/-/downloads/pages.csv"
    etag = httpx.get(url, timeout=30).headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}'):
        response = httpx.get(url, headers={"If-None-Match": header}, timeout=30)
        assert response.status_code == 304, header
        assert response.content == b"" and response.headers["etag"] == etag
        _assert_security_headers(response)
    assert httpx.get(url, headers={"If-None-Match": '"another-version"'}, timeout=30).status_code == 200


def test_a_range_gets_exactly_those_bytes(fixture_url, fixture_build):
    whole = (_package(fixture_build) / "footnotes.csv").read_bytes()
    url = f"{fixture_url}/-/downloads/footnotes.csv"
    response = httpx.get(url, headers={"Range": "bytes=0-99"}, timeout=30)
    assert response.status_code == 206
    assert response.content == whole[:100]
    assert response.headers["content-range"] == f"bytes 0-99/{len(whole)}"
    assert response.headers["content-length"] == "100"
    _assert_security_headers(response)
    tail = httpx.get(url, headers={"Range": "bytes=-10"}, timeout=30)
    assert tail.status_code == 206 and tail.content == whole[-10:]
    rest = httpx.get(url, headers={"Range": f"bytes={len(whole) - 5}-"}, timeout=30)
    assert rest.status_code == 206 and rest.content == whole[-5:]


def test_an_unsatisfiable_range_gets_416(fixture_url, fixture_build):
    size = (_package(fixture_build) / "footnotes.csv").stat().st_size
    response = httpx.get(f"{fixture_url}/-/downloads/footnotes.csv", headers={"Range": f"bytes={size}-"}, timeout=30)
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


def test_a_range_for_another_version_gets_the_whole_file(fixture_url, fixture_build):
    whole = (_package(fixture_build) / "footnotes.csv").read_bytes()
    response = httpx.get(
        f"{fixture_url}/-/downloads/footnotes.csv", headers={"Range": "bytes=0-99", "If-Range": '"stale"'}, timeout=30
    )
    assert response.status_code == 200 and response.content == whole


def test_head_gives_the_headers_alone(fixture_url, fixture_build):
    size = (_package(fixture_build) / "pages.csv").stat().st_size
    response = httpx.head(f"{fixture_url}/-/downloads/pages.csv", timeout=30)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(size)


def _raw_get(url: str, path: str) -> tuple[int, bytes]:
    """A request line sent as written: HTTP clients remove dot segments
    before sending, an attacker does not."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return int(received.split(b" ", 2)[1]), received


@pytest.mark.parametrize(
    "path",
    [
        "/-/downloads/no_such_table.csv",
        "/-/downloads/summary.json",  # beside the database, but not declared
        "/-/downloads/diagnostics.txt",
        "/-/downloads/../agingkb.db",
        "/-/downloads/../../../../etc/passwd",
        "/-/downloads/..%2fsummary.json",
        "/-/downloads/%2e%2e%2fsummary.json",
        "/-/downloads/..%5csummary.json",
        "/-/downloads/package/pages.csv",
    ],
)
def test_undeclared_names_and_traversal_get_404(fixture_url, path):
    status, received = _raw_get(fixture_url, path)
    assert status == 404, received[:300]
    assert b"x-frame-options: deny" in received.lower()


def test_the_table_page_links_to_its_whole_table_files(fixture_url, fixture_build):
    out, _ = fixture_build
    page = httpx.get(f"{fixture_url}/agingkb/footnotes", timeout=30).text
    line = re.search(r'<p class="table-download">Download the whole table, ([\d,]+) rows:(.*?)</p>', page, re.S)
    assert line, "no whole-table download line"
    with sqlite3.connect(out / "agingkb.db") as db:
        assert int(line.group(1).replace(",", "")) == db.execute("select count(*) from footnotes").fetchone()[0]
    links = re.findall(r'<a href="([^"]+)" download>([^<]+)</a> \(([^)]+)\)', line.group(2))
    assert [name for _, name, _ in links] == ["footnotes.csv", "footnotes.parquet", "footnotes.ndjson"]
    for url, name, size in links:
        assert url == f"/-/downloads/{name}"
        assert re.fullmatch(r"\d+(\.\d)? [kM]B", size)
        linked = httpx.get(fixture_url + url, timeout=30)
        assert linked.status_code == 200 and linked.content == (_package(fixture_build) / name).read_bytes()


def test_a_filtered_view_keeps_datasettes_exports_only(fixture_url):
    page = httpx.get(f"{fixture_url}/agingkb/footnotes", params={"parse_status": "parsed"}, timeout=30).text
    assert 'class="table-download"' not in page
    assert "footnotes.csv?parse_status=parsed" in page  # Datasette's own CSV export of the selection
    sorted_page = httpx.get(f"{fixture_url}/agingkb/footnotes", params={"_sort": "label"}, timeout=30).text
    assert 'class="table-download"' in sorted_page  # a sort keeps every row


def test_the_home_page_lists_the_zip_and_the_database(fixture_url, fixture_build):
    out, _ = fixture_build
    page = httpx.get(f"{fixture_url}/", timeout=30).text
    listed = re.findall(r'<li class="downloads">.*?</li>', page, re.S)
    assert listed
    links = re.findall(r'href="(/-/downloads/[^"]+)"', listed[0])
    assert {"/-/downloads/datapackage.zip", "/-/downloads/agingkb.db"} <= set(links)
    zipped = httpx.get(f"{fixture_url}/-/downloads/datapackage.zip", timeout=30)
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    assert zipped.content == (out / "datapackage.zip").read_bytes()


def test_the_index_lists_no_file_of_an_empty_history_table_and_still_serves_it(fixture_url, fixture_build, schema):
    """A plain build leaves the history tables empty and the site hides them
    (agingkb_site/history.py): the index lists none of their files, as the
    home page lists none of the tables, while each stays served because the
    descriptor names it."""
    out, _ = fixture_build
    history = [name for name, table in schema.tables.items() if table.kind == "history"]
    database = sqlite3.connect(out / "agingkb.db")
    empty = [name for name in history if database.execute(f"select count(*) from [{name}]").fetchone()[0] == 0]
    assert len(empty) >= 3, empty
    html = httpx.get(f"{fixture_url}/-/downloads/", timeout=30).text
    listed = set(re.findall(r'<a href="/-/downloads/([^"]+)" download>', html))
    assert {"pages.csv", "trials.parquet", "datapackage.zip"} <= listed
    for name in empty:
        assert not {f"{name}.csv", f"{name}.parquet", f"{name}.ndjson"} & listed, name
        response = httpx.get(f"{fixture_url}/-/downloads/{name}.csv", timeout=30)
        assert response.status_code == 200
        assert response.content == (_package(fixture_build) / f"{name}.csv").read_bytes()


def test_the_build_zip_is_the_package_and_deterministic(fixture_build, tmp_path):
    out, _ = fixture_build
    package = _package(fixture_build)
    zip_package(package, tmp_path / "again.zip")
    assert (tmp_path / "again.zip").read_bytes() == (out / "datapackage.zip").read_bytes()
    with zipfile.ZipFile(out / "datapackage.zip") as archive:
        # The package: its descriptor and every file a resource names; the NDJSON downloads are not in it.
        assert archive.namelist() == sorted(p.name for p in package.iterdir() if p.suffix != ".ndjson")
        assert "trials.parquet" in archive.namelist()
        assert archive.getinfo("trials.parquet").compress_type == zipfile.ZIP_STORED
        assert archive.read("trials.parquet") == (package / "trials.parquet").read_bytes()
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
        assert archive.read("footnotes.csv") == (package / "footnotes.csv").read_bytes()


@pytest.mark.parametrize(
    "header, size, expected",
    [
        (None, 10, None),
        ("bytes=0-99", 1000, (0, 99)),
        ("bytes=0-99", 50, (0, 49)),
        ("bytes=-10", 1000, (990, 999)),
        ("bytes=-5000", 1000, (0, 999)),
        ("bytes=990-", 1000, (990, 999)),
        ("bytes=1000-", 1000, "unsatisfiable"),
        ("bytes=-0", 1000, "unsatisfiable"),
        ("bytes=0-1,5-6", 1000, None),
        ("bytes=9-3", 1000, None),
        ("items=0-1", 1000, None),
    ],
)
def test_range_header_reading(header, size, expected):
    assert byte_range(header, size) == expected


def test_the_package_directory_can_be_set_and_absent_files_are_not_offered(fixture_build, tmp_path, monkeypatch):
    """A database alone, its package elsewhere named by AGINGKB_PACKAGE_DIR
    and no zip beside it: the CSVs come from there, the zip is not offered."""
    out, _ = fixture_build
    (tmp_path / "db").mkdir()
    shutil.copyfile(out / "agingkb.db", tmp_path / "db" / "agingkb.db")
    shutil.copytree(_package(fixture_build), tmp_path / "elsewhere" / "package")
    marked = tmp_path / "elsewhere" / "package" / "snapshots.csv"
    marked.write_bytes(marked.read_bytes() + b"\n")  # a byte the build's copy lacks
    monkeypatch.setenv("AGINGKB_PACKAGE_DIR", str(tmp_path / "elsewhere" / "package"))
    with served(tmp_path / "db" / "agingkb.db", tmp_path / "datasette.log") as url:
        assert httpx.get(f"{url}/-/downloads/snapshots.csv", timeout=30).content == marked.read_bytes()
        assert httpx.get(f"{url}/-/downloads/datapackage.zip", timeout=30).status_code == 404
        assert httpx.get(f"{url}/-/downloads/agingkb.db", timeout=30).status_code == 200
        home = httpx.get(f"{url}/", timeout=30).text
        assert 'href="/-/downloads/agingkb.db"' in home and "/-/downloads/datapackage.zip" not in home
    monkeypatch.delenv("AGINGKB_PACKAGE_DIR")
    with served(tmp_path / "db" / "agingkb.db", tmp_path / "alone.log") as url:
        assert httpx.get(f"{url}/-/downloads/snapshots.csv", timeout=30).status_code == 404
        assert 'class="table-download"' not in httpx.get(f"{url}/agingkb/snapshots", timeout=30).text

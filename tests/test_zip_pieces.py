"""Zip members larger than the pieces they are read in (etl/output/segments.py,
etl/output/archive.py): at 100x the wiki a member is hundreds of MB, so
neither deflating a table nor copying a member of the last build's zip
holds it whole. The members must come out as whole reads made them."""

import hashlib
import zipfile
import zlib

from etl.output import archive, segments
from etl.output.archive import ZIP_LEVEL, deflate_members, zip_files


def table_text(rows: int) -> bytes:
    """A CSV body that compresses like a table's: repeated words, varied numbers."""
    lines = [b"id,name,value\n"]
    for n in range(rows):
        digest = hashlib.sha256(str(n).encode()).hexdigest()[: n % 40]
        lines.append(f"row-{n},name of row {n % 97} {digest},{n * 7919 % 100003}\n".encode())
    return b"".join(lines)


def test_a_table_deflated_in_pieces_is_the_stream_deflated_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "READ_PIECE", 64 << 10)  # many pieces from a small file
    data = table_text(40_000)
    assert len(data) > 20 * segments.READ_PIECE
    source = tmp_path / "works.csv"
    source.write_bytes(data)
    member = deflate_members([source], tmp_path)["works.csv"]
    stream = member.path.read_bytes()
    compressor = zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, -15)
    assert stream == compressor.compress(data) + compressor.flush()
    assert zlib.decompress(stream, -15) == data
    assert (member.crc, member.size, member.compressed) == (zlib.crc32(data), len(data), len(stream))


def test_a_member_copied_in_pieces_from_an_earlier_zip_is_the_same_zip(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "COPY_PIECE", 4 << 10)
    package = tmp_path / "package"
    package.mkdir()
    (package / "a.csv").write_bytes(table_text(30_000))
    (package / "b.csv").write_bytes(table_text(500))
    files = sorted(package.iterdir())
    zip_files(files, tmp_path / "first.zip")
    assert zipfile.ZipFile(tmp_path / "first.zip").getinfo("a.csv").compress_size > 50 * archive.COPY_PIECE
    zip_files(files, tmp_path / "again.zip", reuse=(tmp_path / "first.zip", {"a.csv", "b.csv"}))
    assert (tmp_path / "again.zip").read_bytes() == (tmp_path / "first.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "again.zip") as copied:
        assert copied.testzip() is None
        assert copied.read("a.csv") == (package / "a.csv").read_bytes()

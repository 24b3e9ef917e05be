"""Release stage: the site package as a wheel for the deployed app.

The released app installs the site (agingkb_site/: its Datasette plugins,
templates and static files) from a wheel that `etl release` writes into the
app directory and its Dockerfile installs. The wheel
holds the package, and the one module of the ETL the site reads the wiki
with (etl/wiki/syntax.py, the wiki's grammar, with the two package faces
above it, which import nothing), under the distribution name agingkb_site, with the
`datasette` entry points pyproject.toml declares, so Datasette loads it as
it does in a development install. It declares no dependencies: the app's
pinned packages (app.py's DEPLOY_PACKAGES) are installed beside it.

The wheel is written by hand, not by a build backend: it is a zip file of
the package's files and four metadata files, with fixed timestamps
(SOURCE_DATE_EPOCH when set), so one source gives one wheel, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tomllib
import zipfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "agingkb_site"
DISTRIBUTION = "agingkb_site"
SKIPPED = ("__pycache__",)
# The wiki's grammar, shared with the build so the site finds a page's
# wikilinks and code spans where the build found them.
SHARED_MODULES = ("etl/__init__.py", "etl/wiki/__init__.py", "etl/wiki/syntax.py")


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def wheel_name() -> str:
    return f"{DISTRIBUTION}-{project()['version']}-py3-none-any.whl"


def package_files() -> list[tuple[str, Path]]:
    """(path in the wheel, file) for every file of the package, and the
    shared grammar module."""
    source = ROOT / PACKAGE
    files = [
        path
        for path in source.rglob("*")
        if path.is_file() and not any(part in SKIPPED for part in path.relative_to(source).parts)
    ]
    files += [ROOT / name for name in SHARED_MODULES]
    return sorted((path.relative_to(ROOT).as_posix(), path) for path in files if path.suffix != ".pyc")


def metadata_files() -> dict[str, bytes]:
    declared = project()
    version = declared["version"]
    entry_points = declared["entry-points"]["datasette"]
    info = f"{DISTRIBUTION}-{version}.dist-info"
    return {
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: {version}\n"
            "Summary: The agingkb site: Datasette plugins, templates and static files.\n"
        ).encode(),
        f"{info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: agingkb (etl/release/site_wheel.py)\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{info}/entry_points.txt": (
            "[datasette]\n" + "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        ).encode(),
    }


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


def _timestamp() -> tuple:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(max(int(epoch), 315532800), UTC) if epoch else datetime(1980, 1, 1, tzinfo=UTC)
    return moment.timetuple()[:6]


def build_site_wheel(directory: Path) -> Path:
    """Write the site's wheel into directory; its path."""
    entries = [(name, path.read_bytes()) for name, path in package_files()]
    entries += sorted(metadata_files().items())
    record = next(name for name, _ in entries if name.endswith("/METADATA")).replace("METADATA", "RECORD")
    record_text = "".join(_record_line(name, data) for name, data in entries) + f"{record},,\n"
    entries.append((record, record_text.encode()))
    target = Path(directory) / wheel_name()
    stamp = _timestamp()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            member = zipfile.ZipInfo(name, date_time=stamp)
            member.external_attr = 0o644 << 16
            member.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(member, data)
    return target

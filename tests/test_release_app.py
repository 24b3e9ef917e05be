"""The deployable app of a release (etl/release/app.py): built from the
release directory without second copies of its files, no secret on disk,
the Fly app named by configuration, and run the way its Dockerfile runs it,
it serves the release."""

import io
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest
from datasette.utils import tilde_encode

from agingkb_site.serve import free_port, wait_until_serving
from etl.options import BuildOptions
from etl.pipeline.build import build
from etl.release.app import deploy_commands, fly_app_name, secret_names, secret_to_stage
from etl.release.dist import ReleaseError, _deploy_secret, make_release
from etl.schema import DATA_DIR, load_yaml
from etl.wiki.discover import file_sha256 as sha256

from .conftest import BIN, FIXTURE_WIKI, ROOT, run_async

SECRET = "5e" * 32  # what a deploy would set; it must reach no file


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FLY_API_TOKEN", raising=False)
        patch.delenv("FLY_APP", raising=False)
        patch.setenv("DATASETTE_SECRET", SECRET)
        root = tmp_path_factory.mktemp("release-app")
        build(FIXTURE_WIKI, root / "build", options=BuildOptions(jobs=1))
        return make_release(root / "build", root / "dist", app="agingkb-test"), root


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in dockerfile.splitlines() if line and not line.startswith("#")]


def every_file_text(directory: Path):
    """(name, text) of every file under directory, and of every member of
    every zip (the package, the site's wheel) inside it."""
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield str(path), data.decode("utf-8", "replace")
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield f"{path}!{member}", archive.read(member).decode("utf-8", "replace")


def test_no_secret_is_written_anywhere_in_the_release(release):
    made, _ = release
    searched = 0
    for name, text in every_file_text(made.directory):
        searched += 1
        assert SECRET not in text, name
        assert not re.search(r"^\s*ENV\b.*DATASETTE_SECRET", text, re.M), name
    assert searched > 10  # the release's files, the app's and the zips' members
    # The deploy hands the secret to flyctl on stdin, never as an argument.
    (stage, stdin), (deploy, _) = deploy_commands("agingkb-test", SECRET)
    assert stage[:4] == ["flyctl", "secrets", "import", "--stage"] and stdin == f"DATASETTE_SECRET={SECRET}\n"
    assert not any(SECRET in part for part in stage + deploy)


def test_a_deploy_stages_a_new_secret_only_for_an_app_that_has_none():
    """Without DATASETTE_SECRET in the environment, an app that already has
    one keeps it (a new one would void every visitor's cookies at each
    release); an app without one gets a new one; the environment's wins."""
    assert secret_to_stage(SECRET, {"DATASETTE_SECRET"}) == SECRET
    assert secret_to_stage(None, {"OTHER", "DATASETTE_SECRET"}) is None
    made = secret_to_stage(None, {"OTHER"})
    assert re.fullmatch(r"[0-9a-f]{64}", made) and made != secret_to_stage(None, set())
    [deploy] = deploy_commands("agingkb-test", None)
    assert deploy[0][:2] == ["flyctl", "deploy"] and deploy[1] is None
    # flyctl's JSON listing names secrets under "name" (before 2023, "Name").
    assert secret_names('[{"name": "DATASETTE_SECRET", "digest": "ab"}, {"Name": "X"}]') == {"DATASETTE_SECRET", "X"}
    assert secret_names("[]") == set()


def _stand_in_flyctl(directory: Path, listing: str, status: int = 0) -> Path:
    """An executable named flyctl that answers `secrets list --json` (Fly is
    not reachable from here) and records every call."""
    script = directory / "flyctl"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {shlex.quote(str(directory / "calls"))}\n'
        f"printf '%s' {shlex.quote(listing)}\n"
        f"exit {status}\n"
    )
    script.chmod(0o755)
    return directory / "calls"


@pytest.mark.parametrize(
    "listing, kept", [('[{"name": "DATASETTE_SECRET"}]', True), ('[{"name": "SENTRY_DSN"}]', False)]
)
def test_the_deploy_asks_fly_which_secrets_the_app_has(tmp_path, monkeypatch, listing, kept):
    calls = _stand_in_flyctl(tmp_path, listing)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DATASETTE_SECRET", raising=False)
    secret = _deploy_secret("agingkb-test", tmp_path)
    assert calls.read_text() == "secrets list --json --app agingkb-test\n"
    assert (secret is None) == kept
    monkeypatch.setenv("DATASETTE_SECRET", SECRET)
    assert _deploy_secret("agingkb-test", tmp_path) == SECRET
    assert len(calls.read_text().splitlines()) == 1  # the environment's secret needs no listing


def test_a_failed_listing_stops_the_deploy_naming_the_command(tmp_path, monkeypatch):
    _stand_in_flyctl(tmp_path, "", status=3)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DATASETTE_SECRET", raising=False)
    with pytest.raises(ReleaseError, match=r"flyctl secrets list failed \(exit 3\)"):
        _deploy_secret("agingkb-test", tmp_path)


def test_the_app_folder_refers_to_the_release_files(release):
    """The Docker build context is the release directory: every COPY source
    exists there, and app/ holds no second copy of any release file."""
    made, _ = release
    app = made.app_directory
    steps = instructions((app / "Dockerfile").read_text())
    copies = [shlex.split(argument)[:-1] for kind, argument in steps if kind == "COPY"]
    sources = [source for copy in copies for source in copy]
    assert {"agingkb.db", "datapackage.zip", "ndjson.zip"} <= set(sources)
    for source in sources:
        assert (made.directory / source).is_file(), source
    released = {sha256(path) for path in made.directory.iterdir() if path.is_file()}
    assert {path.name for path in app.iterdir()} == {
        "Dockerfile",
        "fly.toml",
        "metadata.json",
        *(p.name for p in app.glob("*.whl")),
    }
    assert not any(sha256(path) in released for path in app.rglob("*") if path.is_file())
    assert ("RUN", "python -m zipfile -e datapackage.zip package/") in steps
    assert ("RUN", "python -m zipfile -e ndjson.zip package/") in steps
    # The deploy builds from the release directory with this Dockerfile and fly.toml.
    _, (deploy, _) = deploy_commands("agingkb-test", "x")
    assert deploy[:7] == ["flyctl", "deploy", ".", "--config", "app/fly.toml", "--dockerfile", "app/Dockerfile"]
    assert (made.directory / deploy[4]).is_file() and (made.directory / deploy[6]).is_file()


def test_the_fly_app_name_comes_from_configuration(release, tmp_path, monkeypatch):
    made, root = release
    assert tomllib.loads((made.app_directory / "fly.toml").read_text())["app"] == "agingkb-test"
    assert made.app == "agingkb-test"
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    monkeypatch.delenv("FLY_APP", raising=False)
    configured = load_yaml(DATA_DIR / "site.yml")["deploy"]["fly_app"]
    assert fly_app_name() == configured and fly_app_name("other") == "other"
    monkeypatch.setenv("FLY_APP", "agingkb-from-env")
    again = make_release(root / "build", tmp_path / "dist")
    fly = tomllib.loads((again.app_directory / "fly.toml").read_text())
    assert fly["app"] == "agingkb-from-env" and again.app == "agingkb-from-env"
    assert fly["build"]["dockerfile"] == "Dockerfile"
    # make publish FLY_APP=... hands it to etl release.
    dry_run = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "publish", "FLY_APP=agingkb-make", "WIKI=tests/fixtures/wiki"],
        capture_output=True,
        text=True,
    ).stdout
    (release_line,) = [line for line in dry_run.splitlines() if "etl release" in line]
    assert "--app agingkb-make" in release_line


async def mcp_tables(url: str) -> list[dict]:
    from mcp import Client

    async with Client(url + "/-/mcp", mode="legacy") as client:
        return (await client.call_tool("list_tables", {})).structured_content["tables"]


def build_image(made, image: Path) -> tuple[dict, str]:
    """The Dockerfile's steps run here, from the release directory as the
    build context: COPY copies, RUN runs with this environment's tools (pip
    installs only the site's wheel, into image/site-packages, as the
    pinned packages are this environment's), ENV collects. Returns the
    environment and the CMD."""
    image.mkdir()
    environment, command = {}, None
    for kind, argument in instructions((made.app_directory / "Dockerfile").read_text()):
        if kind == "COPY":
            *sources, _ = shlex.split(argument)
            for source in sources:
                shutil.copyfile(made.directory / source, image / Path(source).name)
        elif kind == "RUN" and argument.startswith("pip install"):
            wheel = shlex.split(argument)[-1]
            subprocess.run(
                [str(BIN / "pip"), "install", "--quiet", "--no-deps", "--no-index", "--target", "site-packages", wheel],
                cwd=image,
                check=True,
            )
        elif kind == "RUN":
            words = shlex.split(argument)
            tool = BIN / words[0] if (BIN / words[0]).exists() else shutil.which(words[0])
            subprocess.run([str(tool), *words[1:]], cwd=image, check=True)
        elif kind == "ENV":
            environment.update(part.split("=", 1) for part in shlex.split(argument))
        elif kind == "CMD":
            command = argument
    return environment, command


@pytest.mark.site  # runs the app's own start command
@pytest.mark.parametrize("secret", [SECRET, None], ids=["secret set", "no secret"])
def test_the_generated_app_serves_the_release(release, tmp_path, secret):
    made, _ = release
    environment, command = build_image(made, tmp_path / "image")
    image = tmp_path / "image"
    assert (image / "package" / "datapackage.json").is_file() and (image / "inspect-data.json").is_file()
    installed = image / "site-packages"
    port = free_port()
    command = command.replace("0.0.0.0", "127.0.0.1").replace("$(nproc)", "2")
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DATASETTE_SECRET"},
        **environment,
        "PORT": str(port),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(installed),
        **({"DATASETTE_SECRET": secret} if secret else {}),
    }
    log = tmp_path / "app.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(["sh", "-c", command], cwd=image, env=environment, stdout=handle, stderr=handle)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until_serving(url), "the generated app did not start: " + log.read_text()[-2000:]
        said = "DATASETTE_SECRET is not set" in log.read_text()
        assert said == (secret is None)
        check_serving(made, url, installed)
    finally:
        process.terminate()
        process.wait(timeout=10)


def check_serving(made, url: str, installed: Path) -> None:
    versions = httpx.get(url + "/-/versions.json").json()
    assert f"agingkb {made.version}" in json.dumps(versions)
    home = httpx.get(url + "/")
    assert f'class="version">{made.version}<' in home.text and "CC BY 4.0" in home.text
    assert home.headers["x-content-type-options"] == "nosniff"
    # The site's stylesheet, served from the installed wheel's static/.
    stylesheet = re.search(r'href="(/-/static-plugins/agingkb_site/site\.css\?[0-9a-f]+)"', home.text).group(1)
    css = httpx.get(url + stylesheet)
    assert css.status_code == 200 and css.content == (installed / "agingkb_site/static/site.css").read_bytes()
    db = sqlite3.connect(made.directory / "agingkb.db")
    # A page's body with its wikilinks rendered as links to the pages the build resolved.
    page, target = db.execute(
        "select page, target_page from links where kind = 'wikilink' and target_page is not null "
        "and source_line > 1 order by page, source_line limit 1"
    ).fetchone()
    row = httpx.get(url + f"/agingkb/pages/{tilde_encode(page)}").text
    assert f'href="/agingkb/pages/{tilde_encode(target)}' in row
    pages = db.execute("select count(*) from pages").fetchone()[0]
    assert len(httpx.get(url + "/agingkb/pages.json", params={"_shape": "array", "_size": "max"}).json()) == pages
    intervals = db.execute(
        "select count(*) from trial_outcomes o join trials t on t.trial = o.trial "
        "where o.ci_low is not null and o.ci_high is not null"
    ).fetchone()[0]
    plot = httpx.get(url + "/-/forest-plot").text
    assert "<h1>Forest plot of trial outcomes</h1>" in plot  # the plugin's page, not a 404
    assert plot.count('<g class="outcome"') == intervals  # with every interval drawn
    # The downloads, from the package the image unzipped from the release's zip.
    with zipfile.ZipFile(made.directory / "datapackage.zip") as archive:
        assert httpx.get(url + "/-/downloads/pages.csv").content == archive.read("pages.csv")
        assert httpx.get(url + "/croissant.json").status_code == 200 and "croissant.json" in archive.namelist()
    # The NDJSON downloads, from the release's ndjson.zip, as the build wrote them.
    with zipfile.ZipFile(made.directory / "ndjson.zip") as archive:
        assert httpx.get(url + "/-/downloads/trials.ndjson").content == archive.read("trials.ndjson")
    assert httpx.get(url + "/-/settings.json").json()["max_returned_rows"] == 1000
    # Research assistants reach the release too: the MCP endpoint and llms.txt.
    listed = run_async(mcp_tables(url))
    assert {table["table"]: table["rows"] for table in listed}["pages"] == pages
    llms = httpx.get(url + "/llms.txt")
    assert llms.status_code == 200 and f"- [pages]({url}/agingkb/pages)" in llms.text

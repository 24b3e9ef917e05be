"""Release stage: the deployable app of a release, and its deploy to Fly.

dist/<version>/app/ holds what only the app needs (Dockerfile, fly.toml,
metadata.json and the site's wheel); the database and the zipped package
stay where the release keeps them, once. The Docker build context is the
release directory itself: the Dockerfile copies agingkb.db,
datapackage.zip and ndjson.zip from it and unzips both at image build, so
the whole-table downloads (agingkb_site/downloads.py) find package/ (with
the NDJSON files) and the zip beside the database, as in a build.

No secret is written to disk. The app signs with DATASETTE_SECRET from its
environment, a Fly secret. The deploy stages it (read on stdin by
`flyctl secrets import`, so not even the command line shows it) from the
deploying environment, or makes one when the app has none yet; an app that
has one keeps it, so a release does not end its visitors' sessions. A
container started without one signs with a random secret made once at start
for all its workers, and says so in its log: the site is public and
read-only, so cookies that do not outlive a restart cost nothing, while
refusing to start would take the site down for a missing setting.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
from pathlib import Path

from datasette.utils import parse_metadata

from agingkb_site.serve import METADATA, app_environment

from ..schema import DATA_DIR, load_yaml
from .site_wheel import build_site_wheel

SECRET_NAME = "DATASETTE_SECRET"  # the Fly secret the app signs with

# Packages the deployed app installs, pinned like pyproject.toml pins them.
DEPLOY_PACKAGES = [
    "datasette==0.65.5",
    "uvicorn==0.54.0",
    "limits==5.8.0",
    "nh3==0.3.8",
    "markdown-it-py==4.3.0",
    "mdit-py-plugins==0.7.0",
    "datasette-block-robots==1.1.1",
    "mcp==2.3.0",
    "jsonschema==4.26.0",
]
BASE_IMAGE = "python:3.11.0-slim-bullseye"
PORT = 8080
APP_DIR = "app"  # inside the release directory, which is the build context
# The release's own files the image is built from (paths in the build context).
CONTEXT_FILES = ("agingkb.db", "datapackage.zip", "ndjson.zip")

# Fly's services for one HTTP app (as datasette-publish-fly wrote them).
FLY_SERVICES = """
[[services]]
  internal_port = {port}
  protocol = "tcp"

  [services.concurrency]
    hard_limit = 25
    soft_limit = 20

  [[services.ports]]
    handlers = ["http"]
    port = 80
    force_https = true

  [[services.ports]]
    handlers = ["tls", "http"]
    port = 443

  [[services.tcp_checks]]
    interval = 10000
    timeout = 2000
"""

# The container's start: one secret for every worker (cookies and CSRF
# tokens one worker signs are checked by another), from the environment or,
# failing that, made once here.
START_COMMAND = (
    'if [ -z "$DATASETTE_SECRET" ]; then echo "agingkb: DATASETTE_SECRET is not set'
    ' (flyctl secrets set DATASETTE_SECRET=...): signing with a random secret until this container stops" >&2; fi;'
    " AGINGKB_SECRET=\"${DATASETTE_SECRET:-$(python -c 'import secrets; print(secrets.token_hex(32))')}\""
    " exec uvicorn --factory agingkb_site.asgi:create_app --http agingkb_site.asgi:PromptH11Protocol"
    " --loop asyncio --host 0.0.0.0 --port $PORT --workers $(nproc) --no-access-log"
)


def fly_app_name(app: str | None = None) -> str:
    """The Fly app to deploy to: --app, else FLY_APP in the environment,
    else `deploy: fly_app` of data/site.yml."""
    return app or os.environ.get("FLY_APP") or load_yaml(DATA_DIR / "site.yml")["deploy"]["fly_app"]


def dockerfile(version: str, wheel: str) -> str:
    """The app's Dockerfile, built from the release directory: the pinned
    packages and the site's wheel first (a layer that outlives a data
    release), then the release's database and zip."""
    environment = {
        **app_environment("agingkb.db", "metadata.json", proxy_client_header="Fly-Client-IP"),
        "AGINGKB_INSPECT": "inspect-data.json",
        "AGINGKB_VERSION_NOTE": f"agingkb {version}",
    }
    lines = [
        "# Build context: the release directory (flyctl deploy . --config app/fly.toml --dockerfile app/Dockerfile).",
        "# DATASETTE_SECRET comes from the environment (a Fly secret), never from this file.",
        f"FROM {BASE_IMAGE}",
        "WORKDIR /app",
        f"COPY {APP_DIR}/{wheel} {APP_DIR}/metadata.json ./",
        f"RUN pip install -U --no-cache-dir {' '.join(DEPLOY_PACKAGES)} {wheel}",
        f"COPY {' '.join(CONTEXT_FILES)} ./",
        "RUN python -m zipfile -e datapackage.zip package/",
        "RUN python -m zipfile -e ndjson.zip package/",
        "RUN rm ndjson.zip",
        "RUN datasette inspect agingkb.db --inspect-file inspect-data.json",
        f"ENV PORT={PORT}",
        f"EXPOSE {PORT}",
        "ENV " + " ".join(f"{name}={shlex.quote(value)}" for name, value in environment.items()),
        f"CMD {START_COMMAND}",
    ]
    return "\n".join(lines) + "\n"


def fly_toml(app: str) -> str:
    # The Dockerfile is named relative to this file; the deploy names it too.
    return f'app = "{app}"\n\n[build]\n  dockerfile = "Dockerfile"\n' + FLY_SERVICES.format(port=PORT)


def write_app(release_dir: Path, app: str, version: str) -> Path:
    """dist/<version>/app/: Dockerfile, fly.toml, metadata.json and the
    site's wheel; nothing the release directory already holds."""
    app_dir = release_dir / APP_DIR
    app_dir.mkdir(exist_ok=True)
    wheel = build_site_wheel(app_dir)
    metadata = parse_metadata(METADATA.read_text(encoding="utf-8"))
    (app_dir / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    (app_dir / "Dockerfile").write_text(dockerfile(version, wheel.name), encoding="utf-8")
    (app_dir / "fly.toml").write_text(fly_toml(app), encoding="utf-8")
    return app_dir


def deploy_commands(app: str, secret: str | None) -> list[tuple[list[str], str | None]]:
    """The deploy, run from the release directory: the secret staged for the
    next deploy when there is one to stage (on stdin, never in an argument),
    then the remote build and deploy of the release directory. Each entry:
    (command, its stdin)."""
    staged = [(["flyctl", "secrets", "import", "--stage", "--app", app], f"{SECRET_NAME}={secret}\n")]
    return (staged if secret else []) + [
        (
            [
                "flyctl",
                "deploy",
                ".",
                "--config",
                f"{APP_DIR}/fly.toml",
                "--dockerfile",
                f"{APP_DIR}/Dockerfile",
                "--remote-only",
                "--app",
                app,
            ],
            None,
        ),
    ]


def secrets_listing(app: str) -> list[str]:
    """The command that lists the app's secrets by name (their values never leave Fly)."""
    return ["flyctl", "secrets", "list", "--json", "--app", app]


def secret_names(listing: str) -> set[str]:
    """The names in `flyctl secrets list --json`: a list of objects whose
    key is "name" (flyctl before 2023 wrote "Name")."""
    return {entry.get("name") or entry.get("Name") for entry in json.loads(listing or "[]")}


def secret_to_stage(environment: str | None, app_secrets: set[str]) -> str | None:
    """The DATASETTE_SECRET a deploy stages: the deploying environment's when
    set (to keep sessions across deploys); else a new one only when the app
    has none yet. None when the app has one: a new secret at every deploy
    would void every visitor's cookies and CSRF tokens at each release."""
    if environment:
        return environment
    return None if SECRET_NAME in app_secrets else secrets.token_hex(32)

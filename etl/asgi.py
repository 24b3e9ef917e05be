"""The site as an ASGI application, for a multi-process server.

`etl serve` runs `uvicorn --factory etl.asgi:create_app --workers N`, and the
released app runs this same file under uvicorn in its container: every worker
process calls create_app() and serves the same immutable database, so
requests are spread over all cores. The worker learns what to serve from the
environment (set by etl/serve.py's server_command, or by the released app's
Dockerfile), so this file imports nothing of the project and is copied into
the released app as it is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from datasette.app import Datasette
from datasette.utils import parse_metadata


def create_app():
    environment = os.environ
    inspect_file = environment.get("AGINGKB_INSPECT")
    datasette = Datasette(
        immutables=[environment["AGINGKB_DB"]],
        metadata=parse_metadata(Path(environment["AGINGKB_METADATA"]).read_text(encoding="utf-8")),
        plugins_dir=environment["AGINGKB_PLUGINS"],
        template_dir=environment["AGINGKB_TEMPLATES"],
        settings=json.loads(environment["AGINGKB_SETTINGS"]),
        # Every worker signs with the same secret, so a cookie or CSRF token
        # one worker set is valid on the next request, whichever worker gets it.
        secret=environment["AGINGKB_SECRET"],
        inspect_data=json.loads(Path(inspect_file).read_text()) if inspect_file and Path(inspect_file).exists() else None,
        version_note=environment.get("AGINGKB_VERSION_NOTE"),
    )
    return datasette.app()

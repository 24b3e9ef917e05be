"""The site as an ASGI application, for a multi-process server.

`etl serve` runs `uvicorn --factory etl.asgi:create_app --workers N`: every
worker process calls create_app() and serves the same immutable database,
so requests are spread over all cores. The worker reads what to serve from
the environment that etl/serve.py sets (AGINGKB_*), and is configured
exactly as `datasette serve` would be with serve_args().
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from datasette.app import Datasette
from datasette.utils import parse_metadata

from .serve import METADATA, PLUGINS_DIR, SETTINGS, TEMPLATES_DIR


def create_app():
    db = Path(os.environ["AGINGKB_DB"])
    inspect_file = os.environ.get("AGINGKB_INSPECT")
    datasette = Datasette(
        immutables=[str(db)],
        metadata=parse_metadata(METADATA.read_text(encoding="utf-8")),
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(TEMPLATES_DIR),
        settings=dict(SETTINGS),
        # Every worker signs with the same secret, so a cookie or CSRF token
        # one worker set is valid on the next request, whichever worker gets it.
        secret=os.environ["AGINGKB_SECRET"],
        inspect_data=json.loads(Path(inspect_file).read_text()) if inspect_file else None,
        cors=False,
    )
    return datasette.app()

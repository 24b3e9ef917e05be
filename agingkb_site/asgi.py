"""The site as an ASGI application, for a multi-process server.

`etl serve` runs `uvicorn --factory agingkb_site.asgi:create_app --workers
N`, and the released app runs the same module under uvicorn in its container
(the site package is installed there from a wheel): every worker process
calls create_app() and serves the same immutable database, so requests are
spread over all cores. The worker learns what to serve from the environment
(set by serve.py's server_command, or by the released app's Dockerfile);
the plugins, templates and static files come with the package.
"""

from __future__ import annotations

import json
import os
import socket
from asyncio import selector_events
from pathlib import Path

from datasette.app import Datasette
from datasette.utils import parse_metadata
from uvicorn.protocols.http.h11_impl import H11Protocol


class PromptH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with Nagle's algorithm off on every
    connection. With --workers, uvicorn hands its workers a listening socket
    whose connections asyncio leaves with Nagle on; a response written as
    headers then body then waited for the client's delayed ACK, adding 40 ms
    to every small page (a trivial query took 44 ms instead of 2)."""

    def connection_made(self, transport):
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


_start_serving = selector_events.BaseSelectorEventLoop._start_serving


def _start_serving_one_accept_per_wakeup(
    self, protocol_factory, sock, sslcontext=None, server=None, backlog=100, *rest
):
    """asyncio accepts up to `backlog` waiting connections each time the
    listening socket is ready. The workers share one socket, so whichever
    woke first took every connection waiting: with 50 keep-alive clients
    arriving at once, one worker held all 50 in 2 runs of 3 and the site ran
    on one core (49 req/s instead of 127). Taking one connection per wakeup
    lets the other worker, or the less busy one, take the next. The listen
    queue keeps its length: asyncio.Server calls listen() with its own
    backlog before it calls this."""
    return _start_serving(self, protocol_factory, sock, sslcontext, server, 1, *rest)


# Imported in every worker, before uvicorn starts serving (uvicorn loads the
# --http protocol class from this module).
selector_events.BaseSelectorEventLoop._start_serving = _start_serving_one_accept_per_wakeup


def create_app():
    environment = os.environ
    inspect_file = environment.get("AGINGKB_INSPECT")
    datasette = Datasette(
        immutables=[environment["AGINGKB_DB"]],
        metadata=parse_metadata(Path(environment["AGINGKB_METADATA"]).read_text(encoding="utf-8")),
        settings=json.loads(environment["AGINGKB_SETTINGS"]),
        # Every worker signs with the same secret, so a cookie or CSRF token
        # one worker set is valid on the next request, whichever worker gets it.
        secret=environment["AGINGKB_SECRET"],
        inspect_data=json.loads(Path(inspect_file).read_text())
        if inspect_file and Path(inspect_file).exists()
        else None,
        version_note=environment.get("AGINGKB_VERSION_NOTE"),
    )
    return datasette.app()

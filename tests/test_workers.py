"""`etl serve` spreads connections over its workers: clients that connect
at the same moment are not all taken by the worker that woke first."""

from __future__ import annotations

import os
import socket
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

from agingkb_site.serve import running_server

CONNECTIONS = 40


def child_pids(server_pid: int) -> list[int]:
    """The uvicorn parent's children: its workers."""
    return [int(pid) for pid in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()]


def established_sockets_on(port: int) -> set[int]:
    """Inodes of established TCP connections whose local port is `port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], int(fields[9])
        if local_port == port and state == "01":  # 01 = ESTABLISHED
            inodes.add(inode)
    return inodes


def connections_per_process(pids: list[int], port: int) -> Counter:
    wanted, held = established_sockets_on(port), Counter()
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except FileNotFoundError:  # closed meanwhile
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in wanted:
                held[pid] += 1
    return held


def test_simultaneous_clients_are_shared_between_the_workers(fixture_build, tmp_path):
    out, _ = fixture_build
    with running_server((out / "agingkb.db").resolve(), tmp_path / "serve.log", workers=2) as url:
        port = urlparse(url).port
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
        try:
            for client in clients:  # every connection answered once, and kept open
                client.sendall(b"GET /-/versions.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for client in clients:
                assert client.recv(65536).startswith(b"HTTP/1.1 200")
            held = connections_per_process(child_pids(url.pid), port)
        finally:
            for client in clients:
                client.close()
    assert sum(held.values()) == CONNECTIONS, held
    assert len(held) == 2 and min(held.values()) >= CONNECTIONS // 8, f"connections per worker: {dict(held)}"

"""The largest process of a command's process tree, by resident memory,
sampled from /proc every 50 ms (a spike shorter than that can be missed).

The kernel's maximum resident set of waited-for children names no one
process: a forked worker counts from its parent's size at the fork."""

from __future__ import annotations

import os
import subprocess
import time


def resident_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending += children.get(pid, [])
    return tree


def run_sampled(command: list[str], **popen) -> tuple[int, str, str, float]:
    """(exit status, stdout, stderr, the largest process's peak RSS in MB)."""
    largest = 0.0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen) as run:
        while run.poll() is None:
            largest = max([largest, *(resident_mb(pid) for pid in process_tree(run.pid))])
            time.sleep(0.05)
        stdout, stderr = run.communicate()
    return run.returncode, stdout, stderr, largest

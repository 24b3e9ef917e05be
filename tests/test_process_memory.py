"""The benchmarks' memory figure (benchmarks/process_memory.py) is the largest
process of the command's tree, a child's included, not the sum of them."""

import sys

from benchmarks.process_memory import run_sampled

HOLD = "import time; block = bytearray({mb} << 20); block[::4096] = b'x' * len(block[::4096]); time.sleep(0.6)"


def test_a_child_holding_more_than_its_parent_is_the_largest():
    child = HOLD.format(mb=120)
    parent = f"import subprocess, sys; {HOLD.format(mb=80)}; subprocess.run([sys.executable, '-c', {child!r}])"
    status, _, _, largest = run_sampled([sys.executable, "-c", parent])
    assert status == 0
    assert 120 <= largest < 120 + 60  # the child's block and an interpreter, not both processes' sum


def test_the_exit_status_and_output_come_back():
    status, stdout, stderr, _ = run_sampled([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"])
    assert (status, stdout.strip(), stderr) == (3, "out", "")

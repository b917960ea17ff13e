"""``.ci/flakes``, the flaky-test hunt: its load ends with it however it is stopped.

A hunt stopped with SIGTERM (``timeout``, ``pkill``), SIGHUP (a closed terminal) or even
SIGKILL used to leave one busy loop per core running for good: the next test run on that
machine was "loaded" without anyone knowing. Real processes, real signals.
"""
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLAKES = ROOT / ".ci" / "flakes"


def alive(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"                    # a zombie has ended; only its parent has not looked


def until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def hunt(tmp_path):
    """A hunt (loaded, one run) of one test that holds until it is killed."""
    started = tmp_path / "started"
    held = tmp_path / "test_held.py"
    held.write_text("import os, pathlib, time\n\n\ndef test_held():\n"
                    "    parent = os.getppid()\n"
                    f"    pathlib.Path({str(started)!r}).write_text('in')\n"
                    "    while os.getppid() == parent:   # until the hunt is gone\n"
                    "        time.sleep(0.1)\n")
    procs = []

    def start():
        p = subprocess.Popen([sys.executable, str(FLAKES), "--conditions", "loaded", "-n", "1",
                              "--load", "cpu", str(held)], cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        procs.append(p)
        line = p.stdout.readline()
        assert line.startswith("load started: pids "), line
        pids = [int(x) for x in line.split("pids ", 1)[1].split()]
        assert len(pids) == (os.cpu_count() or 1)
        until(started.exists, 300, "the held test never started")
        assert all(alive(pid) for pid in pids)
        return p, pids

    yield start
    for p in procs:                        # a failed test must not leave its own load behind
        if p.poll() is None:
            p.kill()
        p.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_hunt_stopped_by_a_signal_stops_its_load_and_its_run(hunt, sig):
    p, pids = hunt()
    p.send_signal(sig)
    p.wait(timeout=60)
    # stop() has waited on each load process before the hunt exits: none is left, at once
    assert [pid for pid in pids if alive(pid)] == []


def test_a_killed_hunt_leaves_no_busy_loop_behind(hunt):
    p, pids = hunt()
    p.kill()                               # SIGKILL: no handler, no finally
    p.wait(timeout=60)
    until(lambda: not any(alive(pid) for pid in pids), 30,
          "busy loops outlived the hunt that started them")

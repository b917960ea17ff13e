"""tests/browser/labharness.py: a server started by a test goes away with the test process,
even when that process is killed (no finally runs)."""
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

HERE = pathlib.Path(__file__).parent


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux's setpriv")
def test_a_server_stops_when_the_test_process_is_killed(tmp_path):
    script = textwrap.dedent(f"""
        import os, pathlib, sys, time
        sys.path.insert(0, {str(HERE)!r})
        from labharness import _serve, free_port
        port = free_port()
        run = pathlib.Path({str(tmp_path)!r})
        with _serve("http.server", [sys.executable, "-m", "http.server", str(port),
                                    "--bind", "127.0.0.1"], dict(os.environ), run,
                    f"http://127.0.0.1:{{port}}/"):
            print(port, flush=True)
            time.sleep(600)
    """)
    test = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    port = test.stdout.readline().strip()
    assert port, "the server did not come up"
    server = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p).endswith(
        f"http.server {port} --bind 127.0.0.1")]
    assert len(server) == 1, server
    test.send_signal(signal.SIGKILL)                      # no finally, no atexit
    test.wait()
    deadline = time.monotonic() + 20
    while os.path.exists(f"/proc/{server[0]}") and _cmdline(server[0]):
        assert time.monotonic() < deadline, "the server outlived the killed test process"
        time.sleep(0.05)


def _cmdline(pid: str) -> str:
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""

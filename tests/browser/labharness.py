"""Headless JupyterLab + Debian Chromium (Python playwright), for end-to-end widget tests.

Adapted from ../shared/reference/browser-harness: isolated Jupyter dirs, loopback
only, a random token, `window.jupyterapp` exposed so the test can run cells and
talk to the kernel through the page.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import nbformat

ARTIFACTS = pathlib.Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 "--enable-unsafe-swiftshader"]   # WebGL through SwiftShader (CPU)
BIN = pathlib.Path(sys.executable).parent


def write_notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def lab_server(root_dir, extra_args=()):
    """Start `jupyter lab` on 127.0.0.1 with its own config/runtime dirs; yield (base, token)."""
    with jupyter_server(root_dir, "lab", extra_args) as server:
        yield server


@contextlib.contextmanager
def jupyter_server(root_dir, app="lab", extra_args=()):
    """`jupyter lab` or `jupyter notebook` (Notebook 7) on 127.0.0.1 with its own
    config/runtime dirs and `window.jupyterapp` exposed; yield (base, token)."""
    expose = {"lab": "--LabApp.expose_app_in_browser=True",
              "notebook": "--JupyterNotebookApp.expose_app_in_browser=True"}[app]
    token, port = secrets.token_hex(16), free_port()
    run = pathlib.Path(tempfile.mkdtemp(prefix="labrun-"))
    settings = run / "settings/@jupyterlab/apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(run / "config"), JUPYTER_DATA_DIR=str(run / "data"),
               JUPYTER_RUNTIME_DIR=str(run / "runtime"), IPYTHONDIR=str(run / "ipython"),
               JUPYTERLAB_SETTINGS_DIR=str(run / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(run / "workspaces"),
               PATH=f"{BIN}:{os.environ['PATH']}")
    # the kernel must be this interpreter (with vae_widgets), not whatever python3 is on PATH
    spec = pathlib.Path(env["JUPYTER_DATA_DIR"]) / "kernels/python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    cmd = [str(BIN / "jupyter"), app, "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root_dir}",
           "--ServerApp.port_retries=0", expose,
           # kernels on IPC sockets in the server's runtime folder: no TCP port picked free
           # and bound later, which a second test run on the machine can take in between
           "--KernelManager.transport=ipc", *extra_args]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    base = f"http://127.0.0.1:{port}"
    with _serve(f"jupyter {app}", cmd, env, run, f"{base}/api/status?token={token}"):
        yield base, token


@contextlib.contextmanager
def marimo_server(notebook, mode="run"):
    """`marimo run` (or `edit`) of one notebook file on 127.0.0.1 with a random access
    token and its own config dir, no update check; yield the page URL to open."""
    token, port = secrets.token_hex(16), free_port()
    run = pathlib.Path(tempfile.mkdtemp(prefix="marimo-"))
    env = dict(os.environ, XDG_CONFIG_HOME=str(run / "config"), XDG_STATE_HOME=str(run / "state"),
               XDG_CACHE_HOME=str(run / "cache"), MARIMO_SKIP_UPDATE_CHECK="1",
               PATH=f"{BIN}:{os.environ['PATH']}")
    cmd = [str(BIN / "marimo"), mode, str(notebook), "--headless", "--host", "127.0.0.1",
           "--port", str(port), "--token-password", token, "--no-sandbox"]
    base = f"http://127.0.0.1:{port}"
    with _serve("marimo", cmd, env, run, f"{base}/health", cwd=pathlib.Path(notebook).parent):
        yield f"{base}/?access_token={token}"


@contextlib.contextmanager
def _serve(name, cmd, env, run, probe, cwd=None):
    """Run a server (its log in ``run``), wait until ``probe`` answers, stop it after.

    Where util-linux's ``setpriv`` is found (Linux), the server is also told to stop
    (SIGTERM, its clean stop) when this test process dies without reaching ``finally``:
    a run killed by a timeout or a flake hunt's Ctrl-C left JupyterLab, and a kernel
    running a watched loop forever, burning the cores of the runs after it."""
    if shutil.which("setpriv"):
        cmd = ["setpriv", "--pdeathsig", "TERM", "--", *cmd]
    log = open(run / "server.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited rc={proc.returncode}:\n"
                                   + (run / "server.log").read_text()[-3000:])
            try:
                urllib.request.urlopen(probe, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise TimeoutError(f"{name} did not come up in 60 s")
        yield
    finally:
        # SIGTERM: jupyter_server's clean stop (ends its kernels) whatever stdin is; SIGINT
        # went unheard in the full suite (20 s to the kill below, 13 modules)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(run, ignore_errors=True)


class OfflineGuard:
    """Blocks, and records, every request a page makes to another host.

    Installed on a browser context: HTTP(S) requests of any kind (documents, scripts,
    styles, fonts, images, source maps, fetch/XHR) and websockets to a host that is not
    allowed are aborted before they leave the machine, and their URLs are kept in
    ``blocked``. Allowed: the origins in ``allow`` (e.g. the Jupyter server's base URL,
    with its port; ws:// and http:// of the same host and port count as one) or, without
    ``allow``, any loopback host. data:, blob: and about: URLs never go out anyway.

    The routes are regular expressions that match only what is blocked: Playwright
    then matches in the browser/driver, and allowed traffic (the kernel's websocket
    above all) is not intercepted or proxied at all.
    """

    def __init__(self, allow=None):
        if allow:
            hosts = [_host_port(a) for a in allow]
        else:
            hosts = [rf"{h}(?::\d+)?" for h in (r"127\.0\.0\.1", "localhost", r"\[::1\]")]
        self.pattern = re.compile(
            rf"^(?:https?|wss?)://(?!(?:{'|'.join(hosts)})(?:[/?#]|$))", re.I)
        self.blocked: list[str] = []

    def allowed(self, url: str) -> bool:
        return not self.pattern.search(url)

    def install(self, context):
        context.route(self.pattern, self._abort)
        context.route_web_socket(self.pattern, self._close_ws)
        return context

    def _abort(self, route):
        self.blocked.append(route.request.url)
        route.abort("blockedbyclient")

    def _close_ws(self, ws):
        self.blocked.append(ws.url)
        ws.close(code=1008, reason="offline test: other hosts are blocked")


def _host_port(origin: str) -> str:
    """``http://127.0.0.1:8888/x`` -> a regex for ``127.0.0.1:8888`` (the port made explicit)."""
    parts = urllib.parse.urlsplit(origin)
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return re.escape(f"{host}:{port}")


def launch(pw, offline: bool = True, allow=None):
    """Debian Chromium, headless. With ``offline`` (the default) every context and page
    made from it (``browser.new_context()``, ``browser.new_page()``) blocks requests to
    other hosts and records them in ``browser.offline.blocked`` (see ``OfflineGuard``,
    ``assert_offline``)."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    if offline:
        guard = browser.offline = OfflineGuard(allow)
        make_context = browser.new_context

        def new_context(**kwargs):
            return guard.install(make_context(**kwargs))

        def new_page(**kwargs):      # like Browser.new_page: a page in a context of its own
            return new_context(**kwargs).new_page()

        browser.new_context, browser.new_page = new_context, new_page
    return browser


def blocked_requests(browser) -> list[str]:
    """URLs to other hosts that pages of ``browser`` tried to load (and were refused)."""
    guard = getattr(browser, "offline", None)
    return list(guard.blocked) if guard else []


def assert_offline(browser):
    blocked = blocked_requests(browser)
    assert not blocked, f"pages tried to reach other hosts: {sorted(set(blocked))[:20]}"


def open_notebook(page, base, token, nb_name, timeout=90_000, path="lab/tree"):
    """Open a notebook (``path="notebooks"`` in Notebook 7) and wait for an idle kernel.

    In JupyterLab the workspace is reset (``?reset``): otherwise a second page of the same
    server restores the tabs of the first and may make one of *them* the current widget,
    where ``run-all-cells`` would then run. The wait is for this notebook's own panel."""
    reset = "reset&" if path == "lab/tree" else ""
    page.goto(f"{base}/{path}/{nb_name}?{reset}token={token}")
    page.wait_for_function("""(name) => { const w = window.jupyterapp &&
        window.jupyterapp.shell.currentWidget;
        return w && w.sessionContext && w.context && w.context.path === name; }""",
                           arg=nb_name, timeout=timeout)
    page.wait_for_function("""async () => { const w = window.jupyterapp.shell.currentWidget;
        await w.sessionContext.ready; const k = w.sessionContext.session?.kernel;
        return k && k.connectionStatus === 'connected' && k.status === 'idle'; }""",
                           timeout=timeout, polling=200)


def run_all(page):
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def kernel_exec(page, code, timeout=30_000):
    """Run code in the notebook's kernel through the page; return its stdout (errors raise)."""
    out = page.evaluate("""async (code) => {
        const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        let out = ''; const f = k.requestExecute({ code, store_history: false });
        f.onIOPub = (m) => { if (m.header.msg_type === 'stream') out += m.content.text;
                             if (m.header.msg_type === 'error') out += 'KERNEL-ERROR ' + m.content.ename + ': ' + m.content.evalue; };
        await f.done; return out; }""", code)
    if "KERNEL-ERROR" in out:
        raise AssertionError(out)
    return out


def ink(png_bytes: bytes, background=None, tolerance=40) -> int:
    """Pixels that differ from the image's dominant (background) colour."""
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB")).astype(int)
    flat = img.reshape(-1, 3)
    if background is None:
        colours, counts = np.unique(flat, axis=0, return_counts=True)
        background = colours[counts.argmax()]
    return int((np.abs(flat - np.asarray(background)).sum(axis=1) > tolerance).sum())


def data_attr(page, selector, name):
    return page.eval_on_selector(selector, f"el => el.dataset.{name}")


def wait_attr(page, selector, js_condition, timeout=30_000):
    """Wait until `js_condition` (an expression over `d`, the element's dataset) holds."""
    page.wait_for_function(
        f"() => {{ const el = document.querySelector({json.dumps(selector)}); if (!el) return false;"
        f" const d = el.dataset; return {js_condition}; }}", timeout=timeout, polling=50)


def kernel_json(page, expr):
    """``expr`` evaluated in the kernel, through JSON."""
    import json
    return json.loads(kernel_exec(page, f"import json; print(json.dumps({expr}, default=str))"))


def kernel_when(page, expr, ok, timeout=10.0):
    """``expr`` in the kernel once ``ok(value)`` holds (or the last value after ``timeout``
    s). A change made in the page reaches the kernel through the comm, which JupyterLab
    routes to a kernel subshell: it can land after the next execute request."""
    import time
    t0 = time.time()
    while True:
        got = kernel_json(page, expr)
        if ok(got) or time.time() - t0 > timeout:
            return got
        time.sleep(0.2)


def kernel_until(page, expr, expected, timeout=10.0):
    """``expr`` in the kernel once it equals ``expected`` (see :func:`kernel_when`)."""
    return kernel_when(page, expr, lambda got: got == expected, timeout)


def click_until(page, button, root, js_condition, timeout=10_000):
    """Click ``button`` and wait until ``js_condition`` (over ``d``, ``root``'s dataset)
    holds; return the seconds between the page's click event and the attribute change
    that made it hold, in the page's own clock. Playwright's wait for the button to be
    clickable (two stable animation frames, slow while a loaded page draws) is not part
    of what the user waits for after clicking, so it is left out."""
    # (element handles: playwright's selectors also reach into a host's shadow roots)
    b, el = page.locator(button).element_handle(), page.locator(root).first.element_handle()
    page.evaluate("""([b, el, cond]) => {
        window.__vwClick = { t0: null, t1: null };
        b.addEventListener('click', () => { window.__vwClick.t0 = performance.now(); },
                           { capture: true, once: true });
        const holds = new Function('d', 'return (' + cond + ');');
        new MutationObserver((_, obs) => {
          if (window.__vwClick.t0 !== null && holds(el.dataset)) {
            window.__vwClick.t1 = performance.now(); obs.disconnect(); }
        }).observe(el, { attributes: true });
    }""", [b, el, js_condition])
    b.click()
    page.wait_for_function("() => window.__vwClick.t1 !== null", timeout=timeout, polling=20)
    return page.evaluate("() => (window.__vwClick.t1 - window.__vwClick.t0) / 1000")


def wait_dataset(page, selector, js_condition, timeout=30_000):
    """Like :func:`wait_attr`, through Playwright's selectors, which pierce shadow roots
    (Panel and marimo render widgets in them)."""
    deadline = time.time() + timeout / 1000
    while True:
        if page.locator(selector).count() and page.locator(selector).first.evaluate(
                f"el => {{ const d = el.dataset; return !!({js_condition}); }}"):
            return
        if time.time() > deadline:
            got = (page.locator(selector).first.evaluate("el => ({...el.dataset})")
                   if page.locator(selector).count() else "no such element")
            raise TimeoutError(f"{selector}: {js_condition} not true after "
                               f"{timeout / 1000:.0f} s; dataset {got}")
        page.wait_for_timeout(50)


def draw_lasso(page, root, frac=0.35, back=True):
    """Switch ``root``'s t-SNE view to lasso mode and drag a lasso over the upper middle
    of its scatter (a box ``frac`` of its size each side of the centre), mouse up; back
    to pan/zoom mode after (unless ``back=False``)."""
    page.click(f"{root} .vw-lasso")
    box = page.locator(f"{root} .vw-scatter").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    rx, ry = box["width"] * frac, box["height"] * frac
    page.mouse.move(cx - rx, cy - ry)
    page.mouse.down()
    for x, y in [(cx + rx, cy - ry), (cx + rx, cy + 0.1 * ry), (cx - rx, cy + 0.1 * ry),
                 (cx - rx, cy - ry)]:
        page.mouse.move(x, y, steps=12)
    page.mouse.up()
    if back:
        page.click(f"{root} .vw-lasso")

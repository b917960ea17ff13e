"""The widgets under shinywidgets (``@render_widget``): what the worker thread sends reaches
the page with nothing more from the page, and the view is sized to its content.

A real Shiny app (uvicorn on loopback, in this process, so the test reads the widget)
and a websocket client that speaks Shiny's protocol as shiny.js does: ``init``, then
``update`` of ``shinywidgets_comm_send`` (how shinywidgets' page sends a comm message).
(A page in Chromium: tests/browser/test_shiny_browser.py.)
"""
import json
import socket
import threading
import time

import pytest

pytest.importorskip("shiny")
ws_client = pytest.importorskip("websockets.sync.client")

import ipywidgets  # noqa: E402
import uvicorn  # noqa: E402

from vae_widgets import TSNEWidget, datasets  # noqa: E402
from vae_widgets.widgets import shiny_host  # noqa: E402

X, Y = datasets.digits()
X, Y = X[:150], Y[:150]


@pytest.fixture(scope="module")
def app():
    """A Shiny app on 127.0.0.1 with outputs ``tsne`` (a TSNEWidget) and ``tall`` (one
    whose ``layout.height`` the user set); yields (websocket URL, the widgets made)."""
    # importing shinywidgets makes every widget constructed anywhere need a Shiny
    # session (ipywidgets' one construction hook): put back what was there, after
    before = ipywidgets.Widget._widget_construction_callback
    shinywidgets = pytest.importorskip("shinywidgets")
    from shiny import App, ui

    ipywidgets.Widget.on_widget_constructed(shinywidgets._shinywidgets.init_shiny_widget)
    made = {"tsne": [], "tall": []}

    def server(input, output, session):
        @output(id="tsne")
        @shinywidgets.render_widget
        def _tsne():
            w = TSNEWidget(X, labels=Y, perplexity=10, n_iter=300)
            made["tsne"].append(w)
            return w

        @output(id="tall")
        @shinywidgets.render_widget
        def _tall():
            w = TSNEWidget(X, perplexity=10)
            w.layout.height = "700px"
            made["tall"].append(w)
            return w

    shiny_app = App(ui.page_fluid(shinywidgets.output_widget("tsne"),
                                  shinywidgets.output_widget("tall")), server)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(shiny_app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started:
        assert time.time() < deadline and thread.is_alive(), "the Shiny app did not start"
        time.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/websocket/", made
    finally:
        for w in made["tsne"] + made["tall"]:
            w.close()
        srv.should_exit = True
        thread.join(10)
        sock.close()
        ipywidgets.Widget._widget_construction_callback = before


class Page:
    """What shiny.js and shinywidgets' output binding do over the websocket."""

    def __init__(self, ws):
        self.ws = ws
        self.values, self.comm = {}, []       # outputs' values; comm messages, in order
        self.ws.send(json.dumps({"method": "init", "data": {
            ".clientdata_output_tsne_hidden": False, ".clientdata_output_tall_hidden": False,
            ".clientdata_url_search": ""}}))

    def until(self, ok, what, timeout=30.0):
        """Read messages until ``ok(self)`` holds (nothing is sent meanwhile)."""
        deadline = time.time() + timeout
        while not ok(self):
            left = deadline - time.time()
            assert left > 0, f"{what} (after {timeout:.0f} s)"
            try:
                raw = self.ws.recv(timeout=left)
            except TimeoutError:
                continue
            msg = json.loads(raw)
            self.values.update(msg.get("values") or {})
            for kind, body in (msg.get("custom") or {}).items():
                if kind.startswith("shinywidgets_comm"):
                    self.comm.append((kind, json.loads(body)))

    def send_custom(self, comm_id, content):
        """The view's ``model.send(content)``."""
        msg = {"content": {"comm_id": comm_id,
                           "data": {"method": "custom", "content": content}},
               "buffers": []}
        self.ws.send(json.dumps({"method": "update", "data": {
            "shinywidgets_comm_send": json.dumps(msg)}}))

    def of(self, comm_id, method):
        """The data of comm messages to ``comm_id`` with ``data.method == method``."""
        return [m["content"]["data"] for kind, m in self.comm
                if kind == "shinywidgets_comm_msg" and m["content"]["comm_id"] == comm_id
                and m["content"]["data"].get("method") == method]

    def states(self, comm_id):
        return [d["state"] for d in self.of(comm_id, "update")]


def test_what_the_worker_sends_reaches_the_page_unasked(app):
    url, made = app
    with ws_client.connect(url, max_size=None) as ws:
        page = Page(ws)
        page.until(lambda p: "tsne" in p.values and made["tsne"], "the widget never rendered")
        w = made["tsne"][-1]
        assert shiny_host.shown_by_shinywidgets(w)
        model = page.values["tsne"]["model_id"]
        page.until(lambda p: any(k == "shinywidgets_comm_open" and m["content"]["comm_id"]
                                 == model for k, m in p.comm), "no comm was opened")
        page.send_custom(model, {"type": "command", "action": "run"})
        # from here the page sends nothing: the worker's sends must come on their own
        page.until(lambda p: any(s.get("status") == "running" for s in p.states(model)),
                   "the status 'running' (sent from the worker) never reached the page")
        page.until(lambda p: any(c["content"].get("type") == "frame"
                                 for c in p.of(model, "custom")), "no frame reached the page")
        page.until(lambda p: any(s.get("status") == "done" for s in p.states(model)),
                   "the end of the run never reached the page", timeout=60)
        assert w.status == "done"
        frame = next(m for k, m in page.comm if k == "shinywidgets_comm_msg"
                     and m["content"]["data"].get("content", {}).get("type") == "frame")
        assert len(frame["buffers"]) == 1          # the positions, base64 (shinywidgets)
        # the order of the trait updates is the order they were made in
        iterations = [s["iteration"] for s in page.states(model) if "iteration" in s]
        assert iterations == sorted(iterations) and iterations[-1] == w.iteration


def test_the_view_is_sized_to_its_content_unless_the_user_set_a_height(app):
    url, made = app
    with ws_client.connect(url, max_size=None) as ws:
        page = Page(ws)
        page.until(lambda p: {"tsne", "tall"} <= set(p.values), "the widgets never rendered")
        # shinywidgets "fills" (a 400 px flex basis in an overflow: hidden box) unless
        # the widget's layout has a height
        assert page.values["tsne"]["fill"] is False
        assert made["tsne"][-1].layout.height == shiny_host.HEIGHT == "max-content"
        assert made["tall"][-1].layout.height == "700px"


def test_outside_shiny_nothing_changes(monkeypatch):
    monkeypatch.setattr(ipywidgets.Widget, "_widget_construction_callback", None)
    w = TSNEWidget(X, perplexity=10)
    try:
        assert not shiny_host.shown_by_shinywidgets(w)
        assert w._shiny_route is None and w.layout.height is None
    finally:
        w.close()

"""``w.to_panel()``: the Panel component mirrors the widget's traits and messages both
ways, refuses bad input with a clear message, and closing it (or the widget, or its last
server session) stops the run. (A page in Chromium: tests/browser/test_panel_browser.py.)"""
import logging

import numpy as np
import pytest

pn = pytest.importorskip("panel")

from vae_widgets import TSNEWidget, VAEWidget, datasets  # noqa: E402
from vae_widgets.widgets import panel_host  # noqa: E402
from vae_widgets.widgets._frames import decode_frame  # noqa: E402

X, Y = datasets.digits()
X, Y = X[:120], Y[:120]


@pytest.fixture
def tsne():
    w = TSNEWidget(X, labels=Y, perplexity=10, n_iter=100)
    yield w
    w.close()


def shown(component):
    """(the component, its Bokeh model in a document of its own, what it sent the page)"""
    sent = []
    component._send_msg = sent.append           # Panel's ESM event to every page
    return component.get_root(), sent


def test_the_component_holds_the_widgets_state_and_follows_it(tsne):
    c = tsne.to_panel()
    model, _ = shown(c)
    data = model.data
    assert data.w_status == "idle" and data.w_n_points == 120
    assert data.w_color == "label" and isinstance(data.w_color_values, bytes)
    assert np.array_equal(np.frombuffer(data.w_color_values, "<f4"),
                          tsne.color_values.astype("<f4"))
    assert "w__esm" not in c.param and "w_layout" not in c.param    # ipywidgets' own: not
    tsne.notice = "hello"
    tsne.selected = [3, 1, 2]
    assert data.w_notice == "hello" and data.w_selected == [3, 1, 2]
    # Panel runs the bundle's text as it is (a key, so no TypeScript pass over it)
    assert model.bundle.startswith("vae_widgets-")
    assert "const __vwFactory = " in model.esm and model.esm.rstrip().endswith("};")


def test_a_page_opened_later_gets_the_current_state(tsne):
    c = tsne.to_panel()
    tsne.notice = "set before any page"
    model, _ = shown(c)
    assert model.data.w_notice == "set before any page"


def test_custom_messages_and_their_buffers_reach_the_page(tsne):
    c = tsne.to_panel()
    _, sent = shown(c)
    tsne.send({"type": "x", "n": 1}, buffers=[memoryview(b"\x01\x02")])
    assert sent[-1] == {"method": "custom", "content": {"type": "x", "n": 1},
                        "buffers": [b"\x01\x02"]}
    tsne.run()
    tsne.wait(60)
    frames = [m for m in sent if m["content"].get("type") == "frame"]
    assert frames, "no frame reached the page"
    last = frames[-1]
    xy = decode_frame(last["content"], last["buffers"][0])
    assert xy.shape == (120, 2) and np.isfinite(xy).all()
    assert c.w_status == "done" and c.w_iteration == tsne.iteration


def test_what_the_page_does_reaches_the_widget(tsne):
    c = tsne.to_panel()
    shown(c)
    c._process_events({"w_selected": [5, 6, 7]})        # what Panel does with a lasso
    assert tsne.selected == [5, 6, 7]
    c._handle_msg({"method": "custom", "content": {"type": "command", "action": "run"}})
    assert tsne.running
    c._handle_msg({"method": "custom", "content": {"type": "command", "action": "stop"}})
    tsne.wait(30)
    assert tsne.status == "stopped" and c.w_status == "stopped"


def test_a_value_the_widget_refuses_is_put_back_in_the_page(tsne, caplog):
    c = tsne.to_panel()
    model, _ = shown(c)
    tsne.selected = [1]
    c._process_events({"w_selected": ["not", "rows"]})
    assert tsne.selected == [1] and c.w_selected == [1] and model.data.w_selected == [1]


def test_malformed_page_messages_are_ignored(tsne, caplog):
    c = tsne.to_panel()
    shown(c)
    with caplog.at_level(logging.WARNING, logger="vae_widgets"):
        c._handle_msg("junk")
        c._handle_msg({"method": "custom", "content": "junk"})
    assert "malformed" in caplog.text
    assert tsne.status == "idle"


def test_bad_input_gets_a_clear_message(tsne):
    with pytest.raises(TypeError, match="to_panel.. shows a vae_widgets widget"):
        panel_host.panel_view(object())
    with pytest.raises(TypeError, match="close_with_session must be True or False"):
        tsne.to_panel(close_with_session="yes")
    with pytest.raises(ValueError):
        tsne.to_panel(sizing_mode="sideways")          # Panel's own check of its params
    v = VAEWidget(X, image_shape=(8, 8), latent_dim=2, batch_size=32)
    try:
        with pytest.raises(TypeError, match="shows a TSNEWidget, got VAEWidget"):
            type(tsne.to_panel())(v)
    finally:
        v.close()
    with pytest.raises(RuntimeError, match="rebuild it: cd js && npm run build"):
        panel_host.module_text("console.log('no default export');")
    tsne.close()
    with pytest.raises(RuntimeError, match="was closed"):
        tsne.to_panel()


def test_closing_the_component_stops_the_run(tsne):
    tsne.n_iter = 20000
    c = tsne.to_panel()
    shown(c)
    tsne.run()
    c.close()
    assert not tsne.running and tsne.comm is None
    assert tsne._front_ends == ()


def test_closing_the_widget_tells_the_page_and_lets_go(tsne):
    c = tsne.to_panel()
    _, sent = shown(c)
    tsne.close()
    assert sent[-1] == {"method": "close"}
    assert tsne._front_ends == () and not c._attached


def test_the_end_of_its_last_server_session_closes_the_widget(tsne):
    c = tsne.to_panel()
    c._sessions.update(["a page", "another page"])      # what _get_model does in a session
    panel_host._session_ended(c, "a page")(None)       # Bokeh calls it (session_context)
    assert tsne.comm is not None                        # another page still shows it
    panel_host._session_ended(c, "another page")(None)
    assert tsne.comm is None and tsne._closed_by == ""
    keep = TSNEWidget(X, perplexity=10).to_panel(close_with_session=False)
    keep._sessions.add("a page")
    panel_host._session_ended(keep, "a page")(None)
    assert keep.widget.comm is not None
    keep.close()


def test_pn_panel_of_a_widget_is_the_component_one_class_per_widget_class(tsne):
    c = pn.panel(tsne)
    assert isinstance(c, panel_host.WidgetPanel) and c.widget is tsne
    assert type(pn.Column(tsne)[0]) is type(c) is type(tsne.to_panel())
    v = VAEWidget(X, image_shape=(8, 8), latent_dim=2, batch_size=32)
    try:
        cv = v.to_panel()
        assert type(cv).__name__ == "VAEWidgetPanel" and "w_metrics" in cv.param
        model, _ = shown(cv)
        assert model.data.w_latent_dim == 2
    finally:
        v.close()

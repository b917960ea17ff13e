"""The widgets in Panel, natively and offline: ``w.to_panel()`` (and ``pn.panel(w)``).

``pn.pane.IPyWidget`` shows a widget through ``ipywidgets_bokeh``, which loads
anywidget's front end from a CDN while the page runs: offline there is no view. Here a
widget becomes a ``panel.custom.AnyWidgetComponent`` that runs the widget's own bundle
(``static/tsne.js``, ``vae.js``, ...; the same file Jupyter runs) inside Panel's page,
and mirrors the widget:

- **State**: every synced trait ``x`` is a parameter ``w_x`` of the component, holding
  the trait's wire form (what ipywidgets would send; binary buffers as ``bytes``). The
  Bokeh document holds the current state, so a page that opens or reloads mid-run shows
  it at once. The mirror is fed by the widget's own sends (``BundledWidget._send``): one
  tap, after ipywidgets' own batching and echo suppression.
- **Messages**: the widget's custom messages (frames, metric rows, image grids) travel
  as Panel's ESM events ``{"method": "custom", "content", "buffers"}``; ``bytes`` go as
  binary websocket frames, never JSON. The page's messages (commands, acks, hello) come
  back through Panel's ``send_msg``.
- **Changes made in the page** (a lasso sets ``selected``) reach the widget as a message
  from Jupyter would: ``set_state``, validated by the trait.

Panel's own anywidget shim (1.9) has no ``model.send``, hands ``msg:custom`` callbacks
one argument (no buffers) and only inside ``render``; so the bundle is handed a model of
ours instead (``_SHIM``, appended to the bundle's text): ``get``/``set``/``on``/``off``/
``send`` over the component's data model and events, as anywidget's model has them.

When the last Panel server session showing a component ends, the widget is closed
(its run stopped, its thread ended): a served page's widget is made per session
(``close_with_session=False`` keeps it). ``component.close()`` closes it at once.
"""
from __future__ import annotations

import hashlib
import re
import threading
import weakref
from typing import Any

try:
    import param
    from panel.custom import AnyWidgetComponent
except ImportError as exc:   # to_panel() imports this module: say what to install
    raise ImportError(
        "to_panel() needs Panel >= 1.5 (panel.custom.AnyWidgetComponent): "
        "pip install 'vae_widgets[hosts]' (or pip install 'panel>=1.5')") from exc

#: the prefix of the component's parameters that mirror the widget's traits
PREFIX = "w_"
_CLASSES: dict = {}
_CLASSES_LOCK = threading.Lock()
#: ipywidgets' and anywidget's own traits: nothing of the view's
_HOST_TRAITS = {"_esm", "_css", "_anywidget_id", "_dom_classes", "_model_module",
                "_model_module_version", "_model_name", "_view_count", "_view_module",
                "_view_module_version", "_view_name", "layout", "tabbable", "tooltip"}
#: the end of an esbuild ESM bundle: its default export
_EXPORT = re.compile(r"export\s*\{\s*([\w$]+)\s+as\s+default\s*\}\s*;?\s*\Z")

_SHIM = r"""
// ---- vae_widgets: the bundle in Panel (vae_widgets/widgets/panel_host.py) ----
// Panel's AnyWidgetComponent hands render() an adapter without send(), and msg:custom
// without buffers; the bundle gets this model instead, one per Panel (Bokeh) model:
// traits are the data model's "w_<name>" properties, messages Panel's ESM events.
const __vwPrefix = "w_";
const __vwHosts = new WeakMap();
const __vwMounted = new WeakMap();

function __vwPlain(value) {
  if (value instanceof ArrayBuffer) return new DataView(value);
  if (value instanceof DataView) return value;
  if (ArrayBuffer.isView(value)) return new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof Map) {
    const out = {};
    for (const [k, v] of value) out[k] = __vwPlain(v);
    return out;
  }
  if (Array.isArray(value)) {
    let out = null;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v !== null && typeof v === "object") {
        const p = __vwPlain(v);
        if (p !== v) { out = out || value.slice(); out[i] = p; }
      }
    }
    return out || value;
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    let out = null;
    for (const k of Object.keys(value)) {
      const v = value[k];
      if (v !== null && typeof v === "object") {
        const p = __vwPlain(v);
        if (p !== v) { out = out || { ...value }; out[k] = p; }
      }
    }
    return out || value;
  }
  return value;
}

function __vwHost(bk) {
  let host = __vwHosts.get(bk);
  if (host) return host;
  const data = bk.data;
  const listeners = new Map();
  const watched = new Set();
  const cache = new Map();
  const views = [];
  const pending = [];
  const has = (p) => data != null && data.properties != null && p in data.properties;
  const emit = (event, args) => {
    for (const cb of [...(listeners.get(event) || [])]) {
      try {
        cb(...args);
      } catch (err) {
        console.error(`vae_widgets (Panel): a '${event}' handler failed`, err);
      }
    }
  };
  const get = (name) => {
    const p = __vwPrefix + name;
    if (!has(p)) return undefined;
    const raw = data[p];
    const hit = cache.get(p);
    if (hit && hit.raw === raw) return hit.value;
    const value = __vwPlain(raw);
    cache.set(p, { raw, value });
    return value;
  };
  const deliver = (msg) => {
    const view = views[views.length - 1];
    if (view) view.model_proxy.send_msg(msg);
    else if (pending.length < 256) pending.push(msg);
  };
  const model = {
    get,
    set(name, value) {
      const p = __vwPrefix + name;
      if (has(p)) data.setv({ [p]: value });
      else console.warn(`vae_widgets (Panel): the widget has no trait '${name}'`);
    },
    save_changes() {},
    on(event, cb) {
      if (event.startsWith("change:")) {
        const name = event.slice("change:".length);
        const p = __vwPrefix + name;
        if (has(p) && !watched.has(p)) {
          watched.add(p);
          data.property(p).change.connect(() => emit(event, [model, get(name)]));
        }
      } else if (event !== "msg:custom") {
        console.warn(`vae_widgets (Panel): event '${event}' is not supported`);
      }
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(cb);
    },
    off(event, cb) {
      if (event == null) return listeners.clear();
      const set = listeners.get(event);
      if (!set) return;
      if (cb == null) set.clear();
      else set.delete(cb);
    },
    send(content) {
      deliver({ method: "custom", content });
    },
  };
  host = {
    model,
    inner: null,
    addView(view) {
      if (!views.includes(view)) views.push(view);
      while (pending.length) view.model_proxy.send_msg(pending.shift());
    },
    removeView(view) {
      const i = views.indexOf(view);
      if (i >= 0) views.splice(i, 1);
    },
  };
  bk.on_event("esm_event", (event) => {
    const msg = event.data || {};
    if (msg.method === "custom") {
      emit("msg:custom", [__vwPlain(msg.content), (msg.buffers || []).map(__vwPlain)]);
    } else if (msg.method === "close") {
      for (const view of [...views]) {
        const done = __vwMounted.get(view);
        if (done) done();
        view.container.replaceChildren();
      }
    }
  });
  __vwHosts.set(bk, host);
  return host;
}

function __vwStart(bk) {
  const host = __vwHost(bk);
  if (!host.inner) {
    host.inner = __vwFactory();
    if (host.inner.initialize) host.inner.initialize({ model: host.model });
  }
  return host;
}

export default {
  initialize({ model }) {
    __vwStart(model.model);
  },
  render({ model, el, view }) {
    const host = __vwStart(model.model);
    const previous = __vwMounted.get(view);
    if (previous) previous();
    host.addView(view);
    let dispose = host.inner.render({ model: host.model, el });
    const done = () => {
      if (__vwMounted.get(view) === done) __vwMounted.delete(view);
      host.removeView(view);
      const d = dispose;
      dispose = null;
      if (typeof d === "function") d();
    };
    __vwMounted.set(view, done);
    return done;
  },
};
"""


def module_text(esm: str) -> str:
    """The bundle's text as Panel runs it: its default export (the widget factory)
    handed to ``_SHIM``, which exports what Panel calls."""
    m = _EXPORT.search(esm.rstrip())
    if m is None:
        raise RuntimeError(
            "the widget's bundle does not end with esbuild's `export { ... as default }`; "
            "rebuild it: cd js && npm run build")
    return f"{esm[:m.start()]}\nconst __vwFactory = {m.group(1)};\n{_SHIM}"


def mirrored_traits(widget_cls) -> tuple:
    """The synced traits of ``widget_cls`` that its view reads (not ipywidgets' own)."""
    return tuple(sorted(n for n in widget_cls.class_trait_names(sync=True)
                        if n not in _HOST_TRAITS))


def _to_bokeh(value):
    """A trait's wire form as Bokeh serialises it (bytes travel as binary buffers)."""
    if isinstance(value, (memoryview, bytearray)):
        return bytes(value)
    if isinstance(value, dict):
        return {k: _to_bokeh(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_bokeh(v) for v in value]
    return value


def _with_buffers(state: dict, paths, buffers) -> dict:
    """ipywidgets' ``_put_buffers`` on a copy (the comm's message is left as it was)."""
    state = dict(state)
    for path, buf in zip(paths or [], buffers or []):
        obj = state
        for key in path[:-1]:
            obj[key] = obj[key].copy()      # dict or list: copied along the path
            obj = obj[key]
        obj[path[-1]] = buf
    return state


def _component_class(widget_cls):
    """One AnyWidgetComponent class per widget class: its traits, its bundle."""
    with _CLASSES_LOCK:
        cls = _CLASSES.get(widget_cls)
        if cls is not None:
            return cls
        esm = module_text(widget_cls.__dict__["_esm"])
        body = {
            PREFIX + name: param.Parameter(default=None, doc=f"the widget's {name!r} trait")
            for name in mirrored_traits(widget_cls)
        }
        body.update(
            __module__=__name__,
            __doc__=f"A {widget_cls.__name__} in Panel (see vae_widgets.widgets.panel_host).",
            _esm=esm,
            _stylesheets=[css] if isinstance(css := widget_cls.__dict__.get("_css"), str) else [],
            _widget_class=widget_cls,
            _module_key="vae_widgets-" + hashlib.sha256(esm.encode()).hexdigest()[:16],
        )
        cls = type(f"{widget_cls.__name__}Panel", (WidgetPanel,), body)
        _CLASSES[widget_cls] = cls
        return cls


class WidgetPanel(AnyWidgetComponent):
    """A vae_widgets widget shown by Panel with the widget's own bundle (no CDN).

    Made by ``widget.to_panel(**params)``; ``params`` are Panel's layout parameters
    (``sizing_mode``, ``width``, ``height``, ``margin``, ...). The component mirrors
    the widget (``widget`` attribute) both ways while any page shows it.
    """

    __abstract = True
    _widget_class: Any = None
    _module_key = ""

    def __init__(self, widget, *, close_with_session: bool = True, **params):
        if not isinstance(widget, self._widget_class):
            raise TypeError(f"{type(self).__name__} shows a {self._widget_class.__name__}, "
                            f"got {type(widget).__name__}; use widget.to_panel()")
        if not isinstance(close_with_session, bool):
            raise TypeError(f"close_with_session must be True or False, got "
                            f"{close_with_session!r}")
        widget._check_open()
        params.setdefault("sizing_mode", "stretch_width")
        super().__init__(**params)
        self.widget = widget
        self.close_with_session = close_with_session
        self._names = [PREFIX + n for n in mirrored_traits(self._widget_class)]
        self._lock = threading.RLock()
        self._local = threading.local()
        self._attached = False
        self._sessions: set = set()
        self.param.watch(self._from_page, self._names)

    # ------------------------------------------------ Panel's hooks
    def _get_properties(self, doc):
        props = super()._get_properties(doc)
        # a key: Panel then runs `esm` as it is (no TypeScript pass over the bundle)
        props["bundle"] = self._module_key
        return props

    def _get_model(self, doc, root=None, parent=None, comm=None):
        self._attach()
        model = super()._get_model(doc, root, parent, comm)
        ref = (root or model).ref["id"]
        if comm is None and doc is not None and doc.session_context is not None:
            self._sessions.add(ref)
            doc.on_session_destroyed(_session_ended(self, ref))
        return model

    def _cleanup(self, root=None):
        super()._cleanup(root)
        if root is not None:
            self._sessions.discard(root.ref["id"])
        if not self._models:
            self._detach()

    def _handle_msg(self, data):
        """A message from the page (Panel's ``send_msg``): the widget's own."""
        if isinstance(data, dict) and data.get("method") == "custom":
            self.widget._from_front_end({"method": "custom",
                                         "content": data.get("content")})

    # ------------------------------------------------ the mirror
    def _attach(self):
        with self._lock:
            if self._attached:
                return
            self.widget._check_open()
            self._attached = True
            self.widget._add_front_end(self._from_widget)
            state = self.widget._front_end_state()
            with param.discard_events(self):      # no page shows it yet
                self.param.update({PREFIX + k: _to_bokeh(v) for k, v in state.items()
                                   if PREFIX + k in self.param})

    def _detach(self):
        with self._lock:
            if self._attached:
                self._attached = False
                self.widget._remove_front_end(self._from_widget)

    def _from_widget(self, msg: dict, buffers=None):
        """What the widget sends to its front ends (the ipywidgets protocol)."""
        method = msg.get("method")
        if method in ("update", "echo_update"):
            if method == "echo_update" and getattr(self._local, "from_page", False):
                return                                 # our own change, echoed
            state = _with_buffers(msg.get("state") or {}, msg.get("buffer_paths"), buffers)
            values = {PREFIX + k: _to_bokeh(v) for k, v in state.items()
                      if PREFIX + k in self.param}
            self._mirror(values)
        elif method == "custom":
            self._send_msg({"method": "custom", "content": _to_bokeh(msg.get("content")),
                            "buffers": [bytes(b) for b in buffers or []]})
        elif method == "close":
            self._send_msg({"method": "close"})
            self._detach()

    def _from_page(self, *events):
        if getattr(self._local, "from_widget", False):
            return
        state = {e.name[len(PREFIX):]: e.new for e in events}
        self._local.from_page = True
        try:
            self.widget._from_front_end({"method": "update", "state": state,
                                         "buffer_paths": []})
        finally:
            self._local.from_page = False
        # a value the widget refused (logged) or changed: the page shows the widget's
        now = {PREFIX + k: _to_bokeh(v) for k, v in self.widget.get_state(list(state)).items()}
        differ = {k: v for k, v in now.items() if v != getattr(self, k)}
        self._mirror(differ)

    def _mirror(self, values: dict):
        """Set parameters to the widget's values (not handed back to the widget)."""
        if not values:
            return
        with self._lock:
            self._local.from_widget = True
            try:
                self.param.update(values)
            finally:
                self._local.from_widget = False

    # ------------------------------------------------ the end
    def close(self):
        """Close the widget (its run stopped, its thread ended); every page showing
        this component loses the view."""
        self._detach()
        self.widget.close()

    def _session_gone(self, ref):
        self._sessions.discard(ref)
        others = [r for r in self._models if r != ref and r not in self._sessions]
        if self.close_with_session and not self._sessions and not others:
            self._detach()
            self.widget.close()


def _session_ended(component, ref):
    """A Bokeh session-destroyed callback that does not keep the component alive."""
    target = weakref.ref(component)

    def ended(_session_context):
        c = target()
        if c is not None:
            c._session_gone(ref)
    return ended


def widget_class(widget):
    """The class that holds the bundle's text (anywidget gives each instance a subclass
    of its own, where ``_esm`` is a trait)."""
    for cls in type(widget).__mro__:
        if isinstance(cls.__dict__.get("_esm"), str) and hasattr(cls, "_add_front_end"):
            return cls
    raise TypeError(f"to_panel() shows a vae_widgets widget (TSNEWidget, VAEWidget, "
                    f"...), got {type(widget).__name__}")


def panel_view(widget, **params):
    """``widget`` as a Panel component (see the module's docstring)."""
    return _component_class(widget_class(widget))(widget, **params)

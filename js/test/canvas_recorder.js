// Test helper (not a test): jsdom has no 2-D canvas, so the VAE panel tests
// install a context that records what a panel draws (calls, with the fill
// style, font and alignment in force) and give boxes a width. The pixels
// themselves are checked in the real-browser tests (tests/browser/).

/** Record every call on a 2-D context; state properties are plain fields. */
export function recordingContext(canvas) {
  const calls = [];
  const state = {
    canvas,
    calls,
    font: "10px sans-serif",
    fillStyle: "#000",
    strokeStyle: "#000",
    textAlign: "start",
    textBaseline: "alphabetic",
    globalAlpha: 1,
    lineWidth: 1,
    lineJoin: "miter",
    imageSmoothingEnabled: true,
    /** the texts drawn, with the style in force */
    get texts() {
      return calls.filter((c) => c.op === "fillText").map((c) => c.text);
    },
    ops(name) {
      return calls.filter((c) => c.op === name);
    },
    reset() {
      calls.length = 0;
    },
  };
  const special = {
    measureText: (text) => ({ width: String(text).length * 6 }),
    fillText: (text, x, y) => calls.push({ op: "fillText", text: String(text), x, y, fillStyle: state.fillStyle, textAlign: state.textAlign, font: state.font }),
    createLinearGradient: (...args) => {
      const stops = [];
      calls.push({ op: "createLinearGradient", args, stops });
      return { addColorStop: (o, c) => stops.push([o, c]) };
    },
    getImageData: (x, y, w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
  };
  return new Proxy(state, {
    get(target, prop) {
      if (prop in special) return special[prop];
      if (prop in target) return target[prop];
      return (...args) => calls.push({ op: String(prop), args, fillStyle: target.fillStyle, strokeStyle: target.strokeStyle, globalAlpha: target.globalAlpha });
    },
    set(target, prop, value) {
      target[prop] = value;
      return true;
    },
  });
}

class FakePath2D {
  constructor() {
    this.calls = [];
    return new Proxy(this, {
      get: (t, p) => (p in t ? t[p] : (...args) => t.calls.push([p, args])),
    });
  }
}

/**
 * Install the recording canvas (and ImageData, Path2D, matchMedia where jsdom
 * lacks them). Each canvas keeps one context: `canvas.getContext("2d").calls`.
 */
export function installCanvas() {
  const proto = globalThis.HTMLCanvasElement.prototype;
  proto.getContext = function getContext(kind) {
    if (kind !== "2d") return null;
    if (!this.__ctx) this.__ctx = recordingContext(this);
    return this.__ctx;
  };
  if (typeof globalThis.ImageData === "undefined") {
    globalThis.ImageData = class ImageData {
      constructor(data, width, height) {
        this.data = data;
        this.width = width;
        this.height = height;
      }
    };
  }
  if (typeof globalThis.Path2D === "undefined") globalThis.Path2D = FakePath2D;
  if (typeof window.matchMedia !== "function") {
    window.matchMedia = () => ({ matches: false, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} });
  }
}

/** Give `el` a layout width (jsdom has none): clientWidth / offsetWidth return `w`. */
export function setWidth(el, w) {
  Object.defineProperty(el, "clientWidth", { configurable: true, get: () => w });
  Object.defineProperty(el, "offsetWidth", { configurable: true, get: () => w });
}

/** A pointer move at (x, y) CSS px of `canvas` (its box placed at the page origin). */
export function hover(canvas, x, y) {
  canvas.getBoundingClientRect = () => ({ left: 0, top: 0, right: 0, bottom: 0, width: 0, height: 0, x: 0, y: 0 });
  canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: x, clientY: y, bubbles: true }));
}

/**
 * Build a panel in a fresh host in the document: `make(host)` -> panel; the
 * theme set and its `box` given `width` px (0: none, as before layout).
 * -> {host, p, ctx: the 2-D context of p.canvas}
 */
export function mountPanel(make, { width = 400, theme = LIGHT } = {}) {
  const host = document.createElement("div");
  document.body.append(host);
  const p = make(host);
  p.setTheme(theme);
  if (width) setWidth(p.box, width);
  return { host, p, ctx: p.canvas.getContext("2d") };
}

export const LIGHT = { dark: false, font: "sans-serif", axis: "#757575", grid: "#e9e9e9", text: "#212121", css: { bg1: "#ffffff" } };
export const DARK = { dark: true, font: "sans-serif", axis: "#aaaaaa", grid: "#333333", text: "#e6e6e6", css: { bg1: "#111111" } };

// Installed on import, so that modules imported after this one (uPlot reads
// matchMedia when it loads) find them: import this helper first.
if (typeof document !== "undefined") installCanvas();

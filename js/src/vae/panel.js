// What the VAE view's panels share: the panel frame (title row, caption,
// body), a small base class (host element, theme, show / hide, teardown) and
// the canvas helpers they draw with.
//
// A panel is a class built as `new XPanel(host, options)`: it appends its
// element to `host`, draws from plain data in `update(...)` (returning false
// when its box has no width yet, so the view retries), takes theme changes in
// `setTheme(theme)` (returning true when it must be redrawn) and removes
// itself in `destroy()`. Panels never read the widget model: the view (view.js)
// reads the traits and hands each panel its data.

import { h } from "../common/dom.js";

/** The frame of one panel: div.vw-panel.<cls> with a head (title, spacer, extras), a caption and the body. */
export function panelFrame(cls, title, caption, headExtras, ...body) {
  return h(
    `div.vw-panel.${cls}`,
    {},
    h("div.vw-panel-head", {}, h("span.vw-panel-title", {}, title), h("span.vw-spacer"), ...headExtras),
    h("div.vw-caption", {}, caption),
    ...body,
  );
}

export class Panel {
  constructor() {
    this.el = null;
    this.theme = null;
  }

  /** Set the panel's element and append it to `host` (the subclass constructor calls this once it is built). */
  mount(host, el) {
    this.el = el;
    if (host) host.append(el);
    return el;
  }

  /** Hidden panels take no room (e.g. a kind of data this model does not produce). */
  get hidden() {
    return this.el.hidden;
  }

  set hidden(on) {
    this.el.hidden = !!on;
  }

  /** Store the theme; true: the panel draws on a canvas and must be redrawn. */
  setTheme(theme) {
    this.theme = theme;
    return true;
  }

  destroy() {
    this.el.remove();
  }
}

/** Size a canvas for CSS size w x h at the device pixel ratio; returns its cleared 2-D context (in CSS px). */
export function sizeCanvas(canvas, w, hgt) {
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const bw = Math.max(1, Math.round(w * dpr)), bh = Math.max(1, Math.round(hgt * dpr));
  if (canvas.width !== bw) canvas.width = bw;
  if (canvas.height !== bh) canvas.height = bh;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${hgt}px`;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.setTransform(bw / w, 0, 0, bh / hgt, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  return ctx;
}

/** A canvas holding an RGBA image at native resolution (for scaled drawImage). */
export function imageCanvas(data, w, hgt) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = hgt;
  const ctx = c.getContext("2d");
  if (ctx && w > 0 && hgt > 0) ctx.putImageData(new ImageData(data, w, hgt), 0, 0);
  return c;
}

/** `text` cut with "…" to fit `maxW` px in the context's current font. */
export function ellipsize(ctx, text, maxW) {
  if (ctx.measureText(text).width <= maxW) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(`${t}…`).width > maxW) t = t.slice(0, -1);
  return `${t}…`;
}

/** Epoch for labels: whole epochs as integers, fractions with one decimal. */
export const fmtEpoch = (e) => (Number.isFinite(e) ? (Math.abs(e - Math.round(e)) < 0.05 ? String(Math.round(e)) : e.toFixed(1)) : "0");

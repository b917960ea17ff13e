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

export { ellipsize, imageCanvas, sizeCanvas } from "../common/canvas.js";

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

/** Epoch for labels: whole epochs as integers, fractions with one decimal. */
export const fmtEpoch = (e) => (Number.isFinite(e) ? (Math.abs(e - Math.round(e)) < 0.05 ? String(Math.round(e)) : e.toFixed(1)) : "0");

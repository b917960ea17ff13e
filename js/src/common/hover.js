// What the hover shows about point i: the hover columns' text and a thumbnail.
// Small tables travel with the widget (traits tooltip_data, thumbnails); beyond
// the kernel's size budget (tooltip_fetch / thumbnails_fetch) the view asks for
// the hovered row ({type: "rows", view, req, indices}) and keeps the answers in
// a bounded cache. One request is in flight at a time; while it is, only the
// newest wanted point is remembered (latest wins), so a fast sweep of the mouse
// over a million points sends a handful of requests, not thousands.

import { toUint8 } from "./buffers.js";
import { ROWS } from "./schema.js";
import { decodeThumbnail } from "./thumbnails.js";

/** A map that keeps the `max` most recently used entries. */
export class LRU {
  constructor(max = 256) {
    this.max = max;
    this.map = new Map();
  }

  get size() {
    return this.map.size;
  }

  get(key) {
    if (!this.map.has(key)) return undefined;
    const v = this.map.get(key);
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key, value) {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value);
  }

  clear() {
    this.map.clear();
  }
}

/** Rows [[column, text | null]] of point i from shipped tooltip data, or null. */
export function shippedRows(data, i) {
  const cols = data?.columns, vals = data?.values;
  if (!Array.isArray(cols) || !Array.isArray(vals) || vals.length !== cols.length) return null;
  return cols.map((c, j) => [c, vals[j]?.[i] ?? null]);
}

export class HoverText {
  /**
   * @param view  a ViewBase (model, viewId, onReply, on)
   * @param onReady(i)  called when the answer for point i arrived (redraw the tooltip)
   */
  constructor(view, { onReady, cacheSize = 512 } = {}) {
    this.view = view;
    this.model = view.model;
    this.onReady = onReady;
    this.cache = new LRU(cacheSize);
    this.req = 0;
    this.inFlight = null; // {req, index}
    this.wanted = null;
    this.requests = 0;
    view.onReply((msg, buffers) => this._answer(msg, buffers));
    view.on(["tooltip_data", "tooltip_fetch", "thumbnails_fetch", "color"], () => this.cache.clear());
  }

  /** {rows, image, pending} for point i (asks the kernel when it must). */
  get(i) {
    const m = this.model;
    const fetchText = Boolean(m.get("tooltip_fetch"));
    const fetchThumb = Boolean(m.get("thumbnails_fetch"));
    const shape = m.get("image_shape") || [];
    let rows = fetchText ? null : shippedRows(m.get("tooltip_data"), i) || [];
    let image = fetchThumb ? null : decodeThumbnail(toUint8(m.get("thumbnails")), shape, i);
    let pending = false;
    if (fetchText || fetchThumb) {
      const hit = this.cache.get(i);
      if (hit) {
        if (fetchText) rows = hit.rows;
        if (fetchThumb) image = hit.image;
      } else {
        pending = true;
        this._ask(i);
      }
    }
    return { rows: rows || [], image, pending };
  }

  _ask(i) {
    if (this.inFlight) {
      if (this.inFlight.index !== i) this.wanted = i;
      return;
    }
    this.inFlight = { req: ++this.req, index: i };
    this.requests++;
    this.model.send({ type: ROWS, view: this.view.viewId, req: this.req, indices: [i] });
  }

  _answer(msg, buffers) {
    if (msg.type !== ROWS) return;
    if (this.inFlight && msg.req === this.inFlight.req) this.inFlight = null;
    const idx = msg.indices || [];
    const pixels = msg.thumbnails ? toUint8(buffers?.[0]) : null;
    idx.forEach((i, k) => {
      const rows = (msg.columns || []).map((c, j) => [c, msg.values?.[j]?.[k] ?? null]);
      const image = pixels ? decodeThumbnail(pixels, msg.thumbnails, k) : null;
      // copy the pixels out of the message buffer (the cache outlives it)
      this.cache.set(i, { rows, image: image && { ...image, data: new Uint8ClampedArray(image.data) } });
    });
    if (this.wanted !== null && !this.inFlight) {
      const next = this.wanted;
      this.wanted = null;
      if (!this.cache.get(next)) this._ask(next);
    }
    for (const i of idx) this.onReady?.(i);
  }
}

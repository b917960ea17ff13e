// The hover tooltip of a scatter: a thumbnail, a title ("#12"), a label line
// and the rows of the hover columns (name: value). Every text is set as text,
// never as HTML, so whatever a table holds is shown literally. Long values
// wrap and are clipped by CSS (.vw-tooltip-value); missing values read
// "missing"; rows still on their way from the kernel read "…".

import { h, setText } from "./dom.js";
import { thumbnailScale } from "./thumbnails.js";

export class Tooltip {
  constructor(container, { thumbSize = 72 } = {}) {
    this.thumbSize = thumbSize;
    this.thumb = h("canvas.vw-tooltip-thumb", { hidden: true });
    this.titleEl = h("div.vw-tooltip-title");
    this.labelEl = h("div.vw-tooltip-label");
    this.rowsEl = h("div.vw-tooltip-rows");
    this.el = h("div.vw-tooltip", { hidden: true }, this.thumb, h("div.vw-tooltip-text", {}, this.titleEl, this.labelEl, this.rowsEl));
    container.append(this.el);
  }

  get visible() {
    return !this.el.hidden;
  }

  /**
   * Show content next to p = [x, y] (CSS px inside a W x H container), kept inside it.
   * content: {title, label, rows: [[name, text | null]], image: {width, height, data} | null, pending}
   */
  show(p, W, H, { title = "", label = "", rows = [], image = null, pending = false } = {}) {
    setText(this.titleEl, title);
    setText(this.labelEl, label);
    this.labelEl.hidden = !label;
    this.rowsEl.replaceChildren(
      ...rows.map(([name, value]) =>
        h(
          "div.vw-tooltip-row",
          {},
          h("span.vw-tooltip-key", {}, `${name}:`),
          value === null || value === undefined
            ? h("span.vw-tooltip-value.vw-missing", {}, "missing")
            : h("span.vw-tooltip-value", {}, String(value)),
        ),
      ),
      ...(pending ? [h("div.vw-tooltip-pending", {}, "…")] : []),
    );
    this.thumb.hidden = !this._drawImage(image);
    this.el.hidden = false;
    const tw = this.el.offsetWidth, th = this.el.offsetHeight;
    let x = p[0] + 14, y = p[1] + 14;
    if (x + tw > W - 4) x = p[0] - 14 - tw;
    if (y + th > H - 4) y = p[1] - 14 - th;
    this.el.style.left = `${Math.max(4, x)}px`;
    this.el.style.top = `${Math.max(4, y)}px`;
  }

  hide() {
    this.el.hidden = true;
  }

  _drawImage(img) {
    if (!img) return false;
    const c = this.thumb;
    c.width = img.width;
    c.height = img.height;
    const scale = thumbnailScale(img.width, img.height, this.thumbSize);
    c.style.width = `${img.width * scale}px`;
    c.style.height = `${img.height * scale}px`;
    const ctx = c.getContext("2d");
    if (!ctx) return false;
    ctx.putImageData(new ImageData(img.data, img.width, img.height), 0, 0);
    return true;
  }
}

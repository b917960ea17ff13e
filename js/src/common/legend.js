// Legend (categorical swatches) and colour bar (continuous, viridis).

import { h, setText } from "./dom.js";
import { fmtInt, fmtNum } from "./format.js";
import { viridisGradient } from "./colors.js";

export class Legend {
  /** @param {(code: number) => void} onPick  called when an entry is clicked */
  constructor({ onPick } = {}) {
    this.onPick = onPick;
    this.titleEl = h("div.vw-legend-title");
    this.itemsEl = h("div.vw-legend-items", { attrs: { role: "list" } });
    this.el = h("div.vw-legend", { hidden: true }, this.titleEl, this.itemsEl);
    this.barTitle = h("div.vw-legend-title");
    this.ramp = h("div.vw-colorbar-ramp", { style: { background: viridisGradient() } });
    this.minEl = h("span.vw-colorbar-min");
    this.maxEl = h("span.vw-colorbar-max");
    this.nanEl = h("div.vw-colorbar-nan", { hidden: true }, h("span.vw-swatch"), h("span", {}, "missing (NaN)"));
    this.bar = h(
      "div.vw-colorbar", { hidden: true },
      this.barTitle, this.ramp, h("div.vw-colorbar-labels", {}, this.minEl, this.maxEl), this.nanEl,
    );
    this.key = "";
  }

  /** Show the legend for an encodeColors() result. */
  update(enc, names, title) {
    const key = JSON.stringify([enc.kind, enc.palette, enc.counts, enc.min, enc.max, names, title]);
    if (key === this.key) return;
    this.key = key;
    this.el.hidden = enc.kind !== "categorical";
    this.bar.hidden = enc.kind !== "continuous";
    if (enc.kind === "categorical") {
      setText(this.titleEl, title || "label");
      this.itemsEl.replaceChildren();
      for (let c = 0; c < enc.k; c++) this.itemsEl.append(this._item(c, names?.[c] ?? String(c), enc.palette[c], enc.counts[c]));
      if (enc.hasUnknown) this.itemsEl.append(this._item(enc.unknownCode, "missing", enc.palette[enc.unknownCode], enc.counts[enc.unknownCode]));
    } else if (enc.kind === "continuous") {
      setText(this.barTitle, title || "value");
      setText(this.minEl, fmtNum(enc.min));
      setText(this.maxEl, fmtNum(enc.max));
      this.nanEl.hidden = !enc.hasUnknown;
      this.nanEl.firstChild.style.background = enc.palette[enc.unknownCode];
    }
  }

  _item(code, name, color, count) {
    const item = h(
      "button.vw-legend-item",
      { type: "button", title: `Select all points labelled “${name}”`, dataset: { code: String(code) }, attrs: { role: "listitem" } },
      h("span.vw-swatch", { style: { background: color } }),
      h("span.vw-legend-name", {}, name),
      h("span.vw-legend-count", {}, fmtInt(count ?? 0)),
    );
    item.addEventListener("click", () => this.onPick?.(code));
    return item;
  }

  /** Mark entries whose category is fully selected. */
  markActive(codes) {
    for (const item of this.itemsEl.children) item.classList.toggle("vw-active", codes.has(Number(item.dataset.code)));
  }
}

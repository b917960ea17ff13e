// Legend (categorical swatches with counts) and colour bar (continuous, viridis).
//
// A legend entry is a button: click it to emphasise that category (the others
// fade; shift/ctrl/cmd+click adds or removes one), its eye button hides or
// shows the category. With categories emphasised, the title row offers
// "select" (those points become the selection) and "show all".

import { h, icon, setText } from "./dom.js";
import { fmtInt, fmtNum } from "./format.js";
import { viridisGradient } from "./colors.js";

const EYE = "M12 5C6.5 5 2.7 9.1 1.5 12c1.2 2.9 5 7 10.5 7s9.3-4.1 10.5-7C21.3 9.1 17.5 5 12 5zm0 11.5A4.5 4.5 0 1 1 12 7.5a4.5 4.5 0 0 1 0 9zm0-7a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z";

export class Legend {
  /**
   * @param {object} o
   *   onPick(code, event): an entry was clicked; onHide(code): its eye was clicked;
   *   onSelect(): "select" was clicked; onReset(): "show all" was clicked.
   */
  constructor({ onPick, onHide, onSelect, onReset } = {}) {
    this.onPick = onPick;
    this.onHide = onHide;
    this.titleEl = h("div.vw-legend-title");
    this.selectBtn = h("button.vw-legend-action.vw-legend-select", { type: "button", hidden: true, title: "Select the points of the emphasised categories" }, "select");
    this.resetBtn = h("button.vw-legend-action.vw-legend-reset", { type: "button", hidden: true, title: "Show every category again" }, "show all");
    this.selectBtn.addEventListener("click", () => onSelect?.());
    this.resetBtn.addEventListener("click", () => onReset?.());
    this.itemsEl = h("div.vw-legend-items", { attrs: { role: "list" } });
    this.noteEl = h("div.vw-legend-note", { hidden: true });
    this.el = h(
      "div.vw-legend", { hidden: true },
      this.titleEl, h("div.vw-legend-actions", {}, this.selectBtn, this.resetBtn),
      this.itemsEl, this.noteEl,
    );
    this.barTitle = h("div.vw-legend-title");
    this.ramp = h("div.vw-colorbar-ramp", { style: { background: viridisGradient() } });
    this.minEl = h("span.vw-colorbar-min");
    this.midEl = h("span.vw-colorbar-mid");
    this.maxEl = h("span.vw-colorbar-max");
    this.nanEl = h("div.vw-colorbar-nan", { hidden: true }, h("span.vw-swatch"), h("span.vw-colorbar-nan-text", {}, "missing (NaN)"));
    this.clipEl = h("div.vw-colorbar-clip", { hidden: true });
    this.bar = h(
      "div.vw-colorbar", { hidden: true },
      this.barTitle, this.ramp, h("div.vw-colorbar-labels", {}, this.minEl, this.midEl, this.maxEl), this.nanEl, this.clipEl,
    );
    this.key = "";
  }

  /**
   * Show the legend for an encodeColors() result. `info` is the kernel's
   * color_info: lo_text / mid_text / hi_text, below / above (points beyond the
   * colour range), missing, other.
   */
  update(enc, names, title, info = {}) {
    const key = JSON.stringify([enc.kind, enc.palette, enc.counts, enc.min, enc.max, names, title, info]);
    if (key === this.key) return;
    this.key = key;
    this.el.hidden = enc.kind !== "categorical";
    this.bar.hidden = enc.kind !== "continuous";
    if (enc.kind === "categorical") {
      setText(this.titleEl, title || "label");
      this.itemsEl.replaceChildren();
      for (let c = 0; c < enc.k; c++) this.itemsEl.append(this._item(c, names?.[c] ?? String(c), enc.palette[c], enc.counts[c], c === enc.other));
      if (enc.hasUnknown) this.itemsEl.append(this._item(enc.unknownCode, "missing", enc.palette[enc.unknownCode], enc.counts[enc.unknownCode], true));
      this.noteEl.hidden = !(enc.other >= 0);
      setText(this.noteEl, enc.other >= 0 ? "the most frequent categories have a colour of their own; the rest share “other”" : "");
    } else if (enc.kind === "continuous") {
      setText(this.barTitle, title || "value");
      const lo = info.lo_text || fmtNum(enc.min), hi = info.hi_text || fmtNum(enc.max);
      setText(this.minEl, info.below > 0 ? `≤ ${lo}` : lo);
      setText(this.maxEl, info.above > 0 ? `≥ ${hi}` : hi);
      setText(this.midEl, info.mid_text || "");
      this.nanEl.hidden = !enc.hasUnknown;
      this.nanEl.firstChild.style.background = enc.palette[enc.unknownCode];
      setText(this.nanEl.lastChild, info.missing ? `missing: ${fmtInt(info.missing)}` : "missing (NaN)");
      const clipped = (info.below || 0) + (info.above || 0);
      this.clipEl.hidden = !clipped;
      setText(this.clipEl, clipped ? `colours span the 1st–99th percentile; ${fmtInt(clipped)} points beyond take the end colours` : "");
    }
  }

  _item(code, name, color, count, muted = false) {
    const eye = h("button.vw-legend-eye", { type: "button", title: `Hide or show “${name}”`, attrs: { "aria-label": `hide ${name}` } }, icon(EYE, "vw-icon"));
    const item = h(
      "div.vw-legend-item.vw-chip",
      { title: `Emphasise “${name}” (shift+click: add to the emphasis)`, dataset: { code: String(code) }, attrs: { role: "listitem", tabindex: "0" } },
      h("span.vw-swatch", { style: { background: color } }),
      h(`span.vw-legend-name${muted ? ".vw-muted" : ""}`, {}, name),
      h("span.vw-legend-count", {}, fmtInt(count ?? 0)),
      eye,
    );
    item.addEventListener("click", (e) => {
      if (e.target.closest(".vw-legend-eye")) return;
      this.onPick?.(code, e);
    });
    item.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        this.onPick?.(code, e);
      }
    });
    eye.addEventListener("click", (e) => {
      e.stopPropagation();
      this.onHide?.(code);
    });
    return item;
  }

  /** Mark entries: `active` fully selected, `emphasized` and `hidden` (Sets of codes). */
  markActive(active, emphasized = new Set(), hidden = new Set()) {
    for (const item of this.itemsEl.children) {
      const c = Number(item.dataset.code);
      item.classList.toggle("vw-active", active.has(c));
      item.classList.toggle("vw-emphasized", emphasized.has(c));
      item.classList.toggle("vw-faded", emphasized.size > 0 && !emphasized.has(c));
      item.classList.toggle("vw-hidden-category", hidden.has(c));
    }
    this.selectBtn.hidden = emphasized.size === 0;
    this.resetBtn.hidden = emphasized.size === 0 && hidden.size === 0;
  }
}

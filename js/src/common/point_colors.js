// The colours of the points, from the kernel's colour traits (color_kind,
// color_values, color_names, color_title, color_info) and the legend state
// (emphasized, hidden: category names, synced both ways). Owns the legend and
// colour bar; both point views (t-SNE, sweep) use one of these.
//
//   const colors = new PointColors(view, { onSelect: (indices) => ... });
//   const { codes, palette, filter } = colors.compute(n, theme);   // then draw

import { toFloat32 } from "./buffers.js";
import { emphasize, encodeColors, visibleIndices } from "./colors.js";
import { fmtNum } from "./format.js";
import { Legend } from "./legend.js";

export const COLOR_TRAITS = ["color_kind", "color_values", "color_names", "color_title", "color_info", "emphasized", "hidden"];

/** Category names -> codes (names index; "missing" -> the unknown code). */
export function codesOf(names, allNames, unknownCode) {
  const out = new Set();
  for (const name of names || []) {
    const i = allNames.indexOf(name);
    if (i >= 0) out.add(i);
    else if (name === "missing" && unknownCode >= 0) out.add(unknownCode);
  }
  return out;
}

/**
 * The emphasis after a legend click on `name`: a plain click emphasises that
 * category alone (or clears the emphasis when it was the only one); with
 * `add` (shift / ctrl / cmd) it is added to or removed from the emphasis.
 */
export function nextEmphasis(current, name, add) {
  const cur = current || [];
  if (add) return cur.includes(name) ? cur.filter((c) => c !== name) : [...cur, name];
  return cur.length === 1 && cur[0] === name ? [] : [name];
}

export class PointColors {
  /** @param view  a ViewBase (model, save); o.onSelect(indices): select these points */
  constructor(view, { onSelect } = {}) {
    this.view = view;
    this.model = view.model;
    this.onSelect = onSelect;
    this.enc = null;
    this.emphasized = new Set();
    this.hidden = new Set();
    this.legend = new Legend({
      onPick: (code, e) => this.pick(code, e),
      onHide: (code) => this.toggleHidden(code),
      onSelect: () => this.onSelect?.(this.indicesOf(this.emphasized)),
      onReset: () => {
        this.view.save("emphasized", []);
        this.view.save("hidden", []);
      },
    });
  }

  names() {
    return this.model.get("color_names") || [];
  }

  nameOf(code) {
    if (!this.enc) return "";
    return code === this.enc.unknownCode ? "missing" : this.names()[code] ?? String(code);
  }

  /** Encode n points for `theme`: {codes, palette (emphasis applied), filter (indices or null)}. */
  compute(n, theme) {
    const m = this.model;
    const info = m.get("color_info") || {};
    const names = this.names();
    this.enc = encodeColors({
      kind: m.get("color_kind") || "none",
      values: toFloat32(m.get("color_values")),
      n,
      names,
      base: theme.point,
      unknown: theme.unknown,
      lo: Number(info.lo),
      hi: Number(info.hi),
      other: Number.isInteger(info.other) ? info.other : -1,
      otherColor: theme.other || theme.unknown,
    });
    const categorical = this.enc.kind === "categorical";
    this.emphasized = categorical ? codesOf(m.get("emphasized"), names, this.enc.unknownCode) : new Set();
    this.hidden = categorical ? codesOf(m.get("hidden"), names, this.enc.unknownCode) : new Set();
    this.legend.update(this.enc, names, m.get("color_title"), info);
    this.palette = emphasize(this.enc.palette, this.emphasized, theme.bg);
    this.filter = visibleIndices(this.enc.codes, this.hidden);
    return { codes: this.enc.codes, palette: this.palette, filter: this.filter, kind: this.enc.kind };
  }

  /** Is point i drawn (its category not hidden)? */
  visible(i) {
    return !this.hidden.size || !this.enc || !this.hidden.has(this.enc.codes[i]);
  }

  pick(code, e) {
    const name = this.nameOf(code);
    const add = Boolean(e && (e.shiftKey || e.ctrlKey || e.metaKey));
    this.view.save("emphasized", nextEmphasis(this.model.get("emphasized"), name, add));
  }

  toggleHidden(code) {
    const name = this.nameOf(code);
    const cur = this.model.get("hidden") || [];
    this.view.save("hidden", cur.includes(name) ? cur.filter((c) => c !== name) : [...cur, name]);
  }

  /** Indices of the points whose code is in `codes` (a Set). */
  indicesOf(codes) {
    const out = [];
    const c = this.enc?.codes;
    if (!c || !codes.size) return out;
    for (let i = 0; i < c.length; i++) if (codes.has(c[i])) out.push(i);
    return out;
  }

  /** Legend marks: categories fully selected, emphasised, hidden. */
  mark(selected) {
    if (!this.enc || this.enc.kind !== "categorical") return;
    const active = new Set();
    if (selected.length) {
      const codes = this.enc.codes;
      const counts = new Map();
      for (const i of selected) if (i < codes.length) counts.set(codes[i], (counts.get(codes[i]) || 0) + 1);
      for (const [c, k] of counts) if (k === this.enc.counts[c] && k === selected.length) active.add(c);
    }
    this.legend.markActive(active, this.emphasized, this.hidden);
  }

  /** "title: value" of point i from the colours alone (when no hover text is at hand). */
  labelOf(i) {
    const enc = this.enc;
    if (!enc || enc.kind === "none") return "";
    const title = this.model.get("color_title") || (enc.kind === "categorical" ? "label" : "value");
    if (enc.kind === "categorical") return `${title}: ${this.nameOf(enc.codes[i])}`;
    return `${title}: ${fmtNum(toFloat32(this.model.get("color_values"))[i], 4)}`;
  }
}

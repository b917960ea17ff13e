// Pure helpers for the sweep view (unit-tested): splitting the synced
// positions of all panels, and the text of each panel's title.

import { fmtInt, fmtNum } from "../common/format.js";

/**
 * The `positions` trait (float32, panels x n x 2, flat) -> one Float32Array
 * per panel, or null for a panel that has no frame yet (the kernel fills it
 * with NaN). Views share memory with `flat` (no copy).
 */
export function splitPanels(flat, nPanels, nPoints) {
  const out = new Array(Math.max(0, nPanels)).fill(null);
  const per = 2 * nPoints;
  if (!flat || per <= 0) return out;
  for (let k = 0; k < nPanels; k++) {
    const start = k * per;
    if (start + per > flat.length) break;
    const view = flat.subarray(start, start + per);
    if (Number.isFinite(view[0]) && Number.isFinite(view[1])) out[k] = view;
  }
  return out;
}

/**
 * Title parts of one panel: {label, progress, kl, disparity} as text.
 * `panel` is an entry of the `panels` trait; `live` ({iteration}) comes from
 * the newest drawn frame of that panel and wins over the (throttled) trait.
 */
export function panelText(panel, live = null) {
  const p = panel || {};
  const it = Number.isFinite(live?.iteration) ? live.iteration : Number(p.iteration) || 0;
  const total = Number(p.total) || 0;
  const label = String(p.label ?? "");
  const progress =
    p.status === "idle" ? "waiting" : total > 0 ? `iteration ${fmtInt(it)} / ${fmtInt(total)}` : `iteration ${fmtInt(it)}`;
  const done = p.status === "done" || p.status === "stopped";
  const kl = Number.isFinite(p.kl) ? `${done ? "final KL" : "KL"} ${fmtNum(p.kl, 4)}` : "";
  const disparity = p.reference ? "reference" : Number.isFinite(p.disparity) ? `disparity ${fmtNum(p.disparity, 2)}` : "";
  return { label, progress, kl, disparity };
}

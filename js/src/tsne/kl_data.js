// KL chart data from the `kl_history` and `marks` traits (unit-tested).

import { cleanMarks, columns, phaseBands } from "../common/chart_data.js";

/**
 * history: {"iteration": [...], "kl": [...], "phase": [...]}
 * marks:   [{"iteration": int, "label": str}]
 * -> {x, y (null = gap), bands: [{x0, x1}] of the early-exaggeration phase,
 *     marks: [{x, label}], last: {iteration, kl} | null}
 */
export function buildKLData(history, marks) {
  const h = history && typeof history === "object" ? history : {};
  const it = Array.isArray(h.iteration) ? h.iteration : [];
  const kl = Array.isArray(h.kl) ? h.kl : [];
  const ph = Array.isArray(h.phase) ? h.phase : [];
  const { x, y, order } = columns(it, kl);
  const phases = order.map((i) => ph[i]);
  const bands = phaseBands(x, phases, "early_exaggeration");
  let last = null;
  for (let i = y.length - 1; i >= 0; i--) {
    if (y[i] !== null) {
      last = { iteration: x[i], kl: y[i] };
      break;
    }
  }
  return { x, y, bands, marks: cleanMarks(marks, "iteration"), last };
}

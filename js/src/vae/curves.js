// Loss-curve data on a step axis (unit-tested): train -ELBO, reconstruction and
// KL per metric row, plus validation -ELBO per finished epoch placed at the
// step where that epoch ended: its own step when the kernel sends one (an epoch
// a user's loop cut short ends early), else mapped through the metric rows'
// epoch column.

import { cleanMarks } from "../common/chart_data.js";

/** Series colours for a theme (readTheme()), shared by the loss curves and the rate-distortion plot. */
export const CURVE_COLORS = {
  elbo: (t) => (t.dark ? "#7fb2e5" : "#1f5fa8"),
  recon: () => "#f28e2b",
  kl: (t) => (t.dark ? "#6fcf68" : "#3b8f34"),
  val: (t) => (t.dark ? "#d9a2cf" : "#9a4f8f"),
};

/** Step at which `epoch` was reached: linear interpolation over (epoch, step) rows; extrapolated past the ends. */
export function epochToStep(epochs, steps, epoch) {
  const n = Math.min(epochs.length, steps.length);
  const pts = [];
  for (let i = 0; i < n; i++) if (Number.isFinite(epochs[i]) && Number.isFinite(steps[i])) pts.push([epochs[i], steps[i]]);
  if (!pts.length || !Number.isFinite(epoch)) return NaN;
  const perEpoch = () => {
    const [e, s] = pts[pts.length - 1];
    return e > 0 ? s / e : NaN;
  };
  if (epoch <= pts[0][0]) {
    const r = perEpoch();
    return Number.isFinite(r) ? Math.max(0, pts[0][1] - (pts[0][0] - epoch) * r) : pts[0][1];
  }
  for (let i = 1; i < pts.length; i++) {
    const [e0, s0] = pts[i - 1], [e1, s1] = pts[i];
    if (epoch <= e1) return e1 > e0 ? s0 + ((epoch - e0) / (e1 - e0)) * (s1 - s0) : s1;
  }
  const [e, s] = pts[pts.length - 1];
  const r = perEpoch();
  return Number.isFinite(r) ? s + (epoch - e) * r : s;
}

const fin = (v) => (v === null || v === undefined ? null : Number.isFinite(Number(v)) ? Number(v) : null);

/**
 * store.cols (step, epoch, elbo, recon, kl), epoch_metrics {epoch, val_elbo, ...}, marks [{step, label}]
 * -> {x, series: [elbo, recon, kl, valElbo] (null = no value at that x), marks, hasVal,
 *     last: {step, elbo, recon, kl} | null}
 * x merges the metric steps and the validation steps (sorted, unique).
 */
export function buildCurves(cols, epochMetrics, marks, { logY = false } = {}) {
  const c = cols || {};
  const steps = c.step || [];
  const n = steps.length;
  const em = epochMetrics && typeof epochMetrics === "object" ? epochMetrics : {};
  const ve = Array.isArray(em.epoch) ? em.epoch : [];
  const vv = Array.isArray(em.val_elbo) ? em.val_elbo : [];
  const valPts = [];
  for (let i = 0; i < Math.min(ve.length, vv.length); i++) {
    const v = fin(vv[i]);
    const own = Array.isArray(em.step) ? Number(em.step[i]) : NaN;
    const s = Number.isFinite(own) ? own : epochToStep(c.epoch || [], steps, Number(ve[i]));
    if (v !== null && Number.isFinite(s)) valPts.push([Math.round(s), v]);
  }
  valPts.sort((a, b) => a[0] - b[0]);
  const pos = (v) => (v === null || (logY && !(v > 0)) ? null : v);
  const x = [], elbo = [], recon = [], kl = [], val = [];
  let i = 0, j = 0;
  while (i < n || j < valPts.length) {
    const si = i < n ? Number(steps[i]) : Infinity;
    const sj = j < valPts.length ? valPts[j][0] : Infinity;
    if (!Number.isFinite(si) && i < n) {
      i++;
      continue;
    }
    const s = Math.min(si, sj);
    x.push(s);
    if (si === s) {
      elbo.push(pos(fin(c.elbo?.[i])));
      recon.push(pos(fin(c.recon?.[i])));
      kl.push(pos(fin(c.kl?.[i])));
      i++;
    } else {
      elbo.push(null);
      recon.push(null);
      kl.push(null);
    }
    if (sj === s) {
      val.push(pos(valPts[j][1]));
      j++;
      while (j < valPts.length && valPts[j][0] === s) j++; // one value per x
    } else val.push(null);
  }
  let last = null;
  for (let k = n - 1; k >= 0; k--) {
    if (Number.isFinite(Number(steps[k])) && fin(c.elbo?.[k]) !== null) {
      last = { step: Number(steps[k]), elbo: fin(c.elbo[k]), recon: fin(c.recon?.[k]), kl: fin(c.kl?.[k]) };
      break;
    }
  }
  return { x, series: [elbo, recon, kl, val], marks: cleanMarks(marks, "step"), hasVal: valPts.length > 0, last };
}

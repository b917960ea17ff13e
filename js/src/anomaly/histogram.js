// Score histogram and threshold geometry (unit-tested, no DOM).
//
// The kernel decides what is flagged (score > threshold); these functions only
// bin the scores for drawing, map between score and pixel, and count what lies
// above a threshold so the read-out can follow a drag before the kernel answers.

/**
 * Bin `scores` (Float32Array) into `nBins` equal-width bins over [min, max].
 * With `truth` (Uint8Array, 1 = anomaly, same length) the counts are split.
 * -> {lo, hi, width, nBins, normal: Uint32Array, anomalous: Uint32Array | null,
 *     total: Uint32Array, maxCount, n}
 */
export function binScores(scores, nBins = 50, truth = null) {
  const bins = Math.max(1, Math.floor(nBins) || 1);
  let lo = Infinity, hi = -Infinity, n = 0;
  for (const v of scores) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    n++;
  }
  if (!n) return { lo: 0, hi: 1, width: 1 / bins, nBins: bins, normal: new Uint32Array(bins), anomalous: null, total: new Uint32Array(bins), maxCount: 0, n: 0 };
  if (hi <= lo) {
    const pad = Math.abs(lo) * 0.05 || 0.5;
    lo -= pad;
    hi += pad;
  }
  const width = (hi - lo) / bins;
  const split = truth && truth.length === scores.length;
  const normal = new Uint32Array(bins);
  const anomalous = split ? new Uint32Array(bins) : null;
  const total = new Uint32Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    if (split && truth[i]) anomalous[b]++;
    else normal[b]++;
    total[b]++;
  }
  let maxCount = 0;
  for (const c of total) if (c > maxCount) maxCount = c;
  return { lo, hi, width, nBins: bins, normal, anomalous, total, maxCount, n };
}

/** Scores strictly above `threshold` (the kernel's rule), and the true anomalies among them. */
export function countAbove(scores, threshold, truth = null) {
  let flagged = 0, hits = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] > threshold) {
      flagged++;
      if (truth && truth[i]) hits++;
    }
  }
  return { flagged, hits };
}

/** Linear score <-> pixel map over a plot area [x0, x1] showing [lo, hi]. */
export function scoreScale(lo, hi, x0, x1) {
  const span = hi - lo || 1;
  const px = x1 - x0 || 1;
  return {
    toX: (v) => x0 + ((v - lo) / span) * px,
    toValue: (x) => lo + ((x - x0) / px) * span,
  };
}

/** Bar height in pixels for `count` under a linear or log(1 + count) axis of `maxCount`. */
export function barHeight(count, maxCount, plotH, log = false) {
  if (!(count > 0) || !(maxCount > 0)) return 0;
  const f = log ? Math.log1p(count) / Math.log1p(maxCount) : count / maxCount;
  return Math.max(1, f * plotH);
}

/** Clamp a dragged threshold into the histogram's range (a little past both ends). */
export function clampThreshold(v, lo, hi) {
  const pad = (hi - lo) * 0.01;
  return Math.min(hi + pad, Math.max(lo - pad, v));
}

/** Threshold keyboard step: one bin width, or ten with Shift. */
export function keyStep(width, big = false) {
  return (big ? 10 : 1) * width;
}

// axis ticks: the same nice steps as the VAE view
export { niceTicks } from "../vae/rd.js";

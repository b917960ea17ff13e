// Rate-distortion trajectory (unit-tested): x = KL (rate), y = reconstruction
// (distortion), one point per metric row in time order; validation per epoch.

/**
 * -> {x, y, steps (train, time order, finite pairs only), sx, sy (smoothed, `window` rows),
 *     last: {x, y, step} | null,
 *     val: {x, y, epoch}, bounds: {x0, x1, y0, y1} | null (padded 6 %)}
 */
export function rdData(store, epochMetrics) {
  const s = store?.cols || { kl: [], recon: [], step: [] };
  const x = [], y = [], steps = [];
  const n = Math.min(s.kl.length, s.recon.length);
  for (let i = 0; i < n; i++) {
    const a = Number(s.kl[i]), b = Number(s.recon[i]);
    if (Number.isFinite(a) && Number.isFinite(b)) {
      x.push(a);
      y.push(b);
      steps.push(Number(s.step[i]));
    }
  }
  const em = epochMetrics && typeof epochMetrics === "object" ? epochMetrics : {};
  const val = { x: [], y: [], epoch: [] };
  const vk = em.val_kl || [], vr = em.val_recon || [], ve = em.epoch || [];
  for (let i = 0; i < Math.min(vk.length, vr.length); i++) {
    const a = vk[i] === null ? NaN : Number(vk[i]);
    const b = vr[i] === null ? NaN : Number(vr[i]);
    if (Number.isFinite(a) && Number.isFinite(b)) {
      val.x.push(a);
      val.y.push(b);
      val.epoch.push(Number(ve[i]));
    }
  }
  const last = x.length ? { x: x[x.length - 1], y: y[y.length - 1], step: steps[steps.length - 1] } : null;
  // per-row values are noisy (one mini-batch window each): a trailing mean of
  // about 2 % of the rows shows the path; the raw points stay behind it, faint
  const window = Math.max(1, Math.round(x.length / 50));
  const sx = smooth(x, window), sy = smooth(y, window);
  const all = { x: x.concat(val.x), y: y.concat(val.y) };
  let bounds = null;
  if (all.x.length) {
    let x0 = Math.min(0, ...all.x), x1 = Math.max(...all.x);
    let y0 = Math.min(...all.y), y1 = Math.max(...all.y);
    const px = (x1 - x0) * 0.06 || 0.5, py = (y1 - y0) * 0.06 || Math.abs(y0) * 0.05 || 0.5;
    bounds = { x0: x0 === 0 ? 0 : x0 - px, x1: x1 + px, y0: y0 - py, y1: y1 + py };
  }
  return { x, y, sx, sy, window, steps, last, val, bounds };
}

/** "Nice" tick values (1, 2, 5 x 10^k) covering [lo, hi] with about n ticks. */
export function niceTicks(lo, hi, n = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // the nice step closest to the raw one (in ratio)
  let step = mag;
  for (const f of [1, 2, 2.5, 5, 10]) if (Math.abs(Math.log((f * mag) / raw)) < Math.abs(Math.log(step / raw))) step = f * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Trailing mean over `w` values (the first values average what exists so far). */
export function smooth(values, w) {
  if (w <= 1) return values.slice();
  const out = new Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= w) sum -= values[i - w];
    out[i] = sum / Math.min(i + 1, w);
  }
  return out;
}

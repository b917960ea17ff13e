// The metric history one VAE widget holds in the browser (unit-tested).
//
// The `metrics` trait (decimated column lists) plus the `kl_per_dim` trait
// (float32 rows x latent_dim, aligned with metrics.step) are the base; live
// rows arrive in {type: "metrics", rows} messages in between and are appended
// when their step is newer than the last one held. When the trait changes,
// the columns are replaced by it and the live rows newer than its last step
// are kept (a message can overtake the trait snapshot it belongs after).

import { toFloat32 } from "../common/buffers.js";

export const METRIC_KEYS = ["step", "epoch", "elbo", "recon", "kl", "active_units", "beta", "lr", "grad_norm"];

const num = (v) => (v === null || v === undefined || v === "" ? NaN : Number(v));

const emptyColumns = () => Object.fromEntries(METRIC_KEYS.map((k) => [k, []]));

export class MetricsStore {
  constructor() {
    this.cols = emptyColumns();
    /** per row: Float32Array(latent_dim) of KL per dimension, or null */
    this.kl = [];
    /** rows appended from messages since the last replace (row objects) */
    this.live = [];
    this.latentDim = 0;
    /** bumps on every change: views redraw when it moved */
    this.version = 0;
  }

  get length() {
    return this.cols.step.length;
  }

  get lastStep() {
    const s = this.cols.step;
    return s.length ? s[s.length - 1] : -Infinity;
  }

  /** Replace with the `metrics` dict and `kl_per_dim` bytes (rows x latentDim float32). */
  replace(metrics, klBytes, latentDim) {
    const m = metrics && typeof metrics === "object" ? metrics : {};
    const steps = Array.isArray(m.step) ? m.step : [];
    const n = steps.length;
    const cols = emptyColumns();
    for (const k of METRIC_KEYS) {
      const src = Array.isArray(m[k]) ? m[k] : [];
      const dst = cols[k];
      for (let i = 0; i < n; i++) dst.push(i < src.length ? num(src[i]) : NaN);
    }
    const flat = toFloat32(klBytes);
    let d = Number(latentDim) || 0;
    if (!d && n && flat.length % n === 0) d = flat.length / n;
    const kl = new Array(n).fill(null);
    if (d > 0) {
      const rows = Math.min(n, Math.floor(flat.length / d));
      for (let i = 0; i < rows; i++) kl[i] = flat.subarray(i * d, (i + 1) * d);
    }
    const last = n ? cols.step[n - 1] : -Infinity;
    const keep = this.live.filter((r) => num(r.step) > last);
    this.cols = cols;
    this.kl = kl;
    this.live = [];
    if (d > 0) this.latentDim = d;
    this.version++;
    this.append(keep);
  }

  /** Append message rows whose step is newer than the last held; returns how many. */
  append(rows) {
    if (!Array.isArray(rows)) return 0;
    let added = 0;
    for (const r of rows) {
      if (!r || typeof r !== "object") continue;
      const step = num(r.step);
      if (!Number.isFinite(step) || step <= this.lastStep) continue;
      for (const k of METRIC_KEYS) this.cols[k].push(num(r[k]));
      const klr = Array.isArray(r.kl_per_dim) || ArrayBuffer.isView(r.kl_per_dim) ? Float32Array.from(r.kl_per_dim, num) : null;
      this.kl.push(klr);
      if (klr && klr.length) this.latentDim = klr.length;
      this.live.push(r);
      added++;
    }
    if (added) this.version++;
    return added;
  }

  /** Index of the last row with a KL-per-dimension vector, or -1. */
  lastKlIndex() {
    for (let i = this.kl.length - 1; i >= 0; i--) if (this.kl[i]) return i;
    return -1;
  }

  /** The latest value of a column (skipping NaN), or NaN. */
  latest(key) {
    const c = this.cols[key] || [];
    for (let i = c.length - 1; i >= 0; i--) if (Number.isFinite(c[i])) return c[i];
    return NaN;
  }
}

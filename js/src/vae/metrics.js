// The metric history one VAE widget holds in the browser (unit-tested).
//
// The `metrics` trait (decimated column lists) plus the `kl_per_dim` trait
// (float32 rows x latent_dim, aligned with metrics.step) are the base; live
// rows arrive in {type: "metrics", rows} messages in between and are appended
// when their step is newer than the last one held. When the trait changes
// (the kernel syncs the whole history at pauses, the end and a view's hello),
// the columns are replaced by it and the live rows newer than its last step
// are kept (a message can overtake the trait snapshot it belongs after).
// Past MAX_ROWS rows every other row is dropped (the newest kept), as the
// kernel decimates its own history: a long run keeps its shape in bounded memory.
//
// EpochStore does the same for the per-epoch rows: the `epoch_metrics` trait
// is the base, {type: "epoch", row} messages append.

import { toFloat32 } from "../common/buffers.js";

export const METRIC_KEYS = ["step", "epoch", "elbo", "recon", "kl", "active_units", "beta", "lr", "grad_norm"];
export const EPOCH_KEYS = ["epoch", "step", "train_elbo", "val_elbo", "train_recon", "val_recon", "train_kl", "val_kl", "active_units"];
/** rows held before every other one is dropped */
export const MAX_ROWS = 4000;

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
    if (this.length > MAX_ROWS) this._halve();
    // (only rows newer than a trait snapshot matter: the latest ones)
    if (this.live.length > 2 * MAX_ROWS) this.live = this.live.slice(-MAX_ROWS);
    return added;
  }

  /** Keep every other row (and always the newest): the history keeps its shape. */
  _halve() {
    const n = this.length;
    const keep = (i) => i % 2 === 0 || i === n - 1;
    for (const k of METRIC_KEYS) this.cols[k] = this.cols[k].filter((_, i) => keep(i));
    this.kl = this.kl.filter((_, i) => keep(i));
    this.version++;
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

/** The per-epoch rows: the `epoch_metrics` trait (column lists) + {type: "epoch", row} messages. */
export class EpochStore {
  constructor() {
    this.cols = Object.fromEntries(EPOCH_KEYS.map((k) => [k, []]));
    this.version = 0;
  }

  get length() {
    return this.cols.epoch.length;
  }

  /** Replace with the trait's columns; rows of later epochs that arrived first are kept. */
  replace(trait) {
    const m = trait && typeof trait === "object" ? trait : {};
    const epochs = Array.isArray(m.epoch) ? m.epoch : [];
    const last = epochs.length ? num(epochs[epochs.length - 1]) : -Infinity;
    const later = [];
    for (let i = 0; i < this.length; i++) {
      if (this.cols.epoch[i] > last) later.push(Object.fromEntries(EPOCH_KEYS.map((k) => [k, this.cols[k][i]])));
    }
    this.cols = Object.fromEntries(EPOCH_KEYS.map((k) => [k, epochs.map((_, i) => num(Array.isArray(m[k]) ? m[k][i] : NaN))]));
    for (const r of later) this.append(r);
    this.version++;
  }

  /** One finished epoch; an epoch already held is replaced, older ones are ignored. Returns true if held. */
  append(row) {
    if (!row || typeof row !== "object") return false;
    const e = num(row.epoch);
    if (!Number.isFinite(e)) return false;
    const n = this.length;
    const lastE = n ? this.cols.epoch[n - 1] : -Infinity;
    if (e < lastE) return false;
    for (const k of EPOCH_KEYS) {
      const v = num(row[k]);
      if (e === lastE) this.cols[k][n - 1] = v;
      else this.cols[k].push(v);
    }
    this.version++;
    return true;
  }
}

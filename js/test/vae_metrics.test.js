import { describe, expect, it } from "vitest";
import { MetricsStore } from "../src/vae/metrics.js";

const f32bytes = (values, offset = 0) => {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  const buf = new ArrayBuffer(offset + bytes.length);
  new Uint8Array(buf, offset).set(bytes);
  return new DataView(buf, offset, bytes.length);
};
const cols = (steps) => ({
  step: steps,
  epoch: steps.map((s) => s / 10),
  elbo: steps.map((s) => 100 - s),
  recon: steps.map((s) => 90 - s),
  kl: steps.map(() => 10),
  active_units: steps.map(() => 2),
  beta: steps.map(() => 1),
  lr: steps.map(() => 1e-3),
  grad_norm: steps.map(() => 5),
});
const row = (step, kl = [1, 2]) => ({ step, epoch: step / 10, elbo: 1, recon: 0.5, kl: 0.5, active_units: 2, beta: 1, lr: 1e-3, grad_norm: 1, kl_per_dim: kl });

describe("MetricsStore", () => {
  it("replaces from the traits (kl rows from a misaligned DataView)", () => {
    const s = new MetricsStore();
    s.replace(cols([10, 20, 30]), f32bytes([1, 2, 3, 4, 5, 6], 3), 2);
    expect(s.length).toBe(3);
    expect(s.cols.elbo).toEqual([90, 80, 70]);
    expect(s.latentDim).toBe(2);
    expect(Array.from(s.kl[2])).toEqual([5, 6]);
    expect(s.lastStep).toBe(30);
  });

  it("appends newer rows, drops duplicates and older rows", () => {
    const s = new MetricsStore();
    s.replace(cols([10, 20]), f32bytes([1, 1, 2, 2]), 2);
    const v = s.version;
    expect(s.append([row(20), row(15), row(30), row(30), row(40)])).toBe(2);
    expect(s.cols.step).toEqual([10, 20, 30, 40]);
    expect(Array.from(s.kl[3])).toEqual([1, 2]);
    expect(s.version).toBeGreaterThan(v);
    expect(s.append([row(40)])).toBe(0);
  });

  it("a trait replace keeps live rows newer than its last step", () => {
    const s = new MetricsStore();
    s.replace(cols([10]), f32bytes([1, 1]), 2);
    s.append([row(20), row(30), row(40)]);
    s.replace(cols([10, 20, 30]), f32bytes([1, 1, 2, 2, 3, 3]), 2);
    expect(s.cols.step).toEqual([10, 20, 30, 40]);
    expect(s.cols.elbo.slice(0, 3)).toEqual([90, 80, 70]); // from the trait
    expect(Array.from(s.kl[1])).toEqual([2, 2]);
    expect(Array.from(s.kl[3])).toEqual([1, 2]);
    // a later replace that covers them drops them
    s.replace(cols([10, 20, 30, 40, 50]), f32bytes(new Array(10).fill(0)), 2);
    expect(s.cols.step).toEqual([10, 20, 30, 40, 50]);
    expect(s.live).toEqual([]);
  });

  it("tolerates missing columns, nulls, short KL buffers and empty traits", () => {
    const s = new MetricsStore();
    s.replace({ step: [1, 2], elbo: [3, null] }, null, 4);
    expect(s.length).toBe(2);
    expect(s.cols.elbo[1]).toBeNaN();
    expect(s.cols.kl).toEqual([NaN, NaN]);
    expect(s.kl).toEqual([null, null]);
    expect(s.lastKlIndex()).toBe(-1);
    s.replace({}, undefined, 0);
    expect(s.length).toBe(0);
    expect(s.append([null, { step: "x" }, row(5)])).toBe(1);
    expect(s.latest("elbo")).toBe(1);
    // latent_dim inferred from the buffer when the trait says 0
    s.replace(cols([10, 20]), f32bytes([1, 2, 3, 4, 5, 6]), 0);
    expect(s.latentDim).toBe(3);
  });
});

describe("bounded stores and epoch rows", () => {
  it("past MAX_ROWS every other row goes (the newest kept): memory stays bounded", async () => {
    const { MetricsStore, MAX_ROWS } = await import("../src/vae/metrics.js");
    const st = new MetricsStore();
    for (let s = 1; s <= MAX_ROWS * 3; s++) st.append([{ step: s, elbo: -s, kl_per_dim: [0.1, 0.2] }]);
    expect(st.length).toBeLessThanOrEqual(MAX_ROWS);
    expect(st.length).toBeGreaterThan(MAX_ROWS / 2);
    expect(st.lastStep).toBe(MAX_ROWS * 3);
    expect(st.cols.step[0]).toBe(1);
    expect(st.kl.length).toBe(st.length);
    expect(st.live.length).toBeLessThanOrEqual(2 * MAX_ROWS);
  });

  it("EpochStore: trait base, message rows appended, an epoch repeated is replaced", async () => {
    const { EpochStore } = await import("../src/vae/metrics.js");
    const e = new EpochStore();
    expect(e.append({ epoch: 1, step: 10, val_elbo: -40 })).toBe(true);
    expect(e.append({ epoch: 2, step: 20, val_elbo: -38 })).toBe(true);
    expect(e.append({ epoch: 1, step: 10, val_elbo: -99 })).toBe(false);   // older: ignored
    expect(e.append({ epoch: 2, step: 20, val_elbo: -37 })).toBe(true);    // same: replaced
    expect(e.cols.val_elbo).toEqual([-40, -37]);
    // the full state arrives (a pause): it is the base; a later message row survives
    e.append({ epoch: 3, step: 30, val_elbo: -35 });
    e.replace({ epoch: [1, 2], step: [10, 20], val_elbo: [-40, -37], train_elbo: [-41, -38] });
    expect(e.cols.epoch).toEqual([1, 2, 3]);
    expect(e.cols.train_elbo.slice(0, 2)).toEqual([-41, -38]);
    expect(e.cols.val_elbo).toEqual([-40, -37, -35]);
  });
});

import { describe, expect, it } from "vitest";
import { MetricsStore } from "../src/vae/metrics.js";
import { buildCurves, epochToStep } from "../src/vae/curves.js";
import { niceTicks, rdData } from "../src/vae/rd.js";

const s = new MetricsStore();
s.replace(
  { step: [10, 20, 30, 40], epoch: [0.5, 1, 1.5, 2], elbo: [50, 40, 35, 30], recon: [45, 34, 28, 22], kl: [5, 6, 7, 8] },
  null,
  0,
);

describe("loss curves", () => {
  it("maps epochs to steps (interpolated, extrapolated)", () => {
    const e = s.cols.epoch, st = s.cols.step;
    expect(epochToStep(e, st, 1)).toBe(20);
    expect(epochToStep(e, st, 1.25)).toBe(25);
    expect(epochToStep(e, st, 3)).toBe(60);
    expect(epochToStep(e, st, 0)).toBe(0);
    expect(epochToStep([], [], 1)).toBeNaN();
  });

  it("merges validation points into the step axis", () => {
    const d = buildCurves(s.cols, { epoch: [1, 2, 3], val_elbo: [41, 33, null] }, [{ step: 20, label: "beta 4" }]);
    expect(d.x).toEqual([10, 20, 30, 40]);
    expect(d.series[0]).toEqual([50, 40, 35, 30]);
    expect(d.series[3]).toEqual([null, 41, null, 33]);
    expect(d.hasVal).toBe(true);
    expect(d.marks).toEqual([{ x: 20, label: "beta 4" }]);
    expect(d.last).toEqual({ step: 40, elbo: 30, recon: 22, kl: 8 });
    const half = buildCurves(s.cols, { epoch: [1.25], val_elbo: [39] }, []);
    expect(half.x).toEqual([10, 20, 25, 30, 40]);
    expect(half.series[0][2]).toBe(null);
    expect(half.series[3][2]).toBe(39);
  });

  it("an epoch row's own step places its validation point (an epoch cut short ends early)", () => {
    // epoch 2 was stopped at step 35: mapped through the rows it would sit at step 40
    const d = buildCurves(s.cols, { epoch: [1, 2], step: [20, 35], val_elbo: [41, 36] }, []);
    expect(d.x).toEqual([10, 20, 30, 35, 40]);
    expect(d.series[3]).toEqual([null, 41, null, 36, null]);
  });

  it("no validation, empty, and log scale drops non-positive values", () => {
    const d = buildCurves(s.cols, { epoch: [1], val_elbo: [null] }, null);
    expect(d.hasVal).toBe(false);
    expect(buildCurves({}, null, null).x).toEqual([]);
    const neg = buildCurves({ step: [1, 2], elbo: [-1, 2], recon: [0, 1], kl: [1, 1] }, null, null, { logY: true });
    expect(neg.series[0]).toEqual([null, 2]);
    expect(neg.series[1]).toEqual([null, 1]);
  });
});

describe("rate-distortion", () => {
  it("trajectory in time order with the latest point and validation", () => {
    const d = rdData(s, { epoch: [1, 2], val_kl: [6, null], val_recon: [36, 25] });
    expect(d.x).toEqual([5, 6, 7, 8]);
    expect(d.y).toEqual([45, 34, 28, 22]);
    expect(d.last).toEqual({ x: 8, y: 22, step: 40 });
    expect(d.val).toEqual({ x: [6], y: [36], epoch: [1] });
    expect(d.bounds.x0).toBe(0); // rate axis starts at 0
    expect(d.bounds.x1).toBeGreaterThan(8);
    expect(d.bounds.y0).toBeLessThan(22);
    expect(d.bounds.y1).toBeGreaterThan(45);
    expect(rdData(new MetricsStore(), null)).toMatchObject({ x: [], last: null, bounds: null });
  });

  it("nice ticks", () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.13, 0.91, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});

describe("rate-distortion smoothing", () => {
  it("trailing mean", async () => {
    const { smooth } = await import("../src/vae/rd.js");
    expect(smooth([1, 2, 3, 4], 1)).toEqual([1, 2, 3, 4]);
    expect(smooth([1, 3, 5, 7], 2)).toEqual([1, 2, 4, 6]);
    const d = rdData(s, null);
    expect(d.sx.length).toBe(d.x.length);
    expect(niceTicks(10, 3300, 3)).toEqual([1000, 2000, 3000]);
  });
});

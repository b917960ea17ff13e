import { describe, expect, it } from "vitest";
import { applyFit, bounds, computeFit, ndcToScreen, pointSizeFor } from "../src/common/fit.js";

describe("pointSizeFor", () => {
  it("shrinks with the number of points", () => {
    expect(pointSizeFor(300)).toBe(5);
    expect(pointSizeFor(1797)).toBe(4);
    expect(pointSizeFor(4999)).toBe(4);
    expect(pointSizeFor(10000)).toBe(3);
    expect(pointSizeFor(70000)).toBe(2);
    expect(pointSizeFor(100000)).toBe(1.5);
    expect(pointSizeFor(2000000)).toBe(1);
    const sizes = [10, 1e3, 5e3, 2e4, 1e5, 1e6].map(pointSizeFor);
    expect([...sizes].sort((a, b) => b - a)).toEqual(sizes); // non-increasing
  });
});

describe("computeFit / applyFit", () => {
  it("fits a wide cloud into a 520x420 view without distortion", () => {
    const pos = new Float32Array([-100, -10, 100, 10, 0, 0]);
    const aspect = 520 / 420;
    const fit = computeFit(pos, aspect, 0);
    const xs = new Float32Array(3), ys = new Float32Array(3);
    applyFit(pos, fit, xs, ys);
    expect(xs[0]).toBeCloseTo(-aspect);
    expect(xs[1]).toBeCloseTo(aspect);
    expect(ys[1] / xs[1]).toBeCloseTo(10 / 100); // same scale on both axes
    const [sx, sy] = ndcToScreen(xs[1], ys[1], 520, 420);
    expect(sx).toBeCloseTo(520);
    expect(sy).toBeGreaterThan(0);
  });

  it("fits a tall cloud by its height, with padding", () => {
    const pos = new Float32Array([0, -5, 1, 5]);
    const fit = computeFit(pos, 1.2, 0.1);
    const xs = new Float32Array(2), ys = new Float32Array(2);
    applyFit(pos, fit, xs, ys);
    expect(ys[0]).toBeCloseTo(-0.9);
    expect(ys[1]).toBeCloseTo(0.9);
  });

  it("handles tiny (t-SNE initial) scales, one point, empty and non-finite input", () => {
    const tiny = new Float32Array([1e-4, 0, -1e-4, 0, 0, 2e-4]);
    const f = computeFit(tiny, 1, 0);
    expect((tiny[0] - f.cx) * f.s).toBeCloseTo(1, 3);
    expect(computeFit(new Float32Array([3, 4]), 1)).toMatchObject({ cx: 3, cy: 4 });
    expect(computeFit(new Float32Array(0), 1)).toEqual({ cx: 0, cy: 0, s: 1 });
    const withNaN = new Float32Array([NaN, 1, 0, 0, 2, 2]);
    expect(bounds(withNaN)).toMatchObject({ minX: 0, maxX: 2, count: 2 });
    const xs = new Float32Array(3), ys = new Float32Array(3);
    applyFit(withNaN, computeFit(withNaN, 1), xs, ys);
    expect(xs[0]).toBe(0);
    expect(Number.isFinite(ys[0])).toBe(true);
  });
});

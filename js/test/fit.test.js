import { describe, expect, it } from "vitest";
import { applyFit, bounds, computeFit, ndcToScreen, pointSizeFor, followFit, takeSize } from "../src/common/fit.js";

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

describe("followFit (the fit once the user has moved the camera)", () => {
  // t-SNE's layout while it runs: ~1e-4 wide at the start (openTSNE's initialisation),
  // ~50 wide after early exaggeration
  const layout = (scale, n = 400) => {
    const pos = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const a = (i / n) * 2 * Math.PI, r = ((i % 7) + 1) / 7;
      pos[2 * i] = scale * r * Math.cos(a) + scale * 0.3;
      pos[2 * i + 1] = scale * r * Math.sin(a) - scale * 0.1;
    }
    return pos;
  };
  const onScreen = (pos, fit, aspect) => {
    const n = pos.length / 2, xs = new Float32Array(n), ys = new Float32Array(n);
    applyFit(pos, fit, xs, ys);
    let k = 0;
    for (let i = 0; i < n; i++) if (Math.abs(xs[i]) <= aspect && Math.abs(ys[i]) <= 1) k++;
    return k / n;
  };

  it("keeps the fit while the map keeps its scale (the user's camera shows the same place)", () => {
    const prev = computeFit(layout(10), 1.5);
    expect(followFit(prev, layout(12), 1.5)).toBe(prev);
    expect(followFit(prev, layout(10), 1.5)).toBe(prev);
    expect(followFit(prev, layout(3), 1.5)).toBe(prev);
  });

  it("refits when the map grew far beyond the kept fit: the points stay on screen", () => {
    // the user zoomed at the first frame of early exaggeration; the map then grew 5e5-fold
    // (frames grow 10 % at a time, and 10-fold at a time)
    for (const step of [1.1, 10]) {
      let fit = computeFit(layout(1e-4), 1.5);
      for (let scale = 1e-4; scale < 60; scale *= step) {
        fit = followFit(fit, layout(scale), 1.5);
        expect(onScreen(layout(scale), fit, 1.5)).toBeGreaterThan(0.75);
      }
      expect(fit.s).toBeLessThan(computeFit(layout(1e-4), 1.5).s / 1e4);
    }
  });

  it("refits when the map shrank far below the kept fit", () => {
    const prev = computeFit(layout(50), 1);
    const next = followFit(prev, layout(1), 1);
    expect(next).not.toBe(prev);
    expect(onScreen(layout(1), next, 1)).toBe(1);
  });
});

describe("takeSize", () => {
  const renderer = (userCamera = false) => ({
    width: 400, height: 300, userCamera, positions: new Float32Array([0, 0, 10, 5]), fit: { cx: 0, cy: 0, s: 1 },
  });

  it("rounds and stores a new size and refits the map to its aspect", () => {
    const r = renderer();
    expect(takeSize(r, 600.4, 299.6)).toBe(true);
    expect([r.width, r.height]).toEqual([600, 300]);
    expect(r.fit).toEqual(computeFit(r.positions, 2));
  });

  it("ignores a size that is unchanged once rounded, or too small to draw into", () => {
    const r = renderer();
    const fit = r.fit;
    expect(takeSize(r, 400.3, 299.8)).toBe(false);
    expect(takeSize(r, 49, 300)).toBe(false);
    expect(takeSize(r, 400, 10)).toBe(false);
    expect([r.width, r.height, r.fit]).toEqual([400, 300, fit]);
  });

  it("keeps the fit when the user has moved the camera", () => {
    const r = renderer(true);
    const fit = r.fit;
    expect(takeSize(r, 800, 300)).toBe(true);
    expect(r.fit).toBe(fit);
  });
});

import { describe, expect, it } from "vitest";
import { colormapLUT, diverging, magma } from "../src/common/color_maps.js";
import { viridis } from "../src/common/colors.js";
import { MetricsStore } from "../src/vae/metrics.js";
import { dimOrder, klImage, klMatrix, robustMax } from "../src/vae/kl_map.js";

function store(rows) {
  const s = new MetricsStore();
  s.append(rows.map(([step, kl]) => ({ step, kl_per_dim: kl })));
  return s;
}

describe("colour maps", () => {
  it("ends and middles", () => {
    expect(viridis(0)[1]).toBeLessThan(5);
    const m0 = magma(0), m1 = magma(1);
    expect(Math.max(...m0)).toBeLessThan(5);
    expect(m1[0]).toBeGreaterThan(245);
    expect(m1[2]).toBeGreaterThan(180);
    expect(diverging(0.5)).toEqual([247, 247, 247]);
    expect(diverging(0)).toEqual([5, 48, 97]);
    expect(diverging(1)).toEqual([103, 0, 31]);
    const lut = colormapLUT("diverging");
    expect(lut.length).toBe(768);
    // 128 (the mean) is close to neutral
    const mid = Array.from(lut.slice(128 * 3, 128 * 3 + 3));
    expect(Math.max(...mid) - Math.min(...mid)).toBeLessThan(20);
  });
});

describe("KL heatmap", () => {
  it("bins rows into columns, carrying values over empty bins", () => {
    const s = store([[0, [0, 1]], [10, [0.5, 2]], [100, [1, 4]]]);
    const m = klMatrix(s, 4);
    expect(m.dims).toBe(2);
    expect(m.cols).toBe(3);
    expect(m.step0).toBe(0);
    expect(m.step1).toBe(100);
    // dim 1 row: step 0 and 10 share bin 0 (last wins), bin 1 empty -> carried, bin 2 = step 100
    expect(Array.from(m.values.slice(3, 6))).toEqual([2, 2, 4]);
    expect(Array.from(m.last)).toEqual([1, 4]);
  });

  it("empty and single-row stores", () => {
    expect(klMatrix(new MetricsStore()).cols).toBe(0);
    const m = klMatrix(store([[5, [1, 2, 3]]]));
    expect(m.cols).toBe(1);
    expect(Array.from(m.values)).toEqual([1, 2, 3]);
  });

  it("orders dimensions and maps nats to colours", () => {
    expect(dimOrder(new Float32Array([0.1, 3, 0.1, 2]), 4, true)).toEqual([1, 3, 0, 2]);
    expect(dimOrder(new Float32Array([0.1, 3]), 2, false)).toEqual([0, 1]);
    expect(robustMax(new Float32Array([0, 1, 2, NaN]), 1)).toBe(2);
    expect(robustMax(new Float32Array([]))).toBe(1);
    const m = { cols: 2, values: new Float32Array([0, 2, NaN, 10]) };
    const img = klImage(m, [1, 0], 2, "viridis", [9, 9, 9]);
    expect(img.length).toBe(16);
    expect(Array.from(img.slice(0, 4))).toEqual([9, 9, 9, 255]); // dim 1 first: NaN
    expect(Array.from(img.slice(4, 7))).toEqual(viridis(1)); // 10 clamps to vmax
    expect(Array.from(img.slice(8, 11))).toEqual(viridis(0));
  });
});

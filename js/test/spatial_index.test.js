// @vitest-environment jsdom
// (regl-scatterplot reads `window` when imported)
import { describe, expect, it } from "vitest";
import KDBush from "kdbush";
// the ES module esbuild bundles (the package "main" is a UMD build)
import { createSpatialIndex } from "regl-scatterplot/dist/regl-scatterplot.esm.js";
import { buildIndex } from "../src/common/kd_index.js";
import { spatialIndex, workerAvailable } from "../src/common/spatial_index.js";

function points(n, seed = 1) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const xs = new Float32Array(n), ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = rnd();
    ys[i] = rnd() * 0.5;
  }
  return { xs, ys };
}

const sorted = (a) => [...a].sort((p, q) => p - q);

describe("worker-built spatial index (kdindex.buildIndex)", () => {
  const n = 5000;
  const { xs, ys } = points(n);
  const ours = KDBush.from(buildIndex(xs, ys));

  it("finds exactly the points in a box and near a point", () => {
    const boxes = [[-0.2, -0.1, 0.3, 0.2], [-1, -1, 1, 1], [0.9, 0.4, 1, 0.5], [2, 2, 3, 3]];
    for (const [x0, y0, x1, y1] of boxes) {
      const brute = [];
      for (let i = 0; i < n; i++) if (xs[i] >= x0 && xs[i] <= x1 && ys[i] >= y0 && ys[i] <= y1) brute.push(i);
      expect(sorted(ours.range(x0, y0, x1, y1))).toEqual(brute);
    }
    const near = [];
    for (let i = 0; i < n; i++) if ((xs[i] - 0.1) ** 2 + (ys[i] + 0.05) ** 2 <= 0.02 ** 2) near.push(i);
    expect(near.length).toBeGreaterThan(0);
    expect(sorted(ours.within(0.1, -0.05, 0.02))).toEqual(near);
  });

  it("answers like the index regl-scatterplot builds itself, in the format it reads", async () => {
    const rows = Array.from(xs, (x, i) => [x, ys[i], 0, 0]);
    const theirs = KDBush.from(await createSpatialIndex(rows, false));
    expect(ours.numItems).toBe(theirs.numItems);
    // same serialised format version (high nibble of byte 1) and magic byte
    const a = new Uint8Array(ours.data, 0, 2), b = new Uint8Array(theirs.data, 0, 2);
    expect(a[0]).toBe(b[0]);
    expect(a[1] >> 4).toBe(b[1] >> 4);
    for (const [x0, y0, x1, y1] of [[-0.5, -0.25, 0, 0], [0, 0, 0.7, 0.4]]) {
      expect(sorted(ours.range(x0, y0, x1, y1))).toEqual(sorted(theirs.range(x0, y0, x1, y1)));
    }
  });
});

describe("spatialIndex() fallback", () => {
  it("resolves to null (regl-scatterplot builds the index) when no worker source is bundled", async () => {
    // vitest runs the sources unbundled: no __VW_SPATIAL_INDEX_WORKER__
    expect(workerAvailable()).toBe(false);
    const { xs, ys } = points(10);
    await expect(spatialIndex(xs, ys)).resolves.toBeNull();
  });
});

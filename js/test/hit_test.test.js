import { describe, expect, it } from "vitest";
import { buildIndex } from "../src/common/kd_index.js";
import { HitTest, dataRadius, dataToScreen as toScreen, screenToData } from "../src/common/hit_test.js";

// a camera: zoom s, pan (tx, ty), column-major 4x4 as regl-scatterplot keeps it
const camera = (s, tx, ty) => [s, 0, 0, 0, 0, s, 0, 0, 0, 0, 1, 0, tx, ty, 0, 1];

function points(n, seed = 3) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const xs = new Float32Array(n), ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = rnd();
    ys[i] = rnd() * 0.6;
  }
  return { xs, ys };
}

describe("screen <-> data under regl-scatterplot's camera", () => {
  it("dataToScreen: the centre of the view, and a pan by one view width", () => {
    expect(toScreen(camera(1, 0, 0), 600, 300, 0, 0)).toEqual([300, 150]);
    // the projection divides x by the aspect ratio: x = 2 is the right edge of a 2:1 view
    expect(toScreen(camera(1, 0, 0), 600, 300, 2, -1)).toEqual([600, 300]);
    expect(toScreen(camera(2, 0, 0), 600, 300, 1, 0.5)).toEqual([600, 0]);
  });

  it("screenToData inverts the drawing's mapping at any zoom and pan", () => {
    const W = 640, H = 400;
    for (const v of [camera(1, 0, 0), camera(3.5, -0.4, 0.7), camera(0.25, 0.1, -0.2)]) {
      for (const [x, y] of [[0, 0], [0.3, -0.2], [-0.9, 0.55]]) {
        const [px, py] = toScreen(v, W, H, x, y);
        const [bx, by] = screenToData(v, W, H, px, py);
        expect(bx).toBeCloseTo(x, 6);
        expect(by).toBeCloseTo(y, 6);
      }
    }
  });

  it("a radius in pixels shrinks in data units as the camera zooms in", () => {
    const W = 640, H = 400, v = camera(4, 0.2, 0);
    const r = dataRadius(v, H, 6);
    const [x0] = screenToData(v, W, H, 100, 100), [x1] = screenToData(v, W, H, 106, 100);
    expect(r).toBeCloseTo(x1 - x0, 9);
    expect(dataRadius(camera(1, 0, 0), H, 6)).toBeCloseTo(4 * r, 9);
  });
});

describe("HitTest: the point under the mouse from the KDBush index", () => {
  const n = 20000;
  const { xs, ys } = points(n);
  const hit = new HitTest(buildIndex(xs, ys), xs, ys);

  const brute = (x, y, r, hidden) => {
    let best = -1, bd = r * r;
    for (let i = 0; i < n; i++) {
      if (hidden?.[i]) continue;
      const d = (xs[i] - x) ** 2 + (ys[i] - y) ** 2;
      if (d < bd || (d === bd && best >= 0 && i < best)) { bd = d; best = i; }
    }
    return best;
  };

  it("returns the nearest point within the radius, as a full scan does", () => {
    for (let k = 0; k < 200; k++) {
      const x = Math.sin(k * 1.7) * 0.9, y = Math.cos(k * 2.3) * 0.5, r = 0.002 + (k % 7) * 0.003;
      expect(hit.nearest(x, y, r)).toBe(brute(x, y, r));
    }
  });

  it("finds nothing on empty space or for a point outside the radius", () => {
    expect(hit.nearest(5, 5, 0.01)).toBe(-1);
    expect(hit.nearest(NaN, 0, 0.01)).toBe(-1);
    expect(hit.nearest(xs[7], ys[7], 0)).toBe(-1);
  });

  it("never returns a hidden (filtered out) point", () => {
    const hidden = new Uint8Array(n);
    const i = hit.nearest(xs[42], ys[42], 0.01);
    expect(i).toBe(42);
    hidden[42] = 1;
    const j = hit.nearest(xs[42], ys[42], 0.05, hidden);
    expect(j).not.toBe(42);
    expect(j).toBe(brute(xs[42], ys[42], 0.05, hidden));
  });

  it("hits the point drawn under a pixel at any camera", () => {
    const W = 800, H = 500;
    for (const v of [camera(1, 0, 0), camera(6, -0.3, 0.1)]) {
      const [px, py] = toScreen(v, W, H, xs[123], ys[123]);
      expect(hit.at(v, W, H, px, py, 0.5)).toBe(123);
    }
  });
});

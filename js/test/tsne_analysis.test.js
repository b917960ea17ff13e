import { describe, expect, it } from "vitest";
import {
  composePositions, decodeTrails, driftText, extendColors, isClick, qualityText, scrubText,
} from "../src/tsne/analysis.js";

describe("composePositions", () => {
  it("appends new points after the reference and leaves the reference alone", () => {
    const ref = new Float32Array([0, 1, 2, 3]);
    const out = composePositions(ref, new Float32Array([9, 8]));
    expect(Array.from(out)).toEqual([0, 1, 2, 3, 9, 8]);
    expect(composePositions(ref, null)).toBe(ref);
    expect(Array.from(ref)).toEqual([0, 1, 2, 3]);
  });
});

describe("extendColors", () => {
  const enc = { kind: "categorical", codes: new Uint8Array([0, 1, 2]), palette: ["#a", "#b", "#c"] };
  it("keeps known categories for new points and gives the rest one neutral colour", () => {
    const x = extendColors(enc, [1, -1, 7, 0], "#999", 3);
    expect(x.palette).toEqual(["#a", "#b", "#c", "#999"]);
    expect(x.neutral).toBe(3);
    expect(Array.from(x.codes)).toEqual([0, 1, 2, 1, 3, 3, 0]);
  });
  it("continuous or no colouring: every new point is neutral", () => {
    const cont = { kind: "continuous", codes: new Uint8Array([4, 5]), palette: ["p0", "p1", "p2", "p3", "p4", "p5"] };
    const x = extendColors(cont, [1, 2], "#999", 0);
    expect(Array.from(x.codes)).toEqual([4, 5, 6, 6]);
  });
});

describe("read-outs", () => {
  it("quality: values, help and whether it was sampled", () => {
    const q = qualityText({ trustworthiness: 0.99123, knn_preservation: 0.6, k: 10, n_sampled: 2000, n_points: 70000 });
    expect(q.title).toBe("Map quality (k = 10)");
    expect(q.lines.map((l) => l[1])).toEqual(["0.991", "0.600"]);
    expect(q.sample).toBe("on a random 2,000 of 70,000 points");
    expect(qualityText({ trustworthiness: 0.9, knn_preservation: 0.5, k: 10, n_sampled: 500, n_points: 500 }).sample)
      .toBe("on all 500 points");
    expect(qualityText({})).toBeNull();
  });
  it("drift verdicts", () => {
    expect(driftText(1.02)).toBe("drift 1.02× (like the reference)");
    expect(driftText(2)).toContain("somewhat off");
    expect(driftText(12.5)).toContain("far off");
    expect(driftText(null)).toBe("");
  });
  it("scrubber text clamps the index", () => {
    expect(scrubText(0, [0, 25, 50])).toBe("frame 1 / 3 · iteration 0");
    expect(scrubText(9, [0, 25, 1500])).toBe("frame 3 / 3 · iteration 1,500");
    expect(scrubText(0, [])).toBe("no frames kept yet");
  });
});

describe("decodeTrails", () => {
  // 3 frames, 2 points: frame f, point j at (10f + j, -(10f + j))
  const data = new Float32Array(3 * 2 * 2);
  for (let f = 0; f < 3; f++) for (let j = 0; j < 2; j++) {
    data[(f * 2 + j) * 2] = 10 * f + j;
    data[(f * 2 + j) * 2 + 1] = -(10 * f + j);
  }
  it("one polyline per point over the frames", () => {
    const t = decodeTrails(data, 3, 2);
    expect(t.length).toBe(2);
    expect(Array.from(t[1])).toEqual([1, -1, 11, -11, 21, -21]);
  });
  it("stops at the replayed frame", () => {
    expect(Array.from(decodeTrails(data, 3, 2, 1)[0])).toEqual([0, -0, 10, -10]);
  });
  it("a short buffer gives no trails", () => {
    expect(decodeTrails(data.subarray(0, 4), 3, 2)).toEqual([]);
  });
});

describe("isClick", () => {
  it("press and release in place is a click; a drag, a slow press or shift is not", () => {
    const down = { x: 10, y: 10, t: 0, shift: false };
    expect(isClick(down, { x: 12, y: 11, t: 100 })).toBe(true);
    expect(isClick(down, { x: 30, y: 10, t: 100 })).toBe(false);
    expect(isClick(down, { x: 10, y: 10, t: 5000 })).toBe(false);
    expect(isClick({ ...down, shift: true }, { x: 10, y: 10, t: 10 })).toBe(false);
    expect(isClick(null, { x: 10, y: 10, t: 10 })).toBe(false);
  });
});

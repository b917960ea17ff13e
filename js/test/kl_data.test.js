import { describe, expect, it } from "vitest";
import { buildKLData } from "../src/tsne/kl_data.js";
import { cleanMarks, columns, phaseBands, stackLabels } from "../src/common/chart_data.js";

describe("buildKLData", () => {
  it("builds x/y columns, the early-exaggeration band, marks and the last value", () => {
    const hist = {
      iteration: [50, 100, 150, 200, 250, 300, 350],
      kl: [4.1, 3.2, 2.9, 2.7, 2.6, 1.4, 1.2],
      phase: ["early_exaggeration", "early_exaggeration", "early_exaggeration", "early_exaggeration",
              "early_exaggeration", "main", "main"],
    };
    const marks = [{ iteration: 300, label: "exaggeration=2" }, { iteration: 250, label: "main phase" }];
    const d = buildKLData(hist, marks);
    expect(d.x).toEqual([50, 100, 150, 200, 250, 300, 350]);
    expect(d.y).toEqual([4.1, 3.2, 2.9, 2.7, 2.6, 1.4, 1.2]);
    expect(d.bands).toEqual([{ x0: 50, x1: 300 }]); // until the phase change
    expect(d.marks).toEqual([{ x: 250, label: "main phase" }, { x: 300, label: "exaggeration=2" }]);
    expect(d.last).toEqual({ iteration: 350, kl: 1.2 });
  });

  it("still in early exaggeration: band ends at the last point", () => {
    const d = buildKLData({ iteration: [10, 20], kl: [5, 4], phase: ["early_exaggeration", "early_exaggeration"] }, []);
    expect(d.bands).toEqual([{ x0: 10, x1: 20 }]);
  });

  it("non-finite KL becomes a gap (null); unsorted input is sorted", () => {
    const d = buildKLData({ iteration: [30, 10, 20], kl: [3, 1, NaN], phase: ["main", "main", "main"] }, null);
    expect(d.x).toEqual([10, 20, 30]);
    expect(d.y).toEqual([1, null, 3]);
    expect(d.bands).toEqual([]);
    expect(d.last).toEqual({ iteration: 30, kl: 3 });
  });

  it("empty or malformed history gives empty data", () => {
    for (const h of [undefined, null, {}, { iteration: [], kl: [] }, { iteration: "x" }]) {
      const d = buildKLData(h, undefined);
      expect(d.x).toEqual([]);
      expect(d.y).toEqual([]);
      expect(d.marks).toEqual([]);
      expect(d.last).toBe(null);
    }
  });

  it("missing phase list: no bands; mismatched lengths are truncated", () => {
    const d = buildKLData({ iteration: [1, 2, 3], kl: [1, 2] }, [{ iteration: "bad", label: "x" }]);
    expect(d.x).toEqual([1, 2]);
    expect(d.bands).toEqual([]);
    expect(d.marks).toEqual([]);
  });
});

describe("chart helpers", () => {
  it("phaseBands finds several runs", () => {
    expect(phaseBands([0, 1, 2, 3, 4], ["a", "b", "b", "a", "b"], "b")).toEqual([{ x0: 1, x1: 3 }, { x0: 4, x1: 4 }]);
  });
  it("cleanMarks accepts x or iteration keys", () => {
    expect(cleanMarks([{ x: 3, label: "c" }, { iteration: 1 }])).toEqual([{ x: 1, label: "" }, { x: 3, label: "c" }]);
  });
  it("columns keeps pairs aligned", () => {
    expect(columns([2, 1], [20, 10])).toEqual({ x: [1, 2], y: [10, 20], order: [1, 0] });
  });
  it("stackLabels puts overlapping labels on new rows", () => {
    expect(stackLabels([0, 10, 100, 105], [50, 50, 20, 20], 3, 2)).toEqual([0, 1, 0, 1]);
  });
});

// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { cellCount, cellSize, decodeCell } from "../src/anomaly/gallery.js";
import { barHeight, binScores, clampThreshold, countAbove, keyStep, scoreScale } from "../src/anomaly/histogram.js";
import { AnomalyView } from "../src/anomaly/view.js";

describe("score histogram", () => {
  it("bins over [min, max], the maximum in the last bin, split by truth", () => {
    const s = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 10]);
    const truth = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    const h = binScores(s, 5, truth);
    expect(h.lo).toBe(0);
    expect(h.hi).toBe(10);
    expect(Array.from(h.total)).toEqual([2, 2, 2, 2, 2]);
    expect(Array.from(h.anomalous)).toEqual([0, 0, 0, 0, 2]);
    expect(Array.from(h.normal)).toEqual([2, 2, 2, 2, 0]);
    expect(h.maxCount).toBe(2);
    expect(h.n).toBe(10);
  });
  it("copes with equal scores, NaN and a truth of the wrong length", () => {
    const h = binScores(Float32Array.from([3, 3, NaN]), 4, Uint8Array.from([1]));
    expect(h.n).toBe(2);
    expect(h.hi).toBeGreaterThan(h.lo);
    expect(h.anomalous).toBe(null);
    expect(h.total.reduce((a, b) => a + b, 0)).toBe(2);
    expect(binScores(new Float32Array(0)).n).toBe(0);
  });
  it("counts strictly above the threshold, like the kernel", () => {
    const s = Float32Array.from([1, 2, 3, 4]);
    expect(countAbove(s, 2)).toEqual({ flagged: 2, hits: 0 });
    expect(countAbove(s, 2, Uint8Array.from([0, 1, 1, 0]))).toEqual({ flagged: 2, hits: 1 });
  });
  it("maps scores to pixels and back, bars linear or log", () => {
    const sc = scoreScale(10, 20, 50, 150);
    expect(sc.toX(15)).toBe(100);
    expect(sc.toValue(150)).toBe(20);
    expect(barHeight(5, 10, 100)).toBe(50);
    expect(barHeight(0, 10, 100)).toBe(0);
    expect(barHeight(1, 1000, 100, true)).toBeCloseTo((100 * Math.log(2)) / Math.log(1001));
    expect(barHeight(1, 1000, 100)).toBe(1); // a single sample stays visible
    expect(clampThreshold(-50, 0, 10)).toBeCloseTo(-0.1);
    expect(clampThreshold(5, 0, 10)).toBe(5);
    expect(keyStep(0.5)).toBe(0.5);
    expect(keyStep(0.5, true)).toBe(5);
  });
});

describe("gallery cells", () => {
  it("decodes grey images and feature strips", () => {
    const px = Uint8Array.from([0, 255, 10, 20, 30, 40, 50, 60, 70, 80]);
    expect(cellSize([1, 2, 2])).toBe(4);
    expect(cellSize([2, 2])).toBe(0);
    expect(cellCount(px.length, [1, 2, 2])).toBe(2);
    const c = decodeCell(px, [1, 2, 2], 1);
    expect([c.width, c.height]).toEqual([2, 2]);
    expect(Array.from(c.data.slice(0, 4))).toEqual([30, 30, 30, 255]);
    expect(decodeCell(px, [1, 2, 2], 2)).toBe(null);
    const strip = decodeCell(Uint8Array.from([128, 0, 255]), [1, 1, 3], 0, "features", "zscore");
    expect([strip.width, strip.height]).toEqual([3, 1]);
    for (const v of strip.data.slice(0, 3)) expect(Math.abs(v - 247)).toBeLessThanOrEqual(2); // 128 = the mean: neutral
    expect(strip.data[4]).toBeLessThan(strip.data[8]); // low z blue, high z red
  });
});

function fakeModel(state) {
  const handlers = {};
  const sets = [];
  return {
    sets,
    get: (k) => state[k],
    set: (k, v) => {
      state[k] = v;
      sets.push([k, v]);
    },
    save_changes() {},
    on: (ev, fn) => ((handlers[ev] ||= []).push(fn)),
    off() {},
    fire(k, v) {
      state[k] = v;
      for (const fn of handlers[`change:${k}`] || []) fn();
    },
  };
}

describe("view", () => {
  const state = () => ({
    scores: Float32Array.from([0, 1, 2, 3, 9]),
    truth: Uint8Array.from([0, 0, 0, 1, 1]),
    threshold: 2.5,
    score_name: "−ELBO",
    info: "<img src=x onerror=alert(1)> samples",
    metrics: { n: 5, n_flagged: 2, precision: 1, recall: 1, f1: 1, auroc: 1, average_precision: 1 },
    log_count: false,
    bins: 10,
    gallery_order: "highest",
    gallery: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
    gallery_recon: null,
    gallery_items: [{ index: 4, score: 9, truth: true }, { index: 3, score: 3, truth: true }],
    gallery_shape: [1, 2, 2],
    gallery_layout: "image",
    gallery_scale: "linear",
  });

  it("shows user text as text, metrics, tiles, and the local flagged count", () => {
    const el = document.createElement("div");
    const m = fakeModel(state());
    const v = new AnomalyView(m, el);
    expect(el.querySelector(".vw-info").textContent).toBe("<img src=x onerror=alert(1)> samples");
    expect(el.querySelector("img")).toBe(null);
    expect(el.querySelectorAll(".vw-an-tile").length).toBe(2);
    expect(el.querySelectorAll(".vw-an-tile.vw-an-hit").length).toBe(2);
    expect(el.querySelector("[data-metric=auroc] .vw-an-metric-value").textContent).toBe("1.000");
    expect(el.querySelector(".vw-an-flagged").textContent).toContain("2 of 5 flagged");
    // typing a threshold sets the trait
    const input = el.querySelector(".vw-an-threshold");
    input.value = "0.5";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(m.sets.at(-1)).toEqual(["threshold", 0.5]);
    m.fire("gallery_items", []);
    expect(el.querySelectorAll(".vw-an-tile").length).toBe(0);
    expect(el.querySelector(".vw-an-gallery-panel .vw-panel-empty").hidden).toBe(false);
    v.destroy();
    expect(el.children.length).toBe(0);
  });

  it("hides the metrics without labels", () => {
    const s = state();
    s.truth = null;
    s.metrics = { n: 5, n_flagged: 2 };
    const el = document.createElement("div");
    new AnomalyView(fakeModel(s), el);
    expect(el.querySelector(".vw-an-metrics").hidden).toBe(true);
    expect(el.querySelector(".vw-an-flagged").textContent).not.toContain("labelled");
  });
});

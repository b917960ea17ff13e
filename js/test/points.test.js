// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { colorOptions } from "../src/common/color_by.js";
import { TABLEAU10, emphasize, encodeColors, hexToRgb, visibleIndices } from "../src/common/colors.js";
import { HoverText, LRU, shippedRows } from "../src/common/hover.js";
import { Legend } from "../src/common/legend.js";
import { categoryAnchors, placeLabels } from "../src/common/map_labels.js";
import { PointColors, codesOf, nextEmphasis } from "../src/common/point_colors.js";
import { pickPositions } from "../src/common/scatter_panel.js";
import { matchText } from "../src/common/search.js";
import { Tooltip } from "../src/common/tooltip.js";
import { ViewBase } from "../src/common/view_base.js";
import { fakeModel } from "./fake_model.js";

const THEME = { point: "#4e79a7", unknown: "#b0b0b0", other: "#cbc3b4", bg: [255, 255, 255] };

describe("colour encodings from the kernel's traits", () => {
  it("continuous colours span the kernel's robust range; beyond it, the end colours", () => {
    const enc = encodeColors({ kind: "continuous", values: new Float32Array([-100, 0, 5, 10, 999]), n: 5, lo: 0, hi: 10 });
    expect(Array.from(enc.codes)).toEqual([0, 0, 128, 255, 255]);
    expect([enc.min, enc.max]).toEqual([0, 10]);
    // no (or a degenerate) range: the data's min and max, as before
    expect(encodeColors({ kind: "continuous", values: new Float32Array([1, 3]), n: 2, lo: 5, hi: 5 }).min).toBe(1);
  });

  it("the 'other' bucket gets a neutral colour of its own", () => {
    const enc = encodeColors({ kind: "categorical", values: new Float32Array([0, 1, 2, NaN]), n: 4, names: ["a", "b", "other (9 values)"], other: 2, otherColor: "#cbc3b4", unknown: "#777777" });
    expect(enc.palette).toEqual([TABLEAU10[0], TABLEAU10[1], "#cbc3b4", "#777777"]);
    expect(enc.other).toBe(2);
  });

  it("emphasis fades every other category toward the background; hidden ones are filtered", () => {
    const pal = ["#ff0000", "#0000ff", "#00ff00"];
    const out = emphasize(pal, new Set([1]), [255, 255, 255], 0.8);
    expect(out[1]).toBe("#0000ff");
    expect(hexToRgb(out[0])).toEqual([255, 204, 204]);
    expect(emphasize(pal, new Set(), [0, 0, 0])).toEqual(pal);
    expect(visibleIndices(new Float32Array([0, 1, 2, 1]), new Set([1]))).toEqual([0, 2]);
    expect(visibleIndices(new Float32Array([0, 1]), new Set())).toBeNull();
  });

  it("legend names <-> codes, and what a click does to the emphasis", () => {
    expect([...codesOf(["b", "missing", "zz"], ["a", "b"], 2)]).toEqual([1, 2]);
    expect(nextEmphasis([], "a", false)).toEqual(["a"]);
    expect(nextEmphasis(["a"], "a", false)).toEqual([]); // click again: back to all
    expect(nextEmphasis(["a"], "b", false)).toEqual(["b"]);
    expect(nextEmphasis(["a"], "b", true)).toEqual(["a", "b"]); // shift+click adds
    expect(nextEmphasis(["a", "b"], "a", true)).toEqual(["b"]);
  });
});

describe("PointColors + Legend in the DOM", () => {
  const traits = () => ({
    color_kind: "categorical", color_values: new Float32Array([0, 1, 1, 2, NaN]), color_names: ["x", "<b>y</b>", "z"],
    color_title: "segment", color_info: { other: -1, missing: 1 }, emphasized: [], hidden: [], selected: [],
  });
  const viewOf = (m) => Object.assign(new ViewBase(m), {});

  it("a click emphasises, shift+click adds, the eye hides; all through the traits", () => {
    const m = fakeModel(traits());
    const colors = new PointColors(viewOf(m));
    const c = colors.compute(5, THEME);
    expect(c.filter).toBeNull();
    const items = colors.legend.el.querySelectorAll(".vw-legend-item");
    expect(Array.from(items, (i) => i.querySelector(".vw-legend-name").textContent)).toEqual(["x", "<b>y</b>", "z", "missing"]);
    expect(items[1].querySelector(".vw-legend-name").children).toHaveLength(0); // text, not HTML
    items[1].click();
    expect(m.get("emphasized")).toEqual(["<b>y</b>"]);
    items[0].dispatchEvent(new MouseEvent("click", { shiftKey: true, bubbles: true }));
    expect(m.get("emphasized")).toEqual(["<b>y</b>", "x"]);
    items[3].querySelector(".vw-legend-eye").click();
    expect(m.get("hidden")).toEqual(["missing"]);
    expect(m.get("emphasized")).toEqual(["<b>y</b>", "x"]); // the eye does not emphasise
    const c2 = colors.compute(5, THEME);
    expect(c2.filter).toEqual([0, 1, 2, 3]);
    expect(colors.visible(4)).toBe(false);
    expect(c2.palette[2]).not.toBe(c.palette[2]); // z faded
    expect(c2.palette[1]).toBe(c.palette[1]);
    colors.mark([]);
    expect(items[1].classList.contains("vw-emphasized")).toBe(true);
    expect(items[2].classList.contains("vw-faded")).toBe(true);
    expect(colors.legend.el.querySelectorAll(".vw-hidden-category")).toHaveLength(1);
    // "select" turns the emphasised categories into a selection
    const onSelect = vi.fn();
    colors.onSelect = onSelect;
    colors.legend.selectBtn.click();
    expect(onSelect).toHaveBeenCalledWith([0, 1, 2]);
    colors.legend.resetBtn.click();
    expect(m.get("emphasized")).toEqual([]);
    expect(m.get("hidden")).toEqual([]);
  });

  it("the colour bar says what the range is and how many points lie beyond it", () => {
    const lg = new Legend();
    const enc = encodeColors({ kind: "continuous", values: new Float32Array([1, 2, 3]), n: 3, lo: 1, hi: 3 });
    lg.update(enc, [], "when", { lo_text: "2024-01-01", hi_text: "2024-03-01", mid_text: "2024-01-31", below: 2, above: 0, missing: 0 });
    expect(lg.bar.querySelector(".vw-colorbar-min").textContent).toBe("≤ 2024-01-01");
    expect(lg.bar.querySelector(".vw-colorbar-max").textContent).toBe("2024-03-01");
    expect(lg.bar.querySelector(".vw-colorbar-mid").textContent).toBe("2024-01-31");
    expect(lg.clipEl.hidden).toBe(false);
    expect(lg.clipEl.textContent).toContain("2 points beyond");
  });
});

describe("hover text", () => {
  it("LRU keeps the most recently used entries", () => {
    const c = new LRU(2);
    c.set(1, "a");
    c.set(2, "b");
    c.get(1);
    c.set(3, "c");
    expect([...c.map.keys()]).toEqual([1, 3]);
    expect(c.get(2)).toBeUndefined();
  });

  it("shipped rows come straight from the trait", () => {
    const data = { columns: ["title", "price"], values: [["a <i>b</i>", "c"], ["1.5", null]] };
    expect(shippedRows(data, 0)).toEqual([["title", "a <i>b</i>"], ["price", "1.5"]]);
    expect(shippedRows(data, 1)).toEqual([["title", "c"], ["price", null]]);
    expect(shippedRows({ columns: ["a"] }, 0)).toBeNull();
  });

  it("beyond the budget: one request in flight, latest wins, answers cached", () => {
    const m = fakeModel({ tooltip_fetch: true, thumbnails_fetch: false, tooltip_data: { columns: ["t"] }, image_shape: [], thumbnails: null });
    const view = new ViewBase(m);
    const ready = vi.fn();
    const hover = new HoverText(view, { onReady: ready });
    expect(hover.get(5)).toEqual({ rows: [], image: null, pending: true });
    hover.get(6);
    hover.get(7); // only the newest wanted point is asked next
    expect(m.sent).toEqual([{ type: "rows", view: view.viewId, req: 1, indices: [5] }]);
    m.emit("msg:custom", { type: "rows", view: "someone-else", req: 1, indices: [5], columns: ["t"], values: [["x"]] });
    expect(ready).not.toHaveBeenCalled(); // not ours
    m.emit("msg:custom", { type: "rows", view: view.viewId, req: 1, indices: [5], columns: ["t"], values: [["five"]] });
    expect(ready).toHaveBeenCalledWith(5);
    expect(m.sent.at(-1)).toEqual({ type: "rows", view: view.viewId, req: 2, indices: [7] });
    expect(hover.get(5)).toEqual({ rows: [["t", "five"]], image: null, pending: false });
    expect(hover.requests).toBe(2);
    m.emit("change:tooltip_data");
    expect(hover.cache.size).toBe(0); // other columns: ask again
  });

  it("the tooltip writes every value as text, marks missing ones, wraps long ones", () => {
    const host = document.createElement("div");
    const t = new Tooltip(host);
    t.show([10, 10], 500, 400, { title: "#3", rows: [["title", "<img src=x onerror=alert(1)>"], ["price", null]], pending: true });
    expect(t.el.hidden).toBe(false);
    expect(host.querySelector("img")).toBeNull();
    const values = host.querySelectorAll(".vw-tooltip-value");
    expect(values[0].textContent).toBe("<img src=x onerror=alert(1)>");
    expect(values[1].textContent).toBe("missing");
    expect(values[1].classList.contains("vw-missing")).toBe(true);
    expect(host.querySelector(".vw-tooltip-pending").textContent).toBe("…");
  });
});

describe("category names on the map", () => {
  it("anchor at the densest cluster of each category, not between its clusters", () => {
    // category 0: 80 points near (0, 0) and 20 near (10, 10); category 1: 50 near (10, 0)
    const pos = [], codes = [];
    for (let i = 0; i < 80; i++) pos.push((i % 9) * 0.01, (i % 7) * 0.01), codes.push(0);
    for (let i = 0; i < 20; i++) pos.push(10 + (i % 3) * 0.01, 10), codes.push(0);
    for (let i = 0; i < 50; i++) pos.push(10 + (i % 5) * 0.01, (i % 4) * 0.01), codes.push(1);
    const a = categoryAnchors(new Float32Array(pos), new Float32Array(codes), 3);
    expect(a).toHaveLength(2); // category 2 has no points
    const [a0, a1] = a;
    expect(a0.code).toBe(0);
    expect(a0.count).toBe(100);
    expect(Math.abs(a0.x) + Math.abs(a0.y)).toBeLessThan(0.2); // not the mean (2, 2)
    expect(Math.abs(a1.x - 10)).toBeLessThan(0.2);
    expect(categoryAnchors(new Float32Array(pos), new Float32Array(codes), 3, { skip: new Set([0]) })).toHaveLength(1);
  });

  it("labels follow the points: a moved frame moves the anchors", () => {
    const codes = new Float32Array([0, 0, 1, 1]);
    const f1 = categoryAnchors(new Float32Array([0, 0, 0.1, 0, 5, 5, 5.1, 5]), codes, 2);
    const f2 = categoryAnchors(new Float32Array([3, 3, 3.1, 3, -5, 5, -5.1, 5]), codes, 2);
    expect(f1[0].x).toBeCloseTo(0.05);
    expect(f2[0].x).toBeCloseTo(3.05);
    expect(f2[1].x).toBeCloseTo(-5.05);
  });

  it("placing labels skips overlaps, biggest category first", () => {
    const anchors = [{ code: 0, x: 0, y: 0, count: 5 }, { code: 1, x: 1, y: 0, count: 50 }, { code: 2, x: 100, y: 0, count: 1 }];
    const map = (x, y) => [100 + x * 10, 100 + y];
    const placed = placeLabels(anchors, ["small", "big", "far"], map, (t) => 6 * t.length, { width: 2000, heightPx: 400 });
    expect(placed.map((p) => p.text)).toEqual(["big", "far"]); // "small" would overlap "big"
    // kept inside the view, long names shortened
    const edge = placeLabels([{ code: 0, x: 0, y: 0, count: 1 }], ["a very long category name indeed"], () => [2, 50], (t) => 6 * t.length, { width: 300, heightPx: 100 });
    expect(edge[0].text).toBe("a very long category na…"); // 23 characters and the ellipsis
    expect(edge[0].px - (6 * 24 + 6) / 2).toBeGreaterThanOrEqual(0);
  });
});

describe("menus, counts, marks", () => {
  it("colour-by lists table columns first, embedded features after", () => {
    const groups = colorOptions([
      { name: "f1", group: "number", feature: true },
      { name: "title", group: "string", feature: false },
      { name: "when", group: "datetime", feature: false },
    ]);
    expect(groups.map((g) => g.label)).toEqual(["", "columns", "embedded features"]);
    expect(groups[1].options.map((o) => o.value)).toEqual(["title", "when"]);
    expect(groups[0].options[0]).toEqual({ value: "", text: "(one colour)" });
  });

  it("match counts read well; marks are the matches' positions", () => {
    expect(matchText("", 5)).toBe("");
    expect(matchText("a", 0)).toBe("no match");
    expect(matchText("a", 1)).toBe("1 match");
    expect(matchText("a", 12345)).toBe("12,345 matches");
    const pos = new Float32Array([0, 1, 2, 3, 4, 5]);
    expect(Array.from(pickPositions(pos, new Uint32Array([2, 0, 9])))).toEqual([4, 5, 0, 1]);
    expect(pickPositions(pos, [0, 1, 2], 2)).toHaveLength(4); // at most `max` marks
  });
});

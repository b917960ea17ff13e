// @vitest-environment jsdom
import { LIGHT, hover, setWidth } from "./canvas_recorder.js";
import { fmtNum } from "../src/common/format.js";
import { describe, expect, it, vi } from "vitest";
import { decodeGrid } from "../src/vae/grids.js";
import { SelectionPanel, selectionHit, selectionLayout, selectionSummary, tileOrigin } from "../src/vae/selection.js";

const imageGrid = (k, H = 8, W = 8) => ({ rows: 2, cols: k, cellW: W, cellH: H, layout: "image" });

describe("selection layout", () => {
  it("8x8 images: 6x scale (48 px), tiles wrap to the width", () => {
    const L = selectionLayout(imageGrid(10), 300);
    expect(L).toMatchObject({ count: 10, sx: 6, sy: 6, cellW: 48, cellH: 48, tileW: 48 });
    // (300 + 8) / (48 + 8) = 5.5 -> 5 per row, 2 rows
    expect(L.perRow).toBe(5);
    expect(L.rows).toBe(2);
    expect(L.tileH).toBe(13 + 2 * 48 + 2);
    expect(L.width).toBe(5 * 48 + 4 * 8);
    expect(L.height).toBe(2 * L.tileH + 8);
  });

  it("few points: one row no wider than needed", () => {
    const L = selectionLayout(imageGrid(3), 1000);
    expect(L.perRow).toBe(3);
    expect(L.width).toBe(3 * 48 + 2 * 8);
  });

  it("narrow boxes shrink the images, never below 1x; at least one tile per row", () => {
    const L = selectionLayout(imageGrid(4, 28, 28), 40);
    expect(L.sx).toBe(1);
    expect(L.perRow).toBe(1);
    expect(L.rows).toBe(4);
  });

  it("feature strips: scaled to at most 360 px, fixed strip height", () => {
    const L = selectionLayout({ rows: 2, cols: 5, cellW: 30, cellH: 1, layout: "features" }, 1000);
    expect(L.sx).toBe(12);
    expect(L.cellW).toBe(360);
    expect(L.cellH).toBe(14);
    expect(L.perRow).toBe(2);
  });

  it("tile origins and hit testing (original above, reconstruction below)", () => {
    const L = selectionLayout(imageGrid(7), 300);
    expect(tileOrigin(L, 0)).toEqual({ x: 0, y: 0 });
    expect(tileOrigin(L, 6)).toEqual({ x: 56, y: L.tileH + 8 });
    // tile 1, original, pixel (0, 0)
    expect(selectionHit(L, 56, 13)).toEqual({ i: 1, row: 0, px: 0, py: 0 });
    // tile 1, reconstruction, last pixel
    expect(selectionHit(L, 56 + 47, 13 + 48 + 2 + 47)).toEqual({ i: 1, row: 1, px: 7, py: 7 });
    expect(selectionHit(L, 56, 5)).toBe(null); // caption
    expect(selectionHit(L, 56, 13 + 48)).toBe(null); // gap between the pair
    expect(selectionHit(L, 50, 20)).toBe(null); // gap between tiles
    expect(selectionHit(L, 2 * 56 + 1, L.tileH + 8 + 20)).toBe(null); // no 8th tile
  });

  it("summary says when only the first ones are shown", () => {
    expect(selectionSummary({ count: 12, shown: 12 })).toBe("12 selected");
    expect(selectionSummary({ count: 1200, shown: 32 })).toBe("1,200 selected · first 32 shown");
    expect(selectionSummary({})).toBe("");
  });
});

describe("SelectionPanel", () => {
  it("hidden without a selection; shows the count; Clear calls back", () => {
    const onClear = vi.fn();
    const host = document.createElement("div");
    const p = new SelectionPanel(host, { onClear });
    expect(p.el.parentNode).toBe(host);
    p.setTheme(LIGHT);
    expect(p.update({}, new Uint8Array(0))).toBe(true);
    expect(p.el.hidden).toBe(true);

    const k = 40, shown = 32;
    const px = new Uint8Array(2 * shown * 64).fill(200);
    const meta = { shape: [2, shown, 1, 8, 8], labels: { layout: "image", cols: [...Array(shown).keys()].map((i) => `#${i}`) }, count: k, shown, step: 5 };
    expect(decodeGrid(px, meta.shape, meta.labels)).not.toBe(null);
    document.body.append(p.el);
    // jsdom has no layout: a zero-width box asks the caller to retry, but the panel shows
    expect(p.update(meta, px)).toBe(false);
    expect(p.el.hidden).toBe(false);
    expect(p.el.dataset.count).toBe("40");
    expect(p.el.dataset.shown).toBe("32");
    expect(p.count.textContent).toBe("40 selected · first 32 shown");
    p.clearBtn.click();
    expect(onClear).toHaveBeenCalledTimes(1);
  });

  it("draws each point over its reconstruction, captioned, and reads out the pixel under the pointer", () => {
    const p = new SelectionPanel(document.createElement("div"), { onClear() {} });
    p.setTheme(LIGHT);
    setWidth(p.box, 300);
    const k = 3;
    const px = Uint8Array.from({ length: 2 * k * 64 }, (_, i) => i % 256);
    const meta = { shape: [2, k, 1, 8, 8], labels: { layout: "image", cols: ["#4", "#9", "#12"] }, count: k, shown: k, step: 42, source: "X" };
    expect(p.update(meta, px)).toBe(true);
    const ctx = p.canvas.getContext("2d");
    const draws = ctx.ops("drawImage");
    expect(draws.length).toBe(2 * k);
    // tile 1: 48 px images (6x), 8 px apart; the reconstruction 2 px under the data point, below a 13 px caption
    expect(draws[3].args.slice(5)).toEqual([56, 13 + 48 + 2, 48, 48]);
    expect(ctx.texts).toEqual(["#4", "#9", "#12"]);
    expect(p.readout.textContent).toBe("rows of the map's X · drawn at step 42");
    expect(p.el.dataset.draws).toBe("1");
    hover(p.canvas, 56 + 6 * 5 + 1, 13 + 48 + 2 + 6 * 2 + 1); // tile 1, reconstruction, pixel (2, 5)
    expect(p.readout.textContent).toBe(`#9 · reconstruction · pixel (2, 5) = ${fmtNum((((k + 1) * 64 + 2 * 8 + 5) % 256) / 255, 3)}`);
  });
});

import { describe, expect, it } from "vitest";
import { toUint8 } from "../src/common/buffers.js";
import { colormapLUT } from "../src/common/color_maps.js";
import { cellScale, decodeGrid, gridGeometry, pixelValue } from "../src/vae/grids.js";

const rgba = (g, x, y) => Array.from(g.data.slice((y * g.width + x) * 4, (y * g.width + x) * 4 + 4));

describe("grid decoding", () => {
  it("geometry", () => {
    expect(gridGeometry([2, 3, 1, 8, 8])).toMatchObject({ rows: 2, cols: 3, cell: 64, total: 384 });
    expect(gridGeometry([2, 3, 8, 8])).toBe(null);
    expect(gridGeometry([2, 0, 1, 8, 8])).toBe(null);
  });

  it("grey images: cells placed in a mosaic, from a DataView with an offset", () => {
    const shape = [2, 2, 1, 2, 3];
    const n = 24;
    const buf = new ArrayBuffer(n + 5);
    const bytes = new Uint8Array(buf, 5, n);
    for (let i = 0; i < n; i++) bytes[i] = i * 10;
    const g = decodeGrid(toUint8(new DataView(buf, 5, n)), shape, { layout: "image" });
    expect(g).toMatchObject({ rows: 2, cols: 2, cellW: 3, cellH: 2, width: 6, height: 4, layout: "image" });
    expect(rgba(g, 0, 0)).toEqual([0, 0, 0, 255]);
    expect(rgba(g, 2, 1)).toEqual([50, 50, 50, 255]); // cell (0,0), pixel (1,2) = 5
    expect(rgba(g, 3, 0)).toEqual([60, 60, 60, 255]); // cell (0,1) starts at 6
    expect(rgba(g, 5, 3)).toEqual([230, 230, 230, 255]); // cell (1,1) last pixel = 23
  });

  it("RGB images are channels first", () => {
    const px = new Uint8Array([1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24]); // 1 cell, C=3, 2x2
    const g = decodeGrid(px, [1, 1, 3, 2, 2], {});
    expect(rgba(g, 1, 1)).toEqual([4, 14, 24, 255]);
    expect(g.channels).toBe(3);
  });

  it("feature heatmaps use the diverging map for z-scores and viridis otherwise", () => {
    const px = new Uint8Array([0, 128, 255, 10, 20, 30]); // 2 cells (1 row x 2 cols) of 3 features
    const z = decodeGrid(px, [1, 2, 1, 1, 3], { layout: "features", scale: "zscore", value_range: [-3, 3] });
    expect(z).toMatchObject({ width: 6, height: 1, layout: "features", colormap: "diverging" });
    const lut = colormapLUT("diverging");
    expect(rgba(z, 1, 0)).toEqual([...lut.slice(128 * 3, 128 * 3 + 3), 255]);
    const lin = decodeGrid(px, [1, 2, 1, 1, 3], { layout: "features", scale: "linear" });
    expect(lin.colormap).toBe("viridis");
    const v = colormapLUT("viridis");
    expect(rgba(lin, 5, 0)).toEqual([...v.slice(30 * 3, 30 * 3 + 3), 255]);
  });

  it("rejects short buffers and maps pixel values through value_range", () => {
    expect(decodeGrid(new Uint8Array(10), [1, 1, 1, 4, 4], {})).toBe(null);
    expect(pixelValue(0, { value_range: [-3, 3] })).toBe(-3);
    expect(pixelValue(255, { value_range: [-3, 3] })).toBe(3);
    expect(pixelValue(255, {})).toBe(1);
    expect(pixelValue(51, { value_range: [0, 5] })).toBeCloseTo(1);
  });

  it("integer cell scales", () => {
    // 8x8 digits, 9 columns in 400 px: floor((400 - 16) / 72) = 5, capped at 64 / 8 = 8
    expect(cellScale({ cellW: 8, cellH: 8, cols: 9, layout: "image" }, 400)).toEqual({ sx: 5, sy: 5, cellW: 40, cellH: 40 });
    expect(cellScale({ cellW: 8, cellH: 8, cols: 2, layout: "image" }, 2000).sx).toBe(8);
    expect(cellScale({ cellW: 64, cellH: 64, cols: 10, layout: "image" }, 300).sx).toBe(1); // never below 1x
    const f = cellScale({ cellW: 30, cellH: 1, cols: 4, layout: "features" }, 400);
    expect(f.sx).toBe(3);
    expect(f.cellH).toBe(14);
  });
});

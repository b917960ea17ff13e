import { describe, expect, it } from "vitest";
import {
  TABLEAU10, TABLEAU20, VIRIDIS, categoricalPalette, encodeColors, hexToRgb, luminance,
  parseColor, viridis, viridisGradient,
} from "../src/common/colors.js";

const close = (a, b, tol) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

describe("palettes", () => {
  it("uses Tableau 10 up to 10 categories, Tableau 20 up to 20, distinct beyond", () => {
    expect(categoricalPalette(3)).toEqual(TABLEAU10.slice(0, 3));
    expect(categoricalPalette(10)).toEqual(TABLEAU10);
    expect(categoricalPalette(12)).toEqual(TABLEAU20.slice(0, 12));
    const p = categoricalPalette(40);
    expect(p).toHaveLength(40);
    expect(new Set(p).size).toBe(40);
    expect(p.every((c) => /^#[0-9a-f]{6}$/.test(c))).toBe(true);
    expect(categoricalPalette(0)).toEqual([]);
  });

  it("viridis matches matplotlib's end points and mid point", () => {
    expect(close(viridis(0), hexToRgb("#440154"), 4)).toBe(true);
    expect(close(viridis(0.5), hexToRgb("#21918c"), 5)).toBe(true);
    expect(close(viridis(1), hexToRgb("#fde725"), 6)).toBe(true);
    expect(viridis(-1)).toEqual(viridis(0));
    expect(viridis(2)).toEqual(viridis(1));
    expect(VIRIDIS).toHaveLength(256);
    // monotonically brighter
    expect(luminance(hexToRgb(VIRIDIS[255]))).toBeGreaterThan(luminance(hexToRgb(VIRIDIS[0])));
    expect(viridisGradient()).toMatch(/^linear-gradient\(to right, #/);
  });
});

describe("encodeColors", () => {
  it("categorical codes map to palette entries; invalid codes to 'unknown'", () => {
    const values = new Float32Array([0, 1, 2, 1, NaN, 7, -1, 1.5]);
    const enc = encodeColors({ kind: "categorical", values, n: 8, names: ["a", "b", "c"], unknown: "#999999" });
    expect(enc.k).toBe(3);
    expect(Array.from(enc.codes)).toEqual([0, 1, 2, 1, 3, 3, 3, 3]);
    expect(enc.palette).toEqual([...TABLEAU10.slice(0, 3), "#999999"]);
    expect(enc.counts).toEqual([1, 2, 1, 4]);
    expect(enc.hasUnknown).toBe(true);
    expect(enc.unknownCode).toBe(3);
  });

  it("categorical without names: K = largest code + 1", () => {
    const enc = encodeColors({ kind: "categorical", values: new Float32Array([0, 4, 2]), n: 3 });
    expect(enc.k).toBe(5);
    expect(Array.from(enc.codes)).toEqual([0, 4, 2]);
    expect(enc.hasUnknown).toBe(false);
    expect(enc.palette).toHaveLength(6);
  });

  it("continuous values bin into viridis; NaN and ±Inf get the unknown colour", () => {
    const values = new Float32Array([10, 20, 15, NaN, Infinity]);
    const enc = encodeColors({ kind: "continuous", values, n: 5, unknown: "#777777" });
    expect(enc.min).toBe(10);
    expect(enc.max).toBe(20);
    expect(Array.from(enc.codes)).toEqual([0, 255, 128, 256, 256]);
    expect(enc.palette[0]).toBe(VIRIDIS[0]);
    expect(enc.palette[255]).toBe(VIRIDIS[255]);
    expect(enc.palette[256]).toBe("#777777");
    expect(enc.hasUnknown).toBe(true);
  });

  it("continuous constant values sit mid-scale; all-NaN has no min/max", () => {
    expect(Array.from(encodeColors({ kind: "continuous", values: new Float32Array([3, 3]), n: 2 }).codes)).toEqual([128, 128]);
    const enc = encodeColors({ kind: "continuous", values: new Float32Array([NaN, NaN]), n: 2 });
    expect(Number.isNaN(enc.min)).toBe(true);
    expect(Array.from(enc.codes)).toEqual([256, 256]);
  });

  it("missing values beyond the buffer are unknown; 'none' uses one base colour", () => {
    const enc = encodeColors({ kind: "categorical", values: new Float32Array([0, 1]), n: 4, names: ["x", "y"] });
    expect(Array.from(enc.codes)).toEqual([0, 1, 2, 2]);
    const none = encodeColors({ kind: "none", values: null, n: 3, base: "#123456" });
    expect(none.palette).toEqual(["#123456"]);
    expect(Array.from(none.codes)).toEqual([0, 0, 0]);
    // a kind with no values falls back to none
    expect(encodeColors({ kind: "categorical", values: new Float32Array(0), n: 2 }).kind).toBe("none");
  });
});

describe("parseColor / luminance", () => {
  it("parses hex and rgb() forms", () => {
    expect(parseColor("#fff")).toEqual([255, 255, 255, 1]);
    expect(parseColor("#11223380")).toEqual([17, 34, 51, 128 / 255]);
    expect(parseColor(" rgba(255, 255, 255, 0.87) ")).toEqual([255, 255, 255, 0.87]);
    expect(parseColor("rgb(10 20 30 / 50%)")).toEqual([10, 20, 30, 0.5]);
    expect(parseColor("white")).toEqual([255, 255, 255, 1]);
    expect(parseColor("#zzz", false)).toBe(null);
    expect(parseColor("", false)).toBe(null);
  });
  it("luminance separates dark from light backgrounds", () => {
    expect(luminance([17, 17, 17])).toBeLessThan(0.05);
    expect(luminance([255, 255, 255])).toBeCloseTo(1);
  });
});

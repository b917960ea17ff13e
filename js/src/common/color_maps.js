// Colour maps as 256-entry lookup tables (unit-tested): sequential (viridis,
// magma) for magnitudes such as nats, diverging (blue - light - red) for
// signed values such as z-scores, where the middle entry (128) is neutral.

import { viridis } from "./colors.js";

// Magma via a degree-6 polynomial fit of matplotlib's table (same approach as viridis).
const MC = [
  [-0.002136485053939582, -0.000749655052795221, -0.005386127855323933],
  [0.2516605407371642, 0.6775232436837668, 2.494026599312351],
  [8.353717279216625, -3.577719514958484, 0.3144679030132573],
  [-27.66873308576866, 14.26473078096533, -13.64921318813922],
  [52.17613981234068, -27.94360607168351, 12.94416944238394],
  [-50.76852536473588, 29.04658282127291, 4.23415299384598],
  [18.65570506591883, -11.48977351997711, -5.601961508734096],
];

const clamp01 = (t) => Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0));

/** magma(t) -> [r, g, b] in 0..255 for t in [0, 1] (clamped). */
export function magma(t) {
  const x = clamp01(t);
  const out = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let v = MC[6][c];
    for (let k = 5; k >= 0; k--) v = MC[k][c] + x * v;
    out[c] = Math.max(0, Math.min(255, Math.round(v * 255)));
  }
  return out;
}

// ColorBrewer RdBu, reversed (low = blue, high = red), 11 classes.
const RDBU = [
  [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
];

/** Diverging blue - near-white - red; t = 0.5 is the neutral middle. */
export function diverging(t) {
  const x = clamp01(t) * (RDBU.length - 1);
  const i = Math.min(RDBU.length - 2, Math.floor(x));
  const f = x - i;
  const a = RDBU[i], b = RDBU[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f));
}

export const COLORMAPS = { viridis, magma, diverging };

const LUTS = new Map();
/** 256 x [r, g, b] as a Uint8Array(768); entry v is the colour of t = v / 255. */
export function colormapLUT(name = "viridis") {
  let lut = LUTS.get(name);
  if (lut) return lut;
  const fn = COLORMAPS[name] || viridis;
  lut = new Uint8Array(256 * 3);
  for (let v = 0; v < 256; v++) lut.set(fn(v / 255), v * 3);
  LUTS.set(name, lut);
  return lut;
}

/** CSS linear-gradient of a colour map (for colour bars). */
export function colormapGradient(name = "viridis", direction = "to right", stops = 11) {
  const fn = COLORMAPS[name] || viridis;
  const parts = [];
  for (let i = 0; i < stops; i++) {
    const t = i / (stops - 1);
    const [r, g, b] = fn(t);
    parts.push(`rgb(${r},${g},${b}) ${(t * 100).toFixed(1)}%`);
  }
  return `linear-gradient(${direction}, ${parts.join(", ")})`;
}

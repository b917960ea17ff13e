// Colour palettes and the mapping of per-point values to colours.
// Pure functions (unit-tested); no DOM needed except the optional CSS colour
// normaliser used for unusual colour strings in the browser.

/** Tableau 10 (2016): distinct, readable on light and dark backgrounds. */
export const TABLEAU10 = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
];

/** Tableau 20: pairs of dark / light hues. */
export const TABLEAU20 = [
  "#4e79a7", "#a0cbe8", "#f28e2b", "#ffbe7d", "#59a14f",
  "#8cd17d", "#b6992d", "#f1ce63", "#499894", "#86bcb6",
  "#e15759", "#ff9d9a", "#79706e", "#bab0ac", "#d37295",
  "#fabfd2", "#b07aa1", "#d4a6c8", "#9d7660", "#d7b5a6",
];

const hex2 = (v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0");
export const rgbToHex = ([r, g, b]) => `#${hex2(r)}${hex2(g)}${hex2(b)}`;

/** '#rgb' | '#rrggbb' -> [r, g, b] (0..255). */
export function hexToRgb(hex) {
  const c = parseColor(hex);
  return c ? [c[0], c[1], c[2]] : [0, 0, 0];
}

function hslToRgb(h, s, l) {
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [f(0) * 255, f(8) * 255, f(4) * 255];
}

/**
 * k distinct colours: Tableau 10 for k <= 10, Tableau 20 for k <= 20, beyond
 * that Tableau 20 followed by golden-angle hues (distinct, never repeating).
 */
export function categoricalPalette(k) {
  if (k <= 0) return [];
  if (k <= 10) return TABLEAU10.slice(0, k);
  const out = TABLEAU20.slice(0, Math.min(k, 20));
  for (let i = 20; i < k; i++) {
    const h = (i * 137.508) % 360;
    const l = 0.5 + 0.12 * ((i % 3) - 1);
    out.push(rgbToHex(hslToRgb(h, 0.55, l)));
  }
  return out;
}

// Viridis via a degree-6 polynomial fit (matches matplotlib's table within ~1%).
const VC = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

/** viridis(t) -> [r, g, b] in 0..255 for t in [0, 1] (clamped). */
export function viridis(t) {
  const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0));
  const out = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let v = VC[6][c];
    for (let k = 5; k >= 0; k--) v = VC[k][c] + x * v;
    out[c] = Math.max(0, Math.min(255, Math.round(v * 255)));
  }
  return out;
}

export const VIRIDIS_BINS = 256;
/** 256 viridis colours as hex strings. */
export const VIRIDIS = Array.from({ length: VIRIDIS_BINS }, (_, i) => rgbToHex(viridis(i / (VIRIDIS_BINS - 1))));

/** CSS linear-gradient of viridis (for the colour bar). */
export function viridisGradient(direction = "to right", stops = 11) {
  const parts = [];
  for (let i = 0; i < stops; i++) {
    const t = i / (stops - 1);
    parts.push(`${rgbToHex(viridis(t))} ${(t * 100).toFixed(1)}%`);
  }
  return `linear-gradient(${direction}, ${parts.join(", ")})`;
}

/**
 * Map per-point colour values to integer codes into a palette.
 *
 * kind "categorical": values are codes 0..K-1 (K = number of names, or the
 *   largest valid code + 1 when there are no names); anything else (NaN,
 *   negative, non-integer, >= K) gets code K, the `unknown` colour. The code
 *   `other` (the kernel's "other" bucket of rare categories), when given, is
 *   drawn in `otherColor`.
 * kind "continuous": values are binned into 256 viridis colours between `lo`
 *   and `hi` (the kernel's robust range; values beyond are clamped to the end
 *   colours) or, without them, the finite min and max; NaN / infinite values
 *   get code 256, `unknown`.
 * kind "none" (or no values): a single colour `base`.
 *
 * Returns {kind, codes: Float32Array(n) of integers, palette: [hex], k,
 *          min, max, unknownCode, counts (per code, categorical only), hasUnknown}.
 */
export function encodeColors({
  kind = "none", values = null, n, names = [], base = "#4e79a7", unknown = "#9e9e9e",
  lo = NaN, hi = NaN, other = -1, otherColor = unknown,
}) {
  const count = n ?? (values ? values.length : 0);
  const codes = new Float32Array(count);
  const haveValues = values && values.length > 0;
  if (kind === "categorical" && haveValues) {
    let k = names ? names.length : 0;
    if (!k) {
      let maxCode = -1;
      for (let i = 0; i < Math.min(count, values.length); i++) {
        const v = values[i];
        if (Number.isInteger(v) && v >= 0 && v > maxCode && v < 1e6) maxCode = v;
      }
      k = maxCode + 1;
    }
    const counts = new Array(k + 1).fill(0);
    for (let i = 0; i < count; i++) {
      const v = i < values.length ? values[i] : NaN;
      const c = Number.isInteger(v) && v >= 0 && v < k ? v : k;
      codes[i] = c;
      counts[c]++;
    }
    const palette = categoricalPalette(k);
    if (Number.isInteger(other) && other >= 0 && other < k) palette[other] = otherColor;
    palette.push(unknown);
    return { kind, codes, palette, k, min: 0, max: k - 1, unknownCode: k, counts, hasUnknown: counts[k] > 0, other };
  }
  if (kind === "continuous" && haveValues) {
    let min = Infinity, max = -Infinity;
    if (Number.isFinite(lo) && Number.isFinite(hi) && hi > lo) {
      min = lo;
      max = hi;
    } else {
      for (let i = 0; i < Math.min(count, values.length); i++) {
        const v = values[i];
        if (!Number.isFinite(v)) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    const unknownCode = VIRIDIS_BINS;
    const span = max - min;
    let hasUnknown = false;
    for (let i = 0; i < count; i++) {
      const v = i < values.length ? values[i] : NaN;
      if (!Number.isFinite(v)) {
        codes[i] = unknownCode;
        hasUnknown = true;
      } else {
        const t = span > 0 ? (v - min) / span : 0.5;
        codes[i] = Math.max(0, Math.min(VIRIDIS_BINS - 1, Math.round(t * (VIRIDIS_BINS - 1))));
      }
    }
    const palette = VIRIDIS.slice();
    palette.push(unknown);
    return {
      kind, codes, palette, k: VIRIDIS_BINS,
      min: Number.isFinite(min) ? min : NaN, max: Number.isFinite(max) ? max : NaN,
      unknownCode, counts: null, hasUnknown, other: -1,
    };
  }
  return { kind: "none", codes, palette: [base], k: 1, min: NaN, max: NaN, unknownCode: -1, counts: null, hasUnknown: false, other: -1 };
}

/**
 * The palette with legend emphasis applied: when `emphasized` (a Set of codes)
 * is not empty, every other entry is faded toward the background `bg`
 * ([r, g, b]) so the emphasised categories stand out. Returns a new array.
 */
export function emphasize(palette, emphasized, bg, fade = 0.8) {
  if (!emphasized || emphasized.size === 0) return palette.slice();
  return palette.map((c, code) => (emphasized.has(code) ? c : rgbToHex(mix(hexToRgb(c), bg, fade))));
}

/**
 * Indices of the points to draw when the categories in `hidden` (a Set of
 * codes) are hidden; null when nothing is hidden (draw every point).
 */
export function visibleIndices(codes, hidden) {
  if (!hidden || hidden.size === 0 || !codes) return null;
  const out = [];
  for (let i = 0; i < codes.length; i++) if (!hidden.has(codes[i])) out.push(i);
  return out;
}

// ---------- CSS colour strings ----------

const NAMED = { white: [255, 255, 255, 1], black: [0, 0, 0, 1], transparent: [0, 0, 0, 0] };

/**
 * Parse a CSS colour string -> [r, g, b, a] (r,g,b 0..255, a 0..1), or null.
 * Handles #rgb, #rgba, #rrggbb, #rrggbbaa, rgb()/rgba() (comma or space
 * syntax, % alpha) and a few names; in a browser, anything else is
 * normalised through a 2-D canvas.
 */
export function parseColor(str, viaCanvas = true) {
  if (typeof str !== "string") return null;
  const s = str.trim().toLowerCase();
  if (!s) return null;
  if (NAMED[s]) return NAMED[s].slice();
  if (s[0] === "#") {
    let h = s.slice(1);
    if (h.length === 3 || h.length === 4) h = [...h].map((c) => c + c).join("");
    if ((h.length !== 6 && h.length !== 8) || /[^0-9a-f]/.test(h)) return null;
    const v = (i) => parseInt(h.slice(i, i + 2), 16);
    return [v(0), v(2), v(4), h.length === 8 ? v(6) / 255 : 1];
  }
  const m = s.match(/^rgba?\(([^)]*)\)$/);
  if (m) {
    const parts = m[1].split(/[\s,/]+/).filter(Boolean);
    if (parts.length < 3) return null;
    const ch = (p) => (p.endsWith("%") ? (parseFloat(p) * 255) / 100 : parseFloat(p));
    const rgb = parts.slice(0, 3).map(ch);
    let a = 1;
    if (parts.length > 3) a = parts[3].endsWith("%") ? parseFloat(parts[3]) / 100 : parseFloat(parts[3]);
    if (rgb.some((v) => !Number.isFinite(v)) || !Number.isFinite(a)) return null;
    return [...rgb.map((v) => Math.max(0, Math.min(255, v))), Math.max(0, Math.min(1, a))];
  }
  if (viaCanvas && typeof document !== "undefined") {
    try {
      const ctx = document.createElement("canvas").getContext("2d");
      if (ctx) {
        ctx.fillStyle = "#010203";
        ctx.fillStyle = s;
        const out = String(ctx.fillStyle);
        if (out !== "#010203") return parseColor(out, false);
      }
    } catch (_) {
      /* no canvas (jsdom) */
    }
  }
  return null;
}

/** Composite a colour with alpha over an opaque background -> [r, g, b]. */
export function over(fg, bg) {
  const a = fg[3] ?? 1;
  return [0, 1, 2].map((i) => fg[i] * a + bg[i] * (1 - a));
}

/** Relative luminance (WCAG) of [r, g, b] 0..255 -> 0..1. */
export function luminance([r, g, b]) {
  const f = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

/** Mix two [r,g,b] colours: t = 0 -> a, t = 1 -> b. */
export const mix = (a, b, t) => [0, 1, 2].map((i) => a[i] + (b[i] - a[i]) * t);

/** Colours as [r, g, b, a] in 0..1 (regl-scatterplot's preferred input). */
export const toUnitRgba = (c, alpha = 1) => [c[0] / 255, c[1] / 255, c[2] / 255, (c[3] ?? 1) * alpha];

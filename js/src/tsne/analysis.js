// Pure helpers for the t-SNE analysis features (unit-tested in js/test/tsne_analysis.test.js):
// reference + new points in one position array, their colours, the quality and
// drift read-outs, trails decoded from the kernel's (frames, m, 2) buffer, and
// telling a click from a drag.

import { fmtInt, fmtNum } from "../common/format.js";

/** Reference x,y pairs followed by the new points' x,y pairs (a new Float32Array). */
export function composePositions(ref, extra) {
  if (!extra || !extra.length) return ref;
  const out = new Float32Array(ref.length + extra.length);
  out.set(ref, 0);
  out.set(extra, ref.length);
  return out;
}

/**
 * Colours for reference + new points. New points keep the reference category
 * they were given (code >= 0 and known); the others get one extra, neutral
 * palette entry.
 * @param {{codes: Uint16Array|Uint8Array|Int32Array|Array, palette: string[], kind: string}} enc  reference colours
 * @param {Float32Array|number[]} newCodes  one code per new point (-1: none)
 * @param {string} neutral  CSS colour for new points without a category
 * @param {number} nCategories  how many named categories the reference has
 * @returns {{codes: Int32Array, palette: string[], neutral: number}}
 */
export function extendColors(enc, newCodes, neutral, nCategories = 0) {
  const n = enc.codes ? enc.codes.length : 0;
  const m = newCodes ? newCodes.length : 0;
  const palette = enc.palette.slice();
  const known = enc.kind === "categorical" ? Math.min(nCategories, enc.palette.length) : 0;
  palette.push(neutral);
  const neutralCode = palette.length - 1;
  const codes = new Int32Array(n + m);
  for (let i = 0; i < n; i++) codes[i] = enc.codes[i];
  for (let j = 0; j < m; j++) {
    const c = newCodes[j];
    codes[n + j] = enc.kind === "categorical" && Number.isInteger(c) && c >= 0 && c < known ? c : neutralCode;
  }
  return { codes, palette, neutral: neutralCode };
}

/** Quality dict -> {title, lines: [[name, value, help]], sample} for the read-out. */
export function qualityText(q) {
  if (!q || !Number.isFinite(q.trustworthiness)) return null;
  const k = q.k ?? 10;
  const sample =
    q.n_points && q.n_sampled < q.n_points
      ? `on a random ${fmtInt(q.n_sampled)} of ${fmtInt(q.n_points)} points`
      : `on all ${fmtInt(q.n_sampled)} points`;
  return {
    title: `Map quality (k = ${k})`,
    lines: [
      ["trustworthiness", q.trustworthiness.toFixed(3),
        "1 = no point has map neighbours that are far apart in the data"],
      ["kNN preservation", q.knn_preservation.toFixed(3),
        `share of each point's ${k} nearest neighbours in the data that are also its ${k} nearest on the map`],
    ],
    sample,
  };
}

/** Drift score -> a short read-out ("drift 1.02× (like the reference)"). */
export function driftText(d) {
  if (d === null || d === undefined || !Number.isFinite(d)) return "";
  const verdict = d < 1.5 ? "like the reference" : d < 3 ? "somewhat off the reference" : "far off the reference";
  return `drift ${fmtNum(d, 3)}× (${verdict})`;
}

/**
 * Trails from the kernel's answer: frames × m × 2 floats -> m polylines
 * (Float32Array x,y pairs over the frames 0..upto).
 */
export function decodeTrails(data, frames, m, upto = frames - 1) {
  const out = [];
  if (!data || frames < 1 || m < 1 || data.length < frames * m * 2) return out;
  const last = Math.max(0, Math.min(frames - 1, upto));
  for (let j = 0; j < m; j++) {
    const line = new Float32Array((last + 1) * 2);
    for (let f = 0; f <= last; f++) {
      line[2 * f] = data[(f * m + j) * 2];
      line[2 * f + 1] = data[(f * m + j) * 2 + 1];
    }
    out.push(line);
  }
  return out;
}

/** A press and release close together in space (and time) is a click, not a drag or lasso. */
export function isClick(down, up, maxDist = 4, maxMs = 800) {
  if (!down || !up) return false;
  return Math.hypot(up.x - down.x, up.y - down.y) <= maxDist && up.t - down.t <= maxMs && !down.shift;
}

/** Scrubber read-out: "frame 3 / 40 · iteration 120". */
export function scrubText(index, iterations) {
  const k = iterations.length;
  if (!k) return "no frames kept yet";
  const i = Math.max(0, Math.min(k - 1, index));
  return `frame ${fmtInt(i + 1)} / ${fmtInt(k)} · iteration ${fmtInt(iterations[i])}`;
}

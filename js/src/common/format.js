// Number formatting for labels (unit-tested).

/** 12345 -> "12,345" (en-US grouping, independent of the browser locale). */
export function fmtInt(v) {
  if (!Number.isFinite(v)) return "–";
  const s = Math.round(Math.abs(v)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return v < 0 ? `-${s}` : s;
}

/** Compact number with `digits` significant digits: 0.000123 -> "1.23e-4", 1234.5 -> "1,235". */
export function fmtNum(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(digits - 1).replace("e+", "e");
  if (a >= 10 ** digits) return fmtInt(v);
  return String(Number(v.toPrecision(digits)));
}

/** Seconds -> "0.42 s", "12.3 s", "2 min 05 s". */
export function fmtSeconds(s) {
  if (!Number.isFinite(s)) return "–";
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, "0")} s`;
}

/** "early_exaggeration" -> "early exaggeration". */
export const humanize = (key) => String(key).replace(/_/g, " ");

// Theme from JupyterLab CSS variables (with fallbacks outside Lab).
//
// base.css defines --vw-* variables on .vw-root as var(--jp-..., fallback);
// readTheme() resolves them on an element and derives canvas / WebGL colours.
// watchTheme() calls back when the host switches theme (Lab sets
// data-jp-theme-light / data-jp-theme-name on <body>, VS Code toggles body
// classes), re-reading after the new stylesheet has had time to load.

import { luminance, over, parseColor, mix, rgbToHex } from "./colors.js";

const LIGHT = {
  bg: "#ffffff", bg1: "#ffffff", bg2: "#eeeeee", fg0: "rgba(0,0,0,1)", fg1: "rgba(0,0,0,0.87)",
  fg2: "rgba(0,0,0,0.54)", border1: "#bdbdbd", border2: "#e0e0e0", brand: "#1976d2",
  error: "#d32f2f", warn: "#f57c00",
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif',
};

function hostSaysDark() {
  if (typeof document === "undefined" || !document.body) return null;
  const b = document.body;
  if (b.dataset && b.dataset.jpThemeLight === "false") return true;
  if (b.dataset && b.dataset.jpThemeLight === "true") return false;
  if (b.classList.contains("vscode-dark") || b.classList.contains("vscode-high-contrast")) return true;
  if (b.classList.contains("vscode-light")) return false;
  return null;
}

/**
 * Resolve the theme on `el` (an element inside .vw-root).
 * Returns CSS strings (for uPlot / DOM) and [r, g, b] arrays (for canvases),
 * plus `dark`.
 */
export function readTheme(el) {
  const raw = { ...LIGHT };
  if (el && typeof getComputedStyle === "function") {
    const cs = getComputedStyle(el);
    for (const key of Object.keys(LIGHT)) {
      const v = cs.getPropertyValue(`--vw-${key}`).trim();
      if (v) raw[key] = v;
    }
  }
  const bgc = parseColor(raw.bg);
  let bg = bgc && bgc[3] > 0 ? bgc.slice(0, 3) : [255, 255, 255];
  let dark = luminance(bg) < 0.35;
  const host = hostSaysDark();
  if (!bgc || bgc[3] === 0) {
    // Transparent / unknown background: trust the host's flag.
    if (host !== null) dark = host;
    if (dark) bg = [17, 17, 17];
  }
  const solid = (css, fallback) => {
    const c = parseColor(css);
    return c ? over(c, bg).map(Math.round) : fallback;
  };
  const fg = solid(raw.fg1, dark ? [230, 230, 230] : [33, 33, 33]);
  const fg2 = solid(raw.fg2, dark ? [170, 170, 170] : [117, 117, 117]);
  const border = solid(raw.border2, dark ? [66, 66, 66] : [224, 224, 224]);
  const brand = solid(raw.brand, [25, 118, 210]);
  return {
    dark,
    css: raw, // CSS strings
    bg, fg, fg2, border, brand,
    grid: rgbToHex(mix(bg, fg, dark ? 0.16 : 0.1)),
    axis: rgbToHex(fg2),
    text: rgbToHex(fg),
    // Points without a colour encoding, and unknown / NaN values.
    point: dark ? "#7fb2e5" : "#4e79a7",
    unknown: dark ? "#6b6b6b" : "#b0b0b0",
    // the "other" bucket of rare categories: neutral, told apart from missing
    other: dark ? "#8f8778" : "#cbc3b4",
    font: raw.font,
  };
}

/** Call `cb()` when the host theme may have changed. Returns an unsubscribe function. */
export function watchTheme(cb) {
  if (typeof document === "undefined" || !document.body) return () => {};
  const timers = new Set();
  const fire = () => {
    cb();
    // Lab swaps the theme stylesheet asynchronously: read again once it has loaded.
    for (const ms of [150, 600, 1500]) {
      const t = setTimeout(() => {
        timers.delete(t);
        cb();
      }, ms);
      timers.add(t);
    }
  };
  const mo = new MutationObserver(fire);
  mo.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name", "class"] });
  let mq = null;
  if (typeof matchMedia === "function") {
    mq = matchMedia("(prefers-color-scheme: dark)");
    mq.addEventListener?.("change", fire);
  }
  return () => {
    mo.disconnect();
    mq?.removeEventListener?.("change", fire);
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
}

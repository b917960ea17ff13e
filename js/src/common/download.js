// "PNG" button: a picture of the current view, downloaded as a file.
//
// The view's canvases (scatter, charts, heatmaps, image grids) are composited
// at their on-screen positions onto one canvas at the device pixel ratio, with
// the view's background; chosen text (titles, legend names) and colour swatches
// are drawn from the DOM so the picture can be read on its own. The WebGL
// scatter copies its pixels into a 2-D canvas per view (scatter_gl.js), so
// reading it needs no preserveDrawingBuffer; the caller's `prepare()` (e.g. a
// scatter redraw) runs first so the latest frame is on it.

import { h, icon, setText } from "./dom.js";

const DOWNLOAD_ICON = "M11 4h2v8.2l3.3-3.3 1.4 1.4L12 16l-5.7-5.7 1.4-1.4 3.3 3.3zM5 18h14v2H5z";

/** The first non-transparent background colour at or above `el` (white if none). */
export function backgroundOf(el) {
  for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (c && c !== "transparent" && !/rgba\(.*,\s*0\)$/.test(c)) return c;
  }
  return "#ffffff";
}

const visible = (el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
};

/**
 * Draw `root`'s visible canvases, swatches and text onto one canvas.
 * opts: {text: CSS selectors whose textContent is drawn, swatches: selectors
 * drawn as filled boxes of their background colour, scale: pixel ratio}.
 * Returns {canvas, drawn: number of canvases composited}.
 */
export function compositeView(root, { text = [], swatches = [], scale = window.devicePixelRatio || 1 } = {}) {
  const box = root.getBoundingClientRect();
  const out = document.createElement("canvas");
  out.width = Math.max(1, Math.round(box.width * scale));
  out.height = Math.max(1, Math.round(box.height * scale));
  const ctx = out.getContext("2d");
  ctx.scale(scale, scale);
  ctx.fillStyle = backgroundOf(root);
  ctx.fillRect(0, 0, box.width, box.height);
  const at = (el) => {
    const r = el.getBoundingClientRect();
    return { x: r.left - box.left, y: r.top - box.top, w: r.width, hgt: r.height };
  };
  for (const sel of swatches) {
    for (const el of root.querySelectorAll(sel)) {
      if (!visible(el)) continue;
      const p = at(el);
      ctx.fillStyle = getComputedStyle(el).backgroundColor;
      ctx.fillRect(p.x, p.y, p.w, p.hgt);
    }
  }
  let drawn = 0;
  for (const c of root.querySelectorAll("canvas")) {
    if (!visible(c) || !c.width || !c.height) continue;
    const p = at(c);
    try {
      ctx.drawImage(c, p.x, p.y, p.w, p.hgt);
      drawn += 1;
    } catch (_) {
      /* a tainted or lost canvas: leave its area blank */
    }
  }
  // Text: each text node at its own on-screen box (a Range), clipped to its
  // element's box as the page clips it; drawn with fillText, never parsed as HTML.
  ctx.textBaseline = "middle";
  const range = document.createRange();
  for (const sel of text) {
    for (const el of root.querySelectorAll(sel)) {
      if (!visible(el)) continue;
      const s = getComputedStyle(el);
      const clip = at(el);
      ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
      ctx.fillStyle = s.color;
      for (const node of el.childNodes) {
        const t = node.nodeType === 3 ? node.textContent.trim() : "";
        if (!t) continue;
        range.selectNodeContents(node);
        const r = range.getBoundingClientRect();
        if (!r.width) continue;
        ctx.save();
        ctx.beginPath();
        ctx.rect(clip.x, clip.y, clip.w, clip.hgt);
        ctx.clip();
        ctx.fillText(t, r.left - box.left, r.top - box.top + r.height / 2);
        ctx.restore();
      }
    }
  }
  return { canvas: out, drawn };
}

/** Ask the browser to save `blob` as `filename`. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, style: { display: "none" } });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A timestamped file name: `${stem}-YYYYMMDD-HHMMSS.png`. */
export function pngName(stem, date = new Date()) {
  const p = (v) => String(v).padStart(2, "0");
  return `${stem}-${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}.png`;
}

/**
 * The toolbar button. opts: {root: () => element to picture, stem: file name
 * stem, prepare: async () => void (bring canvases up to date), text, swatches}.
 * Sets `data-png-bytes` on the button after each download (for tests and curious users).
 */
export function pngButton({ root, stem = "view", prepare, text = [], swatches = [] }) {
  const label = h("span.vw-btn-label", {}, "PNG");
  const btn = h("button.vw-btn.vw-png", { type: "button", title: "Download a PNG picture of this view" }, icon(DOWNLOAD_ICON), label);
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      if (prepare) await prepare();
      await new Promise((r) => requestAnimationFrame(() => r()));
      const { canvas } = compositeView(root(), { text, swatches });
      const blob = await new Promise((r) => canvas.toBlob(r, "image/png"));
      if (!blob) throw new Error("the browser could not encode the PNG");
      btn.dataset.pngBytes = String(blob.size);
      saveBlob(blob, pngName(stem));
    } catch (err) {
      console.warn("vae_widgets: PNG download failed", err);
      setText(label, "PNG failed");
      setTimeout(() => setText(label, "PNG"), 3000);
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}

// Canvas helpers every 2-D drawing of the widgets uses (the VAE panels, the
// anomaly histogram and gallery): a canvas sized for the device pixel ratio,
// an RGBA image as a canvas, and text cut to fit.

/** Size a canvas for CSS size w x h at the device pixel ratio; returns its cleared 2-D context (in CSS px). */
export function sizeCanvas(canvas, w, hgt) {
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const bw = Math.max(1, Math.round(w * dpr)), bh = Math.max(1, Math.round(hgt * dpr));
  if (canvas.width !== bw) canvas.width = bw;
  if (canvas.height !== bh) canvas.height = bh;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${hgt}px`;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.setTransform(bw / w, 0, 0, bh / hgt, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  return ctx;
}

/** A canvas holding an RGBA image at native resolution (for scaled drawImage). */
export function imageCanvas(data, w, hgt) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = hgt;
  const ctx = c.getContext("2d");
  if (ctx && w > 0 && hgt > 0) ctx.putImageData(new ImageData(data, w, hgt), 0, 0);
  return c;
}

/** `text` cut with "…" to fit `maxW` px in the context's current font. */
export function ellipsize(ctx, text, maxW) {
  if (ctx.measureText(text).width <= maxW) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(`${t}…`).width > maxW) t = t.slice(0, -1);
  return `${t}…`;
}

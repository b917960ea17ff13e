// The anomaly widget's gallery tiles: each flagged sample (and, when sent, its
// reconstruction) as pixelated cells with its index and score; a labelled
// anomaly is framed as a hit, a labelled normal as a false alarm.

import { h } from "../common/dom.js";
import { fmtNum } from "../common/format.js";
import { decodeCell } from "./gallery.js";

/** A canvas showing an RGBA cell scaled by integer factors with pixelated drawing. */
function cellCanvas(cell, sx, sy, cls) {
  const c = h(`canvas.${cls}`);
  c.width = cell.width;
  c.height = cell.height;
  c.style.width = `${cell.width * sx}px`;
  c.style.height = `${cell.height * sy}px`;
  const ctx = c.getContext("2d");
  if (ctx) ctx.putImageData(new ImageData(cell.data, cell.width, cell.height), 0, 0);
  return c;
}

/**
 * @param {Array} items  [{index, score, truth}] in the gallery's order
 * @param {object} o  {shape, layout, scale, pixels (Uint8Array), recon (Uint8Array | null)}
 * @returns {HTMLElement[]} the tiles
 */
export function galleryTiles(items, { shape, layout, scale, pixels, recon }) {
  const tiles = [];
  const features = layout === "features";
  const size = shape.length === 3 ? shape[0] * shape[1] * shape[2] : 0;
  const big = Math.max(Number(shape[1]) || 1, Number(shape[2]) || 1);
  const s = features ? Math.max(1, Math.min(8, Math.floor(260 / Math.max(1, size)))) : Math.max(1, Math.floor(64 / big));
  items.forEach((it, k) => {
    const cls = it.truth === true ? "vw-an-hit" : it.truth === false ? "vw-an-miss" : "";
    const cells = [];
    const cell = layout ? decodeCell(pixels, shape, k, layout, scale) : null;
    if (cell) cells.push(cellCanvas(cell, s, features ? 14 : s, "vw-an-cell"));
    const rc = recon ? decodeCell(recon, shape, k, layout, scale) : null;
    if (rc) cells.push(cellCanvas(rc, s, features ? 14 : s, "vw-an-cell.vw-an-recon"));
    const title = `#${it.index} · score ${fmtNum(it.score, 5)}${it.truth === true ? " · labelled anomaly" : it.truth === false ? " · labelled normal" : ""}`;
    tiles.push(
      h(
        `div.vw-an-tile${features ? ".vw-an-tile-row" : ""}${cls ? `.${cls}` : ""}`,
        { title, dataset: { index: String(it.index) } },
        h("div.vw-an-cells", {}, cells),
        h("div.vw-an-tile-caption", {}, h("span.vw-an-index", {}, `#${it.index}`), h("span.vw-an-score", {}, fmtNum(it.score, 4))),
      ),
    );
  });
  return tiles;
}

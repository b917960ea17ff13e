// Drawing of the anomaly widget's score histogram (the view, view.js, owns the
// canvas, the drag and the read-out): the flagged region, the count grid and
// axis, bars (labelled anomalies stacked on top), the score axis and the
// threshold line with its grip. Plain data in, pixels out.

import { fmtInt, fmtNum } from "../common/format.js";
import { barHeight, niceTicks } from "./histogram.js";

export const ANOMALY_COLOR = "#e15759";

/**
 * @param {CanvasRenderingContext2D} ctx  sized in CSS px (common/canvas.js sizeCanvas)
 * @param {object} b  the plot box {x0, x1, y0, y1}
 * @param {object} o  {theme, hist (binScores), log, scale (scoreScale), threshold, scoreName}
 */
export function drawHistogram(ctx, b, { theme, hist, log, scale, threshold, scoreName }) {
  const t = theme, sc = scale;
  const plotH = b.y1 - b.y0;
  const thr = threshold;
  const tx = sc.toX(thr);
  ctx.font = `11px ${t.font}`;

  // flagged region
  ctx.fillStyle = `${ANOMALY_COLOR}1f`;
  const fx = Math.max(b.x0, Math.min(b.x1, tx));
  ctx.fillRect(fx, b.y0, b.x1 - fx, plotH);

  // grid + count axis
  const yTicks = log ? [0, 1, 10, 100, 1000, 10000, 100000].filter((v) => v <= hist.maxCount) : niceTicks(0, Math.max(1, hist.maxCount), 4).filter((v) => Number.isInteger(v));
  ctx.strokeStyle = t.grid;
  ctx.fillStyle = t.axis;
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of yTicks) {
    const y = b.y1 - barHeight(v, hist.maxCount, plotH, log);
    ctx.beginPath();
    ctx.moveTo(b.x0, Math.round(y) + 0.5);
    ctx.lineTo(b.x1, Math.round(y) + 0.5);
    ctx.stroke();
    ctx.fillText(fmtInt(v), b.x0 - 6, y);
  }

  // bars: normal below, labelled anomalies stacked on top
  const normalColor = t.point;
  for (let i = 0; i < hist.nBins; i++) {
    const xa = sc.toX(hist.lo + i * hist.width), xb = sc.toX(hist.lo + (i + 1) * hist.width);
    const wBar = Math.max(1, xb - xa - 1);
    const total = hist.total[i];
    if (!total) continue;
    const hTot = barHeight(total, hist.maxCount, plotH, log);
    const nAn = hist.anomalous ? hist.anomalous[i] : 0;
    const hAn = nAn ? hTot * (nAn / total) : 0;
    ctx.fillStyle = normalColor;
    ctx.fillRect(xa, b.y1 - hTot + hAn, wBar, hTot - hAn);
    if (hAn) {
      ctx.fillStyle = ANOMALY_COLOR;
      ctx.fillRect(xa, b.y1 - hTot, wBar, hAn);
    }
  }

  // score axis
  ctx.strokeStyle = t.axis;
  ctx.beginPath();
  ctx.moveTo(b.x0, b.y1 + 0.5);
  ctx.lineTo(b.x1, b.y1 + 0.5);
  ctx.stroke();
  ctx.fillStyle = t.axis;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const v of niceTicks(hist.lo, hist.hi, Math.max(3, Math.floor((b.x1 - b.x0) / 80)))) {
    const x = sc.toX(v);
    ctx.fillRect(Math.round(x), b.y1, 1, 4);
    ctx.fillText(fmtNum(v, 4), x, b.y1 + 6);
  }
  ctx.fillText(scoreName, (b.x0 + b.x1) / 2, b.y1 + 20);
  ctx.save();
  ctx.translate(11, (b.y0 + b.y1) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(log ? "count (log)" : "count", 0, 0);
  ctx.restore();

  // threshold line with a grip and its value
  if (Number.isFinite(tx)) {
    const x = Math.round(Math.max(b.x0, Math.min(b.x1, tx))) + 0.5;
    ctx.strokeStyle = t.dark ? "#ffb3b3" : "#b2182b";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, b.y0 - 4);
    ctx.lineTo(x, b.y1);
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fillRect(x - 5, b.y0 - 6, 10, 12);
    const label = `threshold ${fmtNum(thr, 4)}`;
    const lw = ctx.measureText(label).width;
    ctx.textBaseline = "top";
    ctx.textAlign = x + 8 + lw < b.x1 ? "left" : "right";
    ctx.fillText(label, ctx.textAlign === "left" ? x + 8 : x - 8, b.y0 + 2);
  }
}

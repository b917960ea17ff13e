// A themed uPlot line chart with vertical marks (dashed lines + labels),
// shaded x-ranges (bands) and a cursor read-out callback. Shared by the
// t-SNE KL curve and the VAE loss curves.

import uPlot from "uplot";
import { fmtNum, fmtInt } from "./format.js";
import { stackLabels } from "./chart_data.js";

/**
 * createLineChart(container, {
 *   width, height, xLabel, yLabel, logY, integerX (ticks on whole numbers only),
 *   series: [{label, color: (theme) => css, width, points? (true | (u, i) => bool), pointSize?, spanGaps?, dash?}],
 *   theme: readTheme() result,
 *   onCursor: (idx | null) => void,
 * })
 * -> { setData(x, ys, {bands, marks}), setTheme(theme), setSize(w, h), destroy(), uplot }
 * bands: [{x0, x1, color?}] (shaded behind the lines), marks: [{x, label}].
 */
export function createLineChart(container, opts) {
  let theme = opts.theme;
  let extras = { bands: [], marks: [] };
  const font = (px, weight = "") => `${weight}${px}px ${theme.font}`;

  const drawBands = (u) => {
    if (!extras.bands.length) return;
    const { ctx, bbox } = u;
    ctx.save();
    for (const b of extras.bands) {
      const x0 = Math.max(bbox.left, u.valToPos(b.x0, "x", true));
      const x1 = Math.min(bbox.left + bbox.width, u.valToPos(b.x1, "x", true));
      if (!(x1 > x0)) continue;
      ctx.fillStyle = b.color || (theme.dark ? "rgba(242,142,43,0.13)" : "rgba(242,142,43,0.12)");
      ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
    }
    ctx.restore();
  };

  const drawMarks = (u) => {
    if (!extras.marks.length) return;
    const { ctx, bbox } = u;
    const pr = uPlot.pxRatio || 1;
    const [xmin, xmax] = [u.scales.x.min, u.scales.x.max];
    const visible = extras.marks.filter((m) => m.x >= xmin && m.x <= xmax);
    if (!visible.length) return;
    ctx.save();
    ctx.font = font(Math.round(10 * pr));
    ctx.textBaseline = "top";
    ctx.textAlign = "left"; // uPlot leaves other alignments behind
    const pos = visible.map((m) => Math.round(u.valToPos(m.x, "x", true)) + 0.5);
    const widths = visible.map((m) => ctx.measureText(m.label).width + 6 * pr);
    const rows = stackLabels(pos, widths, 3, 2 * pr);
    visible.forEach((m, i) => {
      const x = pos[i];
      ctx.strokeStyle = theme.axis;
      ctx.globalAlpha = 0.8;
      ctx.lineWidth = pr;
      ctx.setLineDash([4 * pr, 3 * pr]);
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      if (!m.label) return;
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
      let tx = x + 3 * pr;
      const w = widths[i];
      if (tx + w > bbox.left + bbox.width) tx = x - 3 * pr - w; // keep inside the plot
      const ty = bbox.top + 2 * pr + rows[i] * 13 * pr;
      ctx.fillStyle = theme.css.bg1 || "#fff";
      ctx.globalAlpha = 0.85;
      ctx.fillRect(tx, ty, w, 12 * pr);
      ctx.globalAlpha = 1;
      ctx.fillStyle = theme.axis;
      ctx.fillText(m.label, tx + 3 * pr, ty + 1 * pr);
    });
    ctx.restore();
  };

  const axis = (label, extra) => ({
    stroke: () => theme.axis,
    grid: { stroke: () => theme.grid, width: 1 },
    ticks: { stroke: () => theme.grid, width: 1, size: 4 },
    font: font(11),
    labelFont: font(11),
    label,
    labelSize: label ? 16 : 0,
    ...extra,
  });

  const options = {
    width: opts.width,
    height: opts.height,
    legend: { show: false },
    cursor: {
      drag: { x: false, y: false, setScale: false },
      points: { size: 6 },
    },
    scales: {
      x: { time: false },
      y: opts.logY ? { distr: 3 } : { range: (u, min, max) => padRange(min, max) },
    },
    axes: [
      axis(opts.xLabel, {
        size: 36,
        values: (u, splits) => splits.map((v) => fmtInt(v)),
        // integer x (steps): no 10, 10, 11, 11 ticks on a short range
        ...(opts.integerX ? { incrs: INTEGER_INCRS } : {}),
      }),
      axis(opts.yLabel, { size: 44, values: (u, splits) => splits.map((v) => fmtNum(v, 3)) }),
    ],
    series: [
      {},
      ...opts.series.map((s) => ({
        label: s.label,
        stroke: () => s.color(theme),
        width: s.width ?? 1.5,
        // a lone first value has no line yet: show it as a dot (s.points: always)
        points: s.points
          ? { show: typeof s.points === "function" ? s.points : true, size: s.pointSize ?? 5, fill: () => s.color(theme) }
          : { show: (u) => u.data[0].length > 0 && u.data[0].length < 3, size: 5 },
        spanGaps: s.spanGaps ?? false,
        ...(s.dash ? { dash: s.dash } : {}),
      })),
    ],
    hooks: {
      drawClear: [drawBands],
      draw: [drawMarks],
      setCursor: [
        (u) => {
          if (opts.onCursor) opts.onCursor(u.cursor.idx ?? null);
        },
      ],
    },
  };
  const empty = [[], ...opts.series.map(() => [])];
  const u = new uPlot(options, empty, container);

  return {
    uplot: u,
    setData(x, ys, more = {}) {
      extras = { bands: more.bands || [], marks: more.marks || [] };
      u.setData([x, ...ys]);
    },
    setTheme(t) {
      theme = t;
      u.redraw(false, true);
    },
    setSize(width, height) {
      if (width > 0 && height > 0 && (width !== u.width || height !== u.height)) u.setSize({ width, height });
    },
    destroy() {
      u.destroy();
    },
  };
}

const INTEGER_INCRS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7].map((p) => m * p)).sort((a, b) => a - b);

/** y range with 5% padding; a flat line gets a small symmetric range. */
export function padRange(min, max) {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const d = Math.abs(min) * 0.1 || 1;
    return [min - d, max + d];
  }
  const d = (max - min) * 0.05;
  return [min - d, max + d];
}

// @vitest-environment jsdom
import { DARK, LIGHT, hover, mountPanel } from "./canvas_recorder.js";
import { describe, expect, it } from "vitest";
import { KLPanel, activeUnitsText } from "../src/vae/kl_panel.js";
import { MetricsStore } from "../src/vae/metrics.js";

function store(rows) {
  const s = new MetricsStore();
  s.append(rows.map(([step, kl]) => ({ step, epoch: step / 10, elbo: 1, recon: 1, kl: 1, kl_per_dim: kl })));
  return s;
}

const ROWS = [
  [10, [0.1, 0.0, 2.0]],
  [20, [0.2, 0.0, 1.5]],
  [30, [0.4, 0.0, 1.0]],
  [40, [0.8, 0.01, 0.5]],
];

const panel = (width = 400, theme = LIGHT) => mountPanel((host) => new KLPanel(host), { width, theme });

/** The heatmap image the panel drew: the source canvas of its drawImage and the ImageData put into it. */
function heatmapImage(ctx) {
  const draw = ctx.ops("drawImage")[0];
  const src = draw.args[0];
  return { draw, image: src.getContext("2d").ops("putImageData")[0].args[0] };
}

const pixel = (image, x, y) => Array.from(image.data.slice((y * image.width + x) * 4, (y * image.width + x) * 4 + 3));

describe("activeUnitsText", () => {
  it("counts once there are rows, flags collapse", () => {
    expect(activeUnitsText(8, 3, true)).toEqual({ text: "3 / 8 active", collapsed: true });
    expect(activeUnitsText(8, 8, true)).toEqual({ text: "8 / 8 active", collapsed: false });
    expect(activeUnitsText(8, 3, false)).toEqual({ text: "8 latent dimensions", collapsed: false });
    expect(activeUnitsText(0, 3, true).text).toBe("");
  });
});

describe("KLPanel", () => {
  it("is built in its host with the caption, sort toggle and an empty placeholder", () => {
    const { host, p } = panel();
    expect(host.querySelector(".vw-panel-kl .vw-panel-title").textContent).toBe("KL per latent dimension");
    expect(host.querySelector(".vw-panel-kl input.vw-sort-kl")).toBe(p.sortBox);
    expect(p.update(new MetricsStore(), { latentDim: 6 })).toBe(true);
    expect(p.empty.hidden).toBe(false);
    expect(p.canvas.hidden).toBe(true);
    expect(p.activeEl.textContent).toBe("6 latent dimensions");
    p.destroy();
    expect(host.children.length).toBe(0);
  });

  it("no width yet: asks for a retry but already shows the active units", () => {
    const { p } = panel(0);
    expect(p.update(store(ROWS), { latentDim: 3, activeUnits: 2 })).toBe(false);
    expect(p.activeEl.textContent).toBe("2 / 3 active");
    expect(p.activeEl.classList.contains("vw-collapsed")).toBe(true);
    expect(p.empty.hidden).toBe(true);
  });

  it("draws one column per row and one image row per latent unit, labelled, with a colour bar", () => {
    const { p, ctx } = panel();
    expect(p.update(store(ROWS), { latentDim: 3, activeUnits: 2 })).toBe(true);
    const { draw, image } = heatmapImage(ctx);
    expect([image.width, image.height]).toEqual([4, 3]);
    // drawn into the plot area: x from 40, 400 - 40 - 58 px wide, 22 px per row
    expect(draw.args.slice(1)).toEqual([0, 0, 4, 3, 40, 4, 302, 66]);
    expect(ctx.texts).toEqual(expect.arrayContaining(["z0", "z1", "z2", "0", "nats"]));
    // z2's first column (2.0 nats, the largest) is the top of viridis (yellow); z1 (0 nats) the bottom (purple)
    expect(pixel(image, 0, 2)[0]).toBeGreaterThan(200);
    expect(pixel(image, 0, 1)[2]).toBeGreaterThan(60);
    expect(pixel(image, 0, 1)[0]).toBeLessThan(80);
    const bar = ctx.ops("createLinearGradient")[0];
    expect(bar.stops.length).toBe(9);
    expect(p.readout.textContent).toBe("step 40");
  });

  it("sort: rows by the latest KL, largest first", () => {
    const { p, ctx } = panel();
    p.update(store(ROWS), { latentDim: 3 });
    const rowLabels = () => ctx.calls.filter((c) => c.op === "fillText" && /^z\d$/.test(c.text)).map((c) => c.text);
    expect(rowLabels()).toEqual(["z0", "z1", "z2"]);
    ctx.reset();
    p.sortBox.checked = true;
    p.sortBox.dispatchEvent(new Event("change"));
    // latest: z0 0.8, z1 0.01, z2 0.5
    expect(rowLabels()).toEqual(["z0", "z2", "z1"]);
  });

  it("parameter changes inside the range are dashed lines at their step", () => {
    const { p, ctx } = panel();
    p.update(store(ROWS), { marks: [{ step: 25, label: "beta 2" }, { step: 5 }, { step: 99 }] });
    const dash = ctx.calls.findIndex((c) => c.op === "setLineDash" && c.args[0].length === 2 && c.args[0][0] === 3);
    expect(dash).toBeGreaterThan(-1);
    const moves = ctx.calls.slice(dash).filter((c) => c.op === "moveTo");
    // step 25 of 10..40 is half-way across 302 px from x = 40; steps 5 and 99 are outside
    expect(moves.length).toBe(1);
    expect(moves[0].args[0]).toBe(Math.round(40 + 0.5 * 302) + 0.5);
  });

  it("hover reads out the unit, step and nats under the pointer", () => {
    const { p } = panel();
    p.update(store(ROWS), { latentDim: 3 });
    // row 2 (z2) at y = 4 + 2 * 22 + 5, first column
    hover(p.canvas, 45, 53);
    expect(p.readout.textContent).toBe("z2 · step 10 · 2 nats");
    hover(p.canvas, 5, 5); // on the labels: back to the default
    expect(p.readout.textContent).toBe("step 40");
  });

  it("missing values are grey, darker in a dark theme", () => {
    const s = store([[10, [NaN, 1]], [20, [1, 1]]]);
    for (const [theme, grey] of [[LIGHT, 200], [DARK, 60]]) {
      const { p, ctx } = panel(400, theme);
      p.update(s, { latentDim: 2 });
      expect(pixel(heatmapImage(ctx).image, 0, 0)).toEqual([grey, grey, grey]);
    }
  });
});

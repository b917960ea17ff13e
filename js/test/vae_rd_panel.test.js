// @vitest-environment jsdom
import { DARK, LIGHT, hover, mountPanel } from "./canvas_recorder.js";
import { describe, expect, it } from "vitest";
import { MetricsStore } from "../src/vae/metrics.js";
import { RDPanel, RD_H, nearestPoint } from "../src/vae/rd_panel.js";

const s = new MetricsStore();
s.replace({ step: [10, 20, 30, 40], epoch: [0.5, 1, 1.5, 2], elbo: [50, 40, 35, 30], recon: [45, 34, 28, 22], kl: [5, 6, 7, 8] }, null, 0);
const EM = { epoch: [1, 2], val_kl: [6, 7.5], val_recon: [36, 25] };

const panel = (width = 400, theme = LIGHT) => mountPanel((host) => new RDPanel(host), { width, theme });

// the plot area for a 400 px box: L = 50, R = 12, T = 8, B = 36
const L = 50, T = 8, PW = 400 - 50 - 12, PH = RD_H - 8 - 36;

describe("RDPanel", () => {
  it("empty before the first rows; no width: retry", () => {
    const { host, p } = panel(0);
    expect(host.querySelector(".vw-panel-rd .vw-panel-title").textContent).toBe("Rate–distortion");
    expect(p.update(new MetricsStore(), null)).toBe(true);
    expect(p.empty.hidden).toBe(false);
    expect(p.canvas.hidden).toBe(true);
    expect(p.update(s, EM)).toBe(false);
    expect(p.empty.hidden).toBe(true);
  });

  it("draws the path, the validation rings, start and now, with axis titles and the latest values", () => {
    const { p, ctx } = panel();
    expect(p.update(s, EM)).toBe(true);
    expect(ctx.texts).toEqual(expect.arrayContaining(["rate: KL (nats)", "distortion: reconstruction", "start", "now"]));
    const { x0, x1, y0, y1 } = p.d.bounds;
    const X = (v) => L + ((v - x0) / (x1 - x0)) * PW;
    const Y = (v) => T + PH - ((v - y0) / (y1 - y0)) * PH;
    const arcs = ctx.ops("arc");
    // two validation rings (r 3.5), the start dot (r 3) at the first row, "now" (r 5.5) at the last
    const rings = arcs.filter((a) => a.args[2] === 3.5);
    expect(rings.map((a) => [a.args[0], a.args[1]])).toEqual([[X(6), Y(36)], [X(7.5), Y(25)]]);
    expect(rings[0].strokeStyle).toBe("#9a4f8f");
    const start = arcs.find((a) => a.args[2] === 3);
    expect([start.args[0], start.args[1]]).toEqual([X(5), Y(45)]);
    const now = arcs.find((a) => a.args[2] === 5.5);
    expect([now.args[0], now.args[1]]).toEqual([X(8), Y(22)]);
    expect(now.fillStyle).toBe("#e15759");
    // the path in the theme's −ELBO colour
    expect(ctx.ops("stroke").some((c) => c.strokeStyle === "#1f5fa8")).toBe(true);
    expect(p.readout.textContent).toBe("KL 8 · recon 22");
  });

  it("a dark theme draws the path and the rings in the dark colours", () => {
    const { p, ctx } = panel(400, DARK);
    p.update(s, EM);
    expect(ctx.ops("stroke").some((c) => c.strokeStyle === "#7fb2e5")).toBe(true);
    expect(ctx.ops("arc").find((a) => a.args[2] === 3.5).strokeStyle).toBe("#d9a2cf");
  });

  it("hover: the nearest row within 12 px, else the latest values", () => {
    const { p } = panel();
    p.update(s, EM);
    const { X, Y } = p.geom;
    hover(p.canvas, X(6) + 3, Y(34) - 2);
    expect(p.readout.textContent).toBe("step 20 · KL 6 · recon 34");
    hover(p.canvas, 1, 1);
    expect(p.readout.textContent).toBe("KL 8 · recon 22");
  });

  it("nearestPoint", () => {
    const d = { x: [0, 10], y: [0, 10] };
    const id = (v) => v;
    expect(nearestPoint(d, id, id, 9, 9)).toBe(1);
    expect(nearestPoint(d, id, id, 1, 0)).toBe(0);
    expect(nearestPoint(d, id, id, 30, 30)).toBe(-1);
  });
});

// @vitest-environment jsdom
import { hover, mountPanel } from "./canvas_recorder.js";
import { describe, expect, it } from "vitest";
import { MigPanel, fmtMig, migData, textOn } from "../src/vae/mig.js";

const TRAIT = {
  factors: ["shape", "scale", "pos_x"],
  latent_dim: 2,
  mi: [[0.9, 0.1, null], [0.05, 1.2, 0.3]],
  mi_normalized: [[0.82, 0.06, null], [0.04, 0.67, 1.4]],
  gaps: [0.78, 0.61, null],
  mig: 0.695,
  epoch: 3,
  history: [[1, 0.2], [2, 0.5], [3, 0.695], ["x", 1]],
};

describe("migData", () => {
  it("is null without factors (panel hidden)", () => {
    expect(migData({})).toBeNull();
    expect(migData(undefined)).toBeNull();
    expect(migData({ factors: [] })).toBeNull();
  });

  it("before the first measurement: factors known, nothing measured", () => {
    const d = migData({ factors: ["a", "b"], latent_dim: 4, history: [] });
    expect(d.measured).toBe(false);
    expect(d.dims).toBe(4);
    expect(Number.isNaN(d.mig)).toBe(true);
    expect(fmtMig(d.mig)).toBe("–");
  });

  it("shapes the matrix row-major (dim, factor), clamps to [0, 1], keeps gaps", () => {
    const d = migData(TRAIT);
    expect(d.measured).toBe(true);
    expect(d.dims).toBe(2);
    expect(Array.from(d.values.slice(0, 2)).map((v) => +v.toFixed(2))).toEqual([0.82, 0.06]);
    expect(Number.isNaN(d.values[2])).toBe(true); // null -> NaN (grey cell)
    expect(d.values[5]).toBe(1); // 1.4 clamped
    expect(d.best).toEqual([0, 1, 1]);
    expect(d.gaps[0]).toBe(0.78);
    expect(Number.isNaN(d.gaps[2])).toBe(true);
    expect(d.history).toEqual([[1, 0.2], [2, 0.5], [3, 0.695]]); // bad point dropped
    expect(fmtMig(d.mig)).toBe("0.695");
  });

  it("text colour readable on the colour map", () => {
    expect(textOn(0.1)).toBe("#fff");
    expect(textOn(0.9)).toBe("#111");
  });
});

describe("MigPanel", () => {
  const panel = (width = 0) => mountPanel((host) => new MigPanel(host), { width });

  it("hidden without factors, shown with them; score text escapes nothing odd", () => {
    const { host, p } = panel();
    expect(host.querySelector(".vw-panel-mig .vw-panel-title").textContent).toBe("Disentanglement");
    expect(p.el.hidden).toBe(true);
    expect(p.update({})).toBe(true);
    expect(p.el.hidden).toBe(true);
    p.update({ factors: ["<b>x</b>"], latent_dim: 2 });
    expect(p.el.hidden).toBe(false);
    expect(p.empty.hidden).toBe(false);
    expect(p.score.textContent).toBe("MIG –");
    // measured but the box has no width in jsdom: asks for a retry, the score is already set
    expect(p.update(TRAIT)).toBe(false);
    expect(p.score.textContent).toBe("MIG 0.695");
    expect(p.score.dataset.mig).toBe("0.695");
    expect(p.el.innerHTML).not.toContain("<b>x</b>");
  });

  it("draws a cell per (unit, factor) with its share, the best unit outlined, gaps and the MIG per epoch", () => {
    const { p, ctx } = panel(600);
    expect(p.update(TRAIT)).toBe(true);
    // 2 units x 3 factors, 40 px of row labels, cells 90 px wide (capped), 24 px high
    const cells = ctx.ops("fillRect");
    expect(cells.length).toBe(6);
    expect(cells[4].args).toEqual([40 + 90, 4 + 24, 89, 23]);
    expect(ctx.texts).toEqual(expect.arrayContaining(["0.82", "0.06", "z0", "z1", "shape", "scale", "pos_x", "gap", "0.78", "–", "MIG per epoch"]));
    // the missing value is a grey cell without text; the best unit of each factor is outlined
    expect(cells[2].fillStyle).toBe("#c8c8c8");
    expect(ctx.ops("strokeRect").map((c) => [c.args[0], c.args[1]])).toEqual([[41, 5], [131, 29], [221, 29]]);
    expect(p.readout.textContent).toBe("epoch 3");
    hover(p.canvas, 40 + 90 + 5, 4 + 24 + 5);
    expect(p.readout.textContent).toBe("z1 · scale · I = 1.200 nats (0.67 of H)");
  });

  it("a redraw while the pointer is over a cell keeps reading that cell out; leaving shows the epoch", () => {
    const { p } = panel(600);
    p.update(TRAIT);
    hover(p.canvas, 40 + 90 + 5, 4 + 24 + 5);
    p.update({ ...TRAIT });                       // a late update of the same epoch
    expect(p.readout.textContent).toBe("z1 · scale · I = 1.200 nats (0.67 of H)");
    p.canvas.dispatchEvent(new MouseEvent("mouseleave"));
    expect(p.readout.textContent).toBe("epoch 3");
    p.update({ ...TRAIT });
    expect(p.readout.textContent).toBe("epoch 3");
  });
});

// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { MigPanel, fmtMig, migData, textOn } from "../src/vae/mig.js";
import { h } from "../src/common/dom.js";

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
  const makePanel = (cls, title, caption, extras, ...body) => h(`div.vw-panel.${cls}`, {}, h("span", {}, title), ...extras, ...body);

  it("hidden without factors, shown with them; score text escapes nothing odd", () => {
    const p = new MigPanel(makePanel);
    expect(p.el.hidden).toBe(true);
    expect(p.update({}, {})).toBe(true);
    expect(p.el.hidden).toBe(true);
    p.update({ factors: ["<b>x</b>"], latent_dim: 2 }, {});
    expect(p.el.hidden).toBe(false);
    expect(p.empty.hidden).toBe(false);
    expect(p.score.textContent).toBe("MIG –");
    // measured but the box has no width in jsdom: asks for a retry, the score is already set
    expect(p.update(TRAIT, { font: "sans-serif" })).toBe(false);
    expect(p.score.textContent).toBe("MIG 0.695");
    expect(p.score.dataset.mig).toBe("0.695");
    expect(p.el.innerHTML).not.toContain("<b>x</b>");
  });
});
